"""Lab faults at several moments of a run: the unit killed, the unit frozen (SIGSTOP), the lab
broker killed, the unit's power cut by the bench. Whatever the moment, no test case judged after
the fault is PASS or FAIL (INCONCLUSIVE with the cause, or a genuine verdict after a recovery the
evidence names), the run ends within its bound and never exits 0."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.results import case_records
from harness.simctl import SimulatorProcess

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "device_profiles" / "sim-compliant.yaml"
CONSOLE_CASES = "5_1_4_2 or 5_5_5_2 or 5_6_2_2 or 5_11_1_2 or 5_3_16_2"
BROKER_CASES = "5_5_7_2 or 5_8_2_2 or 5_6_2_2 or 5_11_1_2"
RUN_BOUND_S = 240.0


def _run(sim: SimulatorProcess, run_dir: Path, cases: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "harness.cli", "run", str(PROFILE), "--lab", str(sim.lab_path), "--unit", "U1",
           "--run-dir", str(run_dir), "--no-allure", "--quiet", "--", "-k", cases]
    log = open(run_dir.parent / "run.log", "wb")  # noqa: SIM115 - handed to the child
    return subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def _await_records(proc: subprocess.Popen[bytes], run_dir: Path, n: int, bound: float = 120.0) -> None:
    deadline = time.monotonic() + bound
    while len(case_records(run_dir)) < n and proc.poll() is None and time.monotonic() < deadline:
        try:
            proc.wait(0.05)
        except subprocess.TimeoutExpired:
            pass
    assert len(case_records(run_dir)) >= n, "the run ended before the fault's moment"


def _finish(proc: subprocess.Popen[bytes]) -> int:
    try:
        return proc.wait(RUN_BOUND_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)
        pytest.fail(f"the run hung after the fault (> {RUN_BOUND_S:g} s)")


def _after(run_dir: Path, moment: float) -> list[dict]:
    """Records of test cases that started after the fault."""
    from datetime import datetime
    return [r for r in case_records(run_dir)
            if datetime.fromisoformat(r["started"]).timestamp() >= moment]


def _bury(sim: SimulatorProcess) -> list[object]:
    """After a SIGKILL: keep the dead unit's addresses and consoles from being taken over by another
    test's simulator meanwhile (pty numbers and address blocks are handed out again at once), so
    the run probes nothing but the dead unit. Returns the claims to hold until the test ends."""
    import json

    from harness.sim.presence import claim
    claims: list[object] = []
    for unit in sim.runtime["units"].values():
        try:
            claims.append(claim(unit["address"]))
        except OSError:
            pass  # already taken by another simulator: the console check below still holds
    runtime = sim.run_dir / "runtime.json"
    if runtime.exists():
        facts = json.loads(runtime.read_text())
        for uid, unit in facts["units"].items():
            unit["console"] = f"/dev/pts/harness-gone-{uid}"
        runtime.write_text(json.dumps(facts))
    return claims


def _sim_pid(sim: SimulatorProcess) -> int:
    assert sim.proc is not None
    return sim.proc.pid


@pytest.mark.parametrize("after_records", [0, 2])
def test_unit_killed(tmp_path: Path, after_records: int) -> None:
    with SimulatorProcess("compliant", tmp_path / "sim", time_scale=0.0) as sim:
        run_dir = tmp_path / "run"
        claims: list[object] = []
        if after_records == 0:
            os.kill(_sim_pid(sim), signal.SIGKILL)
            sim.proc.wait(10)  # type: ignore[union-attr]
            claims = _bury(sim)
        proc = _run(sim, run_dir, CONSOLE_CASES)
        if after_records:
            _await_records(proc, run_dir, after_records)
            os.kill(_sim_pid(sim), signal.SIGKILL)
            sim.proc.wait(10)  # type: ignore[union-attr]
            claims = _bury(sim)
        moment = time.time()
        code = _finish(proc)
        for sock in claims:
            sock.close()  # type: ignore[attr-defined]
    later = _after(run_dir, moment)
    assert later, "no test case ran after the fault"
    assert {r["verdict"] for r in later} == {"INCONCLUSIVE"}, [(r["test_case"], r["verdict"], r["reason"]) for r in later]
    assert code == 3


@pytest.mark.parametrize("after_records", [0, 2])
def test_unit_frozen(tmp_path: Path, after_records: int) -> None:
    with SimulatorProcess("compliant", tmp_path / "sim", time_scale=0.0) as sim:
        run_dir = tmp_path / "run"
        pid = _sim_pid(sim)
        if after_records == 0:
            os.kill(pid, signal.SIGSTOP)
        proc = _run(sim, run_dir, CONSOLE_CASES)
        try:
            if after_records:
                _await_records(proc, run_dir, after_records)
                os.kill(pid, signal.SIGSTOP)
            moment = time.time()
            code = _finish(proc)
        finally:
            os.kill(pid, signal.SIGCONT)  # so the simulator can be stopped cleanly
    later = _after(run_dir, moment)
    assert later, "no test case ran after the fault"
    assert {r["verdict"] for r in later} == {"INCONCLUSIVE"}, [(r["test_case"], r["verdict"], r["reason"]) for r in later]
    assert code == 3


def _brokers_of(pid: int) -> list[int]:
    """Mosquitto processes started by the run (children of its pytest)."""
    out = subprocess.run(["ps", "-eo", "pid,ppid,comm"], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines()[1:]]
    children: dict[int, list[tuple[int, str]]] = {}
    for p, pp, comm in (r for r in rows if len(r) == 3):
        children.setdefault(int(pp), []).append((int(p), comm))
    found, todo = [], [pid]
    while todo:
        for child, comm in children.get(todo.pop(), []):
            todo.append(child)
            if comm == "mosquitto":
                found.append(child)
    return found


def _first_ports(broker_dir: Path) -> set[int]:
    """The ports the run's first lab broker listened on (each listener's log is appended to when
    the broker is started again, so its first "Opening ... listen socket" line is the first start's)."""
    import re
    ports = set()
    for log in broker_dir.glob("p*/*.log"):
        found = re.search(r"Opening ipv[46] listen socket on port (\d+)", log.read_text(errors="replace"))
        if found:
            ports.add(int(found.group(1)))
    return ports


