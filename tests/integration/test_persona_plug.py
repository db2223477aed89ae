"""Expected verdicts of the Voltiq P1 plug persona (docs/personas/plug.md): the plug simulator with
each single defect switch against the real suites, judged with device_profiles/sim-plug.yaml (the
profile written from the manual, YAML only). FAIL on each defect, PASS without it, every verdict
asserted exactly."""

from __future__ import annotations

import base64
import json
import os
import shutil
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import serial
import yaml

from harness.cli import SUITE_PLUGIN_OPTIONS
from harness.results import latest_by_case
from harness.simctl import SimulatorProcess

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "test_suites" / "pytest"
PROFILE = ROOT / "device_profiles" / "sim-plug.yaml"

CAN_CAPTURE = os.geteuid() == 0 and shutil.which("tcpdump") is not None
pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not os.access("/usr/sbin/mosquitto", os.X_OK),
                                 reason="Mosquitto not installed (the plug's cloud broker)")]

# Test cases judged per unit. The quick ones run in every scenario (a defect must not break them);
# the slow ones (dictionaries, injections, the capture) run in the baseline and where the defect
# is expected to fail them.
QUICK = ("5.1-4-2", "5.11-1-2", "5.5-5-2")
SLOW = ("5.1-1-2", "5.1-5-2", "5.13-1-2", "5.9-1-2", "5.9-2-2", "5.6-2-2")
TRAFFIC = ("5.5-1-2", "5.5-7-2", "5.8-2-2", "5.1-3-2")  # from the passive capture: root and tcpdump
ACROSS_UNITS = {"5.1-2-1": None, "5.1-2-2": "*"}  # from 5.1-1-2 on two units
SUITE_FILES = ["test_5_1_passwords.py", "test_5_1_5_brute_force.py", "test_5_11_erasure.py", "test_5_5_communication.py",
               "test_5_9_resilience.py", "test_5_6_surface.py", "test_5_8_personal_data.py", "test_5_1_3_authentication_channel.py"]

# scenario: (defect or None, units, {test case: verdict}); test cases not listed are PASS.
SCENARIOS: dict[str, tuple[str | None, int, dict[str, str]]] = {
    # The cloud broker is fixed in firmware: no rogue-broker part of 5.5-1-2, no outage (5.9-2-2).
    "baseline": (None, 2, {"5.5-1-2": "INCONCLUSIVE", "5.9-2-2": "INCONCLUSIVE"}),
    "default_password": ("default_password", 2, {"5.1-1-2": "FAIL", "5.1-2-1": "FAIL", "5.1-2-2": "FAIL"}),
    "mqtt_plaintext_creds": ("mqtt_plaintext_creds", 1, {"5.5-1-2": "FAIL", "5.5-7-2": "FAIL", "5.8-2-2": "FAIL",
                                                         "5.1-3-2": "FAIL"}),
    "setting_injection": ("setting_injection", 1, {"5.13-1-2": "FAIL"}),
    "reset_keeps_settings": ("reset_keeps_settings", 1, {"5.11-1-2": "FAIL"}),
    # Any password "logs in" on an endpoint that checks none: the web dictionary finds working
    # credentials, the old password still works after a change, and `Status 0` tells a stranger
    # the firmware version, serial number and MAC.
    "open_command_endpoint": ("open_command_endpoint", 1, {"5.5-5-2": "FAIL", "5.1-1-2": "FAIL", "5.1-4-2": "FAIL",
                                                           "5.6-2-2": "FAIL"}),
}
# A tiny default-credential dictionary: the persona's passwords are either random or `admin`, and
# the empty password exercises the console's "prompt again" refusal.
DICTIONARY = "username,password\nadmin,admin\nadmin,\nadmin,password\nadmin,1234\nroot,root\n"


def expected(scenario: str) -> dict[tuple[str, str | None], str]:
    _, units, overrides = SCENARIOS[scenario]
    unit_ids = [f"U{i}" for i in range(1, units + 1)]
    slow = SLOW + (TRAFFIC if CAN_CAPTURE else ())
    cases = list(QUICK) + [tc for tc in slow if SCENARIOS[scenario][0] is None or tc in overrides]
    out: dict[tuple[str, str | None], str] = {(tc, u): overrides.get(tc, "PASS") for tc in cases for u in unit_ids}
    if units >= 2 and "5.1-1-2" in cases:
        out.update({(tc, key): overrides.get(tc, "PASS") for tc, key in ACROSS_UNITS.items()})
    return out


def _keyword(test_case: str) -> str:
    return test_case.replace(".", "_").replace("-", "_")


def bench_profile(tmp: Path, units: int, *, fast: bool = True) -> Path:
    """The manual's profile with only the units that run. `fast`, for a simulator at --time-scale 0
    (no console input flush): no settle before sends, a short quiet for the drains."""
    doc = yaml.safe_load(PROFILE.read_text())
    doc["units"] = doc["units"][:units]
    if fast:
        doc["links"]["console"]["settle"] = 0
        for steps in doc["procedures"].values():
            for step in steps:
                if "console.drain" in step:
                    step["quiet"] = 0.05
    path = tmp / "sim-plug-bench.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


