"""The simulator as a process: readiness, persistence, time scale, lifetime, signals, run-dir lock."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_sim_support import LOGIN_PROMPT, PROMPT, ROOT, SimProcess

pytestmark = pytest.mark.integration


def test_state_persists_over_a_restart(tmp_path: Path) -> None:
    with SimProcess(tmp_path) as first:
        labels = dict(first.secrets)
        with first.console("U1") as con:
            con.attention()
            con.login(first.label("U1"))
            con.run("wifi set Persisted pskpsk")
            con.send("passwd")
            for prompt, answer in (("Current password: ", first.label("U1")), ("New password: ", "Kept-Pass-1"),
                                   ("Retype new password: ", "Kept-Pass-1")):
                con.expect(prompt)
                con.send(answer)
            con.expect("updated successfully")
        flash = json.loads((tmp_path / "flash" / "U1.json").read_text())
        assert flash["label"] == labels["SIM_U1_LABEL"] and flash["password"] == "Kept-Pass-1"
        assert (tmp_path / "flash" / "U1.json").stat().st_mode & 0o777 == 0o600
    assert not (tmp_path / "runtime.json").exists()
    with SimProcess(tmp_path) as second:
        assert second.secrets == labels
        with second.console("U1") as con:
            con.attention()
            assert "Login incorrect" in con.login(labels["SIM_U1_LABEL"])
            assert con.login("Kept-Pass-1").endswith(PROMPT)
            assert "ssid=Persisted" in con.run("wifi show")
    with SimProcess(tmp_path, defects=("sequential_label_passwords",)) as third:
        # Another label scheme in the same run directory is another product: new labels.
        assert third.label("U1") == "simpw-100041"


def test_sigterm_exits_cleanly_and_kills_nothing_else(tmp_path: Path) -> None:
    bystander = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"], start_new_session=True)
    try:
        sim = SimProcess(tmp_path).start()
        try:
            assert sim.terminate() == 0
            sim.proc = None
        finally:
            sim.stop()
        assert not (tmp_path / "runtime.json").exists()
        assert (tmp_path / "secrets.json").exists()
        assert "stopping (signal)" in sim.log()
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait(10)


def test_lifetime_bounds_the_process(tmp_path: Path) -> None:
    sim = SimProcess(tmp_path, lifetime=0.5).start()
    try:
        assert sim.proc is not None and sim.proc.wait(10) == 0
        assert not (tmp_path / "runtime.json").exists()
    finally:
        sim.stop()


def test_one_simulator_per_run_dir(tmp_path: Path) -> None:
    with SimProcess(tmp_path):
        other = subprocess.run([sys.executable, "-m", "harness.sim", "--run-dir", str(tmp_path), "--time-scale", "0",
                                "--lifetime", "5"], cwd=ROOT, capture_output=True, text=True, timeout=30)
        assert other.returncode == 1 and "in use" in other.stderr
        assert (tmp_path / "runtime.json").exists()  # the running one is undisturbed


def test_time_scale_stretches_device_delays(tmp_path: Path) -> None:
    # scale 0.25: boot 0.5 s, failed login 0.075 s
    with SimProcess(tmp_path, units=1, time_scale=0.25) as sim, sim.console("U1") as con:
        # Ask for the prompt: a console opened after the boot finished (pyserial's open flushes
        # the input) would never see the one printed at boot.
        con.send("")
        con.expect(LOGIN_PROMPT, timeout=5)
        assert time.monotonic() - sim.ready_at >= 0.4
        con.send("admin")
        con.expect("Password: ")
        start = time.monotonic()
        con.send("wrong")
        con.expect("Login incorrect")
        assert time.monotonic() - start >= 0.06
        con.send("admin")
        con.expect("Password: ")
        con.send(sim.label("U1"))
        con.expect(PROMPT)
        con.send("reboot")
        con.expect("Rebooting")
        start = time.monotonic()
        con.send("")  # input during the boot is ignored
        seen = con.expect(LOGIN_PROMPT, timeout=5)
        assert time.monotonic() - start >= 0.4
        assert con.quiet_for(0.2) == ""  # no extra prompt from the empty line typed during boot
        assert "SimIoT bootloader" in seen