def _serving(run_dir: Path) -> bool:
    """The lab broker is fully up: the capture subscribed on its last listener (rogue)."""
    return any("Received SUBSCRIBE from harness-capture-rogue" in log.read_text(errors="replace")
               for log in (run_dir / "broker").glob("p*/rogue.log"))


@pytest.mark.parametrize("moment", ["starting", "serving"])
def test_broker_killed_mid_run(tmp_path: Path, moment: str) -> None:
    """The lab broker's three listeners killed while the broker starts (the first start then
    fails, and the next test case that needs it starts it again) or once it serves. A broker test
    case that started after the kill is INCONCLUSIVE, or judged on a broker started again: then its
    evidence names the failed start, the listeners it rests on were proven alive at the end of its
    capture window, and none is a killed listener's port. (A PASS judged on the restarted broker
    without saying so was once taken for a false PASS on a killed listener.)"""
    with SimulatorProcess("compliant", tmp_path / "sim", time_scale=0.0) as sim:
        run_dir = tmp_path / "run"
        proc = _run(sim, run_dir, BROKER_CASES)
        deadline = time.monotonic() + 60
        brokers: list[int] = []
        # The lab broker's three listeners (plain, TLS, rogue) start one after the other: kill
        # them all, not just the first one up.
        while (len(brokers) < 3 or (moment == "serving" and not _serving(run_dir))) \
                and proc.poll() is None and time.monotonic() < deadline:
            brokers = _brokers_of(proc.pid)
            try:
                proc.wait(0.05)
            except subprocess.TimeoutExpired:
                pass
        assert len(brokers) == 3, f"the run started {len(brokers)} lab broker listener(s), not 3"
        if moment == "serving":
            assert _serving(run_dir), "the lab broker never served"
        for pid in brokers:
            os.kill(pid, signal.SIGKILL)
        moment_t = time.time()
        killed = _first_ports(run_dir / "broker")
        code = _finish(proc)
    assert len(killed) == 3, killed
    records = case_records(run_dir)
    broker_cases = [r for r in records if r["test_case"] in ("5.5-7-2", "5.8-2-2")
                    and r["started"] and r in _after(run_dir, moment_t)]
    assert broker_cases, [(r["test_case"], r["verdict"]) for r in records]
    for r in broker_cases:
        if r["verdict"] == "INCONCLUSIVE":
            continue
        evidence = {e["name"]: e["data"] for e in r["evidence"]}
        assert moment == "starting", (r["test_case"], r["verdict"], r["reason"])  # no restart once it served
        assert "lab broker started again after a failed start" in evidence, (r["test_case"], r["reason"])
        listeners = evidence["lab broker listeners proven alive at the end of the capture window"]
        used = {int(row["url"].rsplit(":", 1)[1]) for row in listeners}
        assert {row["listener"] for row in listeners} == {"plain", "tls"}
        assert not used & killed, (used, killed)
    # Killed once it served, the broker under some test case went away: exit 3. Killed while it
    # started (in the background, ahead of the first test case that needs it), the start failed
    # before any test case relied on it; the first one that did started it again and says so
    # above: a run whose every verdict stands may end 0.
    assert code == 3 if moment == "serving" else code in (0, 3)