class PlugSimulator(SimulatorProcess):
    """`harness sim --persona plug` as a child process (harness.simctl), with its secrets."""

    def __init__(self, run_dir: Path, units: int, defects: list[str], time_scale: float = 0.0) -> None:
        super().__init__("plug", run_dir, defects=dict.fromkeys(defects), units=units, time_scale=time_scale,
                         lifetime=600.0)
        self.secrets: dict[str, str] = {}

    def start(self, timeout: float = 30.0) -> PlugSimulator:
        super().start(timeout)
        self.secrets = json.loads((self.run_dir / "secrets.json").read_text())
        return self


def run_scenario(scenario: str, tmp: Path) -> dict:
    defect, units, _ = SCENARIOS[scenario]
    return run_suites(tmp, units, [defect] if defect else [], {tc for tc, _ in expected(scenario)})


def run_suites(tmp: Path, units: int, defects: list[str], cases: set[str], time_scale: float = 0.0) -> dict:
    dictionary = tmp / "dictionary.csv"
    dictionary.write_text(DICTIONARY)
    profile = bench_profile(tmp, units, fast=time_scale == 0)
    with PlugSimulator(tmp / "sim", units, defects, time_scale) as sim:
        run_dir = tmp / "run"
        cmd = [sys.executable, "-m", "pytest", *(str(SUITES / f) for f in SUITE_FILES), "-q", *SUITE_PLUGIN_OPTIONS,
               "--rootdir", str(ROOT), "--profile", str(profile), "--lab", str(sim.run_dir / "lab.yaml"),
               "--run-dir", str(run_dir), "--dictionary", str(dictionary),
               "-k", " or ".join(sorted(_keyword(tc) for tc in cases))]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=400)
        assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
        return latest_by_case(run_dir)


def verdict_diff(want: dict, got: dict) -> dict[str, tuple]:
    actual = {k: r["verdict"] for k, r in got.items()}
    return {f"{k[0]} {k[1]}": (want.get(k), actual.get(k), got.get(k, {}).get("reason", "")[:300])
            for k in set(want) | set(actual) if want.get(k) != actual.get(k)}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_plug_expected_verdicts(scenario: str, tmp_path: Path) -> None:
    diff = verdict_diff(expected(scenario), run_scenario(scenario, tmp_path))
    assert not diff, json.dumps(diff, indent=1)


def test_profile_as_written_works_at_device_speed(tmp_path: Path) -> None:
    """The profile unchanged (its console settle and drains) on a plug with real delays and the
    console's input flush: logins, settings typed on the console, a factory reset and the boot after it."""
    cases = {"5.11-1-2"}
    got = run_suites(tmp_path, 1, [], cases, time_scale=1.0)
    diff = verdict_diff({(tc, "U1"): "PASS" for tc in cases}, got)
    assert not diff, json.dumps(diff, indent=1)


# --- the simulator itself ---------------------------------------------------------------------------

def _sim(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "harness.sim", "--persona", "plug", *args], cwd=ROOT,
                          capture_output=True, text=True, timeout=60)


def test_command_line_lists_defects_and_refuses_bad_input(tmp_path: Path) -> None:
    listed = _sim("--list-defects")
    assert listed.returncode == 0
    assert {line.split()[0] for line in listed.stdout.splitlines()} == {
        "mqtt_plaintext_creds", "setting_injection", "reset_keeps_settings", "open_command_endpoint",
        "default_password"}
    assert _sim("--run-dir", str(tmp_path), "--units", "0").returncode == 2
    assert _sim("--run-dir", str(tmp_path), "--defect", "no_such_defect").returncode == 2
    assert _sim("--units", "1").returncode == 2  # no --run-dir


def _children(pid: int) -> list[int]:
    out: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        out += [int(c) for c in (task / "children").read_text().split()]
    return out


def _gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:  # not our child: poll /proc, bounded
        try:
            if Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1].startswith("Z"):
                return True
        except (OSError, IndexError):
            return True
        time.sleep(0.05)
    return False


def test_cloud_broker_ends_when_the_simulator_is_killed(tmp_path: Path) -> None:
    with PlugSimulator(tmp_path / "sim", 1, []) as sim:
        assert sim.proc is not None
        brokers = [c for c in _children(sim.proc.pid)
                   if "mosquitto" in Path(f"/proc/{c}/cmdline").read_bytes().decode(errors="replace")]
        assert len(brokers) == 1
        started = time.monotonic()
        sim.proc.kill()  # no chance to clean up: the reaper must end the broker
        sim.proc.wait(10)
        assert _gone(brokers[0], 5.0), "the cloud broker outlived a killed simulator"
        assert time.monotonic() - started < 5.0
        config = (sim.run_dir / "cloud-broker" / "tls.conf").read_text()
        private = Path(config.split("password_file ", 1)[1].split()[0]).parent
        deadline = time.monotonic() + 5.0
        while private.exists() and time.monotonic() < deadline:  # the reaper removes it after the broker
            time.sleep(0.05)
        assert not private.exists(), f"the cloud broker's keys and password file stayed in {private}"


