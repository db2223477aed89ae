"""The hub's service mode (harness.sim.recovery): powered up with the reset button held, by the
bench's service jig, its bootloader installs the manufacturer-signed factory image and nothing
else, then boots it. Without the button the unit boots normally, and a power cut ends service
mode."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_sim_support import LOGIN_PROMPT, PROMPT, Console, SimProcess, supply

from harness.cli import SUITE_PLUGIN_OPTIONS
from harness.firmware import derive
from harness.firmware.serve import PackageServer

pytestmark = pytest.mark.integration
TIMEOUT = 10.0
SERVICE = "recovery> "


@pytest.fixture(scope="module")
def packages() -> Iterator[PackageServer]:
    with PackageServer("127.0.0.1") as server:
        yield server


def logged_in(sim: SimProcess) -> Console:
    con = sim.console("U1")
    con.send("")
    con.expect(LOGIN_PROMPT, timeout=TIMEOUT)
    assert con.login(sim.label("U1")).endswith(PROMPT)
    return con


def version(con: Console) -> str:
    m = re.search(r"firmware (\S+)\r\n", con.run("version"))
    assert m
    return m.group(1)


def service_jig(sim: SimProcess, uid: str = "U1") -> str:
    """The bench's jig, as a profile's `bench.run: [./tools/service-jig, UNIT]` runs it."""
    done = subprocess.run(["./tools/service-jig", uid], cwd=sim.run_dir, capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


def recovery(con: Console, command: str) -> str:
    con.send(command)
    return con.expect(re.escape(SERVICE), timeout=TIMEOUT)


def test_service_mode_installs_the_factory_image_only(tmp_path: Path, packages: PackageServer) -> None:
    with SimProcess(tmp_path, units=1) as sim, logged_in(sim) as con:
        firmware = sim.runtime["firmware"]
        factory = Path(firmware["delivered"]).read_bytes()
        con.send(f"update {packages.offer(Path(firmware['valid']).read_bytes(), 'valid.simfw')}")
        con.expect(re.escape("update: installing 1.5.0\r\n"), timeout=TIMEOUT)
        con.expect(LOGIN_PROMPT, timeout=TIMEOUT)
        assert con.login(sim.label("U1")).endswith(PROMPT)
        assert version(con) == "1.5.0"
        # The running firmware refuses the factory image: it is older (rollback protection holds).
        con.send(f"update {packages.offer(factory, 'factory.simfw')}")
        con.expect(re.escape("update: rejected: version 1.4.2 older than installed 1.5.0"), timeout=TIMEOUT)

        assert "service mode" in service_jig(sim)
        seen = con.expect(re.escape(SERVICE), timeout=TIMEOUT)
        assert "reset button held at power-on: service mode" in seen
        assert "installed 1.5.0, factory image 1.4.2" in recovery(con, "version")
        for name, data, refusal in (
                ("newer", Path(firmware["valid"]).read_bytes(), "not the factory image (version 1.5.0"),
                ("older", Path(firmware["older"]).read_bytes(), "not the factory image (version 1.4.1"),
                ("tampered", derive(factory, "flip_byte"), "signature invalid"),
                ("unsigned", derive(factory, "strip_signature"), "unsigned package")):
            out = recovery(con, f"install {packages.offer(data, name + '.simfw')}")
            assert f"recovery: refused: {refusal}" in out, (name, out)
        assert "recovery: fetch failed" in recovery(con, f"install {packages.base_url}/nothing-here")
        assert "unknown command" in recovery(con, "reboot")
        out = recovery(con, f"install {packages.offer(factory, 'factory.simfw')}")
        assert "recovery: writing 1.4.2\r\nrecovery: installed 1.4.2\r\n" in out
        con.send("boot")
        seen = con.expect(LOGIN_PROMPT, timeout=TIMEOUT)
        assert "recovery: booting" in seen and "firmware 1.4.2 (serial" in seen
        assert con.login(sim.label("U1")).endswith(PROMPT)
        assert version(con) == "1.4.2"


def test_without_the_button_a_power_cycle_boots_and_a_cut_ends_service_mode(tmp_path: Path) -> None:
    with SimProcess(tmp_path, units=1) as sim, logged_in(sim) as con, supply(sim) as psu:
        service_jig(sim)
        con.expect(re.escape(SERVICE), timeout=TIMEOUT)
        psu.output(False)  # a power cut in service mode: the next power-on boots the firmware
        psu.output(True)
        seen = con.expect(LOGIN_PROMPT, timeout=TIMEOUT)
        assert "firmware 1.4.2 (serial" in seen and SERVICE not in seen
        assert con.login(sim.label("U1")).endswith(PROMPT)
        assert version(con) == "1.4.2"


# -- the harness's update campaign, ended by the profile's restore_firmware ---------------------------
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("defect", [None, "accepts_tampered"])
def test_campaign_leaves_the_unit_on_its_delivered_firmware(tmp_path: Path, defect: str | None) -> None:
    """sim-compliant declares restore_firmware (the service jig and the factory image): the campaign
    ends on 1.4.2, not on the valid package's 1.5.0 — and with a defect that lets manipulated
    packages in, every round after one of them starts from the delivered firmware again."""
    import sys

    from harness.results import latest_by_case
    from harness.simctl import SimulatorProcess

    suite = str(ROOT / "test_suites" / "pytest" / "test_5_3_updates.py")
    with SimulatorProcess("compliant", tmp_path / "sim", defects={defect: None} if defect else {}, time_scale=0.0,
                          units=1) as sim:
        cmd = [sys.executable, "-m", "pytest", suite, "-q", *SUITE_PLUGIN_OPTIONS, "--rootdir", str(ROOT),
               "--profile", str(ROOT / "device_profiles" / "sim-compliant.yaml"), "--lab", str(sim.lab_path),
               "--run-dir", str(tmp_path / "run"), "--unit", "U1", "-k", "5_3_2_2"]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
        with Console(sim.runtime["units"]["U1"]["console"]) as con:
            con.send("")  # the harness may have left it logged in
            if con.expect(f"{LOGIN_PROMPT}|{PROMPT}", timeout=TIMEOUT).endswith(LOGIN_PROMPT):
                assert con.login(sim.secrets["SIM_U1_LABEL"]).endswith(PROMPT)
            assert version(con) == "1.4.2"  # the unit itself, not only the harness's evidence
    record = latest_by_case(tmp_path / "run")[("5.3-2-2", "U1")]
    assert record["verdict"] == ("PASS" if defect is None else "FAIL"), record["reason"]
    campaign = next(e for e in record["evidence"] if e["name"] == "update campaign")["data"][0]
    assert campaign["firmware at end"] == "1.4.2" and campaign["left on the delivered firmware"] is True, campaign
    assert "restore_firmware ok" in campaign["restore"], campaign
    if defect:
        assert campaign["restore"].count("restore_firmware ok") >= 2, campaign  # between rounds too