def _bench_run_profile(tmp_path: Path) -> Path:
    """The hub's profile with its power cycle done by a lab tool (`bench.run`) instead of the
    pyvisa supply link: the same recovery must work through it."""
    tool = ROOT / "fixtures" / "bench" / "scpi_power.py"
    text = PROFILE.read_text(encoding="utf-8")
    for unit in ("U1", "U2", "U3"):
        text = text.replace(f"supply: {{resource: {{runtime: units.{unit}.supply}}}}}}",
                            f"supply: {{resource: {{runtime: units.{unit}.supply}}}}}}\n"
                            f"    vars: {{supply: {{runtime: units.{unit}.supply}}}}")
    old = "    - supply.power_cycle: power_off\n"
    assert old in text
    text = text.replace(old, f"    - bench.run: [{sys.executable}, {tool}, '{{{{unit.vars.supply}}}}', 'off']\n"
                             "    - settle: power_off\n"
                             f"    - bench.run: [{sys.executable}, {tool}, '{{{{unit.vars.supply}}}}', 'on']\n")
    path = ROOT / "device_profiles" / f".bench-run-{os.getpid()}.yaml"  # beside the original: same relative paths
    path.write_text(text, encoding="utf-8")
    return path


@pytest.mark.parametrize("power", ["instrument", "bench_run"])
def test_power_cut_by_the_bench_is_recovered(tmp_path: Path, power: str) -> None:
    """The unit loses power between test cases (the bench supply output off): the next test case
    finds it dead, power-cycles it through the profile's procedure — the pyvisa supply link, or a
    lab tool run by `bench.run` — and judges it; the evidence says so. No verdict rests on the unit
    while it was off."""
    global PROFILE
    original = PROFILE
    if power == "bench_run":
        PROFILE = _bench_run_profile(tmp_path)
    try:
        _power_cut(tmp_path)
    finally:
        if PROFILE != original:
            PROFILE.unlink()
        PROFILE = original


def _power_cut(tmp_path: Path) -> None:
    with SimulatorProcess("compliant", tmp_path / "sim", time_scale=0.0) as sim:
        run_dir = tmp_path / "run"
        resource = sim.runtime["units"]["U1"]["supply"]
        proc = _run(sim, run_dir, CONSOLE_CASES)
        _await_records(proc, run_dir, 1)
        _scpi(resource, "OUTP OFF")
        code = _finish(proc)
    records = case_records(run_dir)
    recovered = [r for r in records if any(e.get("name") == "recovery" for e in r.get("evidence", []))]
    assert recovered, [(r["test_case"], r["verdict"]) for r in records]
    assert code in (0, 3)


def _scpi(resource: str, command: str) -> None:
    """One SCPI command to the simulated bench supply (TCPIP::host::port::SOCKET)."""
    import socket
    parts = resource.split("::")
    with socket.create_connection((parts[1], int(parts[2])), timeout=5) as sock:
        sock.sendall(command.encode() + b"\nOUTP?\n")  # the query answers once the output is off
        assert sock.makefile("rb").readline().strip() in (b"0", b"OFF")