def _scpi(resource: str, *commands: str) -> None:
    host, port = resource.split("::")[1:3]
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        for command in commands:
            conn.sendall(command.encode() + b"\n")
        conn.sendall(b"*OPC?\n")  # answered after every command before it took effect
        assert conn.recv(64).strip() == b"1"


def _cm(sim: PlugSimulator, command: str, *, auth: bool = True, timeout: float = 5.0) -> dict:
    unit = sim.runtime["units"]["U1"]
    url = f"https://{unit['address']}:8443/cm?cmnd={urllib.parse.quote(command)}"
    request = urllib.request.Request(url)
    if auth:
        token = base64.b64encode(f"admin:{sim.secrets['PLUG_U1_LABEL']}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    ctx = ssl.create_default_context(cafile=sim.runtime["https"]["ca"])
    with urllib.request.urlopen(request, context=ctx, timeout=timeout) as answer:
        return json.loads(answer.read())


def test_power_cut_closes_the_web_and_the_button_restores_factory_settings(tmp_path: Path) -> None:
    with PlugSimulator(tmp_path / "sim", 1, []) as sim:
        supply = sim.runtime["units"]["U1"]["supply"]
        with pytest.raises(urllib.error.HTTPError) as refused:
            _cm(sim, "Status", auth=False)
        assert refused.value.code == 401
        assert refused.value.headers["WWW-Authenticate"] == 'Basic realm="Voltiq P1"'
        assert _cm(sim, "SSId1 bench-net") == {"SSId1": "bench-net"}
        _scpi(supply, "OUTP 0")
        with pytest.raises(urllib.error.URLError):
            _cm(sim, "Status")
        _scpi(supply, "OUTP 1")
        assert _cm(sim, "Status 5", timeout=15)["StatusNET"]["SSId"] == "bench-net"  # kept over a power cut
        _scpi(supply, "ROUT:CLOS (@1)", "ROUT:OPEN (@1)")  # held long enough at --time-scale 0
        assert _cm(sim, "Status 5", timeout=15)["StatusNET"]["SSId"] == ""


def _read_until(port: serial.Serial, marker: bytes, timeout: float) -> bytes:
    got = b""
    deadline = time.monotonic() + timeout
    while marker not in got and time.monotonic() < deadline:
        got += port.read(256)
    return got


def test_console_asks_only_for_a_password_and_drops_input_typed_too_early(tmp_path: Path) -> None:
    with PlugSimulator(tmp_path / "sim", 1, [], time_scale=1.0) as sim:
        unit = sim.runtime["units"]["U1"]
        with serial.Serial(unit["console"], 115200, timeout=0.1) as port:
            port.write(b"\r")
            assert _read_until(port, b"Password: ", 5).endswith(b"Password: ")
            port.write(sim.secrets["PLUG_U1_LABEL"].encode() + b"\r")  # at once: flushed with the input buffer
            assert b"voltiq> " not in _read_until(port, b"voltiq> ", 1.0)
            port.write(b"\r")  # the Enter after the flush: an empty password, the prompt again
            assert _read_until(port, b"Password: ", 5).endswith(b"Password: ")
            time.sleep(0.6)  # the quiet the manual asks for (device time: the console's flush)
            port.write(b"wrong-password\r")
            assert b"Wrong password" in _read_until(port, b"Password: ", 5)
            time.sleep(0.6)
            port.write(sim.secrets["PLUG_U1_LABEL"].encode() + b"\r")
            assert _read_until(port, b"voltiq> ", 5).endswith(b"voltiq> ")


def test_profile_bench_procedures_power_cycle_and_press_the_button(tmp_path: Path) -> None:
    """The profile's supply and relay steps on the bench kit: a power cycle keeps the settings, the
    button held (relay channel 1) restores the factory ones."""
    from harness.device import Device
    from harness.profile.resolve import open_bench

    with PlugSimulator(tmp_path / "sim", 1, []) as sim:
        bench = open_bench(bench_profile(tmp_path, 1), sim.run_dir / "lab.yaml")
        device = Device(bench, "U1", transcript_dir=tmp_path / "transcripts", settle_scale=0.0)
        try:
            device.ensure("logged_in")
            assert device.run("set_user_data", ssid="bench-net", psk="bench-key-123").ok
            assert device.run("power_cycle").ok
            device.state.session = "logged_out"
            device.ensure("logged_in")
            assert device.run("read_user_data").captures["ssid"] == "bench-net"
            assert device.run("reset_button").ok
            device.state.session = "logged_out"
            device.ensure("logged_in")
            assert device.run("read_user_data").captures["ssid"] == ""
        finally:
            device.close()
