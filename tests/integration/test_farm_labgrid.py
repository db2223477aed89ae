"""labgrid places with real parts: a labgrid-coordinator and a labgrid-exporter (which runs Debian's
ser2net for the simulator's console ptys) and a simplerest power port on the simulator's supply.
A run asking for a held place queues (bounded) instead of colliding, then runs the PSTI console
suites through the place; an exporter killed mid-run gives INCONCLUSIVE and the place is released."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_matrix import ONLY_SERIAL  # tests/integration is on sys.path (rootdir import mode)

from harness.results import latest_by_case
from harness.simctl import SimulatorProcess

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "device_profiles" / "sim-compliant.yaml"
CONSOLE_CASES = ("5.1-1-2", "5.1-4-2", "5.11-1-2")
HAVE_LABGRID = importlib.util.find_spec("labgrid") is not None
HAVE_SER2NET = bool(shutil.which("ser2net")) or Path("/usr/sbin/ser2net").exists()
# CI that installs the farm extra sets HARNESS_FARM=1: then a missing part is an error, not a skip.
pytestmark = pytest.mark.skipif(not (HAVE_LABGRID and HAVE_SER2NET) and os.environ.get("HARNESS_FARM") != "1",
                                reason="needs labgrid (pip install '.[farm]') and ser2net (Debian package ser2net)")


@pytest.fixture(scope="module")
def farm(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[SimulatorProcess, object]]:
    from harness.farm.localfarm import LocalFarm
    tmp = tmp_path_factory.mktemp("farm")
    with SimulatorProcess("compliant", tmp / "sim", time_scale=0.0) as sim, \
            LocalFarm(tmp / "labgrid", {"U1": sim.runtime["units"]["U1"]}) as lab:
        yield sim, lab


VISA_SUPPLY = "supply: {resource: {runtime: units.U1.supply}}"
PLACE_SUPPLY = "supply: {labgrid_power: {runtime: units.U1.power}}"
RESILIENCE = str(ROOT / "test_suites" / "pytest" / "test_5_9_resilience.py")


def _placed_profile(tmp: Path) -> Path:
    """The compliant profile with its supply switched through the place's power port."""
    text = PROFILE.read_text()
    assert VISA_SUPPLY in text
    profile = tmp / "sim-compliant-placed.yaml"
    profile.write_text(text.replace(VISA_SUPPLY, PLACE_SUPPLY))
    return profile


def _run(sim: SimulatorProcess, lab: object, run_dir: Path, *extra: str, profile: Path = PROFILE,
         select: tuple[str, ...] = (*ONLY_SERIAL, "-k", "5_1 or 5_11")) -> list[str]:
    return [sys.executable, "-m", "harness.cli", "run", str(profile), "--lab", str(sim.lab_path), "--unit", "U1",
            "--place", "U1=sim-u1", "--coordinator", lab.address, "--run-dir", str(run_dir),  # type: ignore[attr-defined]
            "--no-allure", *extra, "--", *select]


def _place_state(lab: object) -> str:
    return lab.client().run("-p", "sim-u1", "show")  # type: ignore[attr-defined]


def test_power_through_the_place(farm: tuple) -> None:
    from harness.farm.places import PlaceRequest, PlaceSession
    from harness.farm.power import LabgridPower
    sim, lab = farm
    with PlaceSession([PlaceRequest("U1", name="sim-u1")], client=lab.client(), wait=30) as facts:
        power = LabgridPower.from_facts(facts["U1"].power or {})
        assert power.get() is True
        power.cycle(0.2)
        assert power.get() is True
    assert "acquired: None" in _place_state(lab)


def test_a_procedure_power_cycles_the_unit_through_the_place(farm: tuple, tmp_path: Path) -> None:
    """The profile's `power_cycle` procedure (`supply.power_cycle: power_off`) on a unit whose supply link
    names the place's power port: the outlet (labgrid's simplerest back-end, via the exporter's
    NetworkPowerPort) goes off and on, and the unit boots again on the place's console."""
    from harness.channel import PowerPortChannel
    from harness.device import Device
    from harness.farm.places import PlaceRequest, PlaceSession, overlay_runtime
    from harness.profile.resolve import open_bench
    sim, lab = farm
    profile = _placed_profile(tmp_path)
    with PlaceSession([PlaceRequest("U1", name="sim-u1")], client=lab.client(), wait=30) as facts:
        runtime = tmp_path / "runtime.json"
        runtime.write_text(json.dumps(overlay_runtime(sim.runtime, facts)))
        bench = open_bench(profile, sim.lab_path, runtime_path=runtime)
        device = Device(bench, "U1", transcript_dir=tmp_path / "transcripts", settle_scale=0.0)
        try:
            supply = device.link("supply")
            assert isinstance(supply, PowerPortChannel) and supply.state is True
            console = device.link("console")
            assert console.url.startswith("rfc2217://")  # the place's console too
            device.ensure("logged_in")
            mark = console.transcript.mark()
            assert device.run("power_cycle").ok
            seen = console.transcript.read_since(mark)
            assert "SimIoT bootloader" in seen and "login:" in seen, seen[-2000:]  # it booted again
            used = device.instruments_used["supply"]
            assert used["backend"] == "labgrid:simplerest" and "sim-u1" not in used["resource"]
            assert any("off for 0.5 s" in line for line in supply.evidence()["transcript"])  # settle power_off
            assert supply.power.get() is True
            device.state.session = "logged_out"
            device.ensure("logged_in")  # the unit works after the cycle
        finally:
            device.close()
    assert "acquired: None" in _place_state(lab)


def test_a_held_place_queues_the_next_run(farm: tuple, tmp_path: Path) -> None:
    from harness.farm.places import PlaceRequest, PlaceSession
    sim, lab = farm
    holder = PlaceSession([PlaceRequest("U1", name="sim-u1")], client=lab.client(), wait=30)
    holder.open()
    try:
        # Bounded: a run that cannot have its place within --place-wait ends with exit 3, nothing judged.
        quick = subprocess.run(_run(sim, lab, tmp_path / "quick", "--place-wait", "3"), cwd=ROOT,
                               capture_output=True, text=True, timeout=120)
        assert quick.returncode == 3, quick.stdout[-2000:] + quick.stderr[-2000:]
        assert "no place for name=sim-u1 within 3 s" in quick.stderr
        assert not (tmp_path / "quick" / "results").exists()
        # Cancelled while queued (SIGTERM): it leaves no reservation behind.
        import signal
        cancelled = subprocess.Popen(_run(sim, lab, tmp_path / "cancelled", "--place-wait", "120"), cwd=ROOT,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert cancelled.stdout is not None
        assert "reserving place sim-u1" in cancelled.stdout.readline()
        deadline = time.monotonic() + 30
        while lab.client().run("reservations").count("Reservation '") < 2 and time.monotonic() < deadline:
            pass  # each query is a coordinator round trip: paced and bounded
        cancelled.send_signal(signal.SIGTERM)
        assert cancelled.wait(60) == 130
        assert lab.client().run("reservations").count("Reservation '") == 1  # only the holder's
        # Queued: the run waits while the place is held, then runs once it is released. Its supply
        # is the place's power port, and a power-loss test case cycles the unit through it.
        select = (*[a for a in ONLY_SERIAL if a != f"--ignore={RESILIENCE}"], "-k", "5_1 or 5_11 or 5_9_1_2")
        waiting = subprocess.Popen(_run(sim, lab, tmp_path / "queued", "--place-wait", "120",
                                        profile=_placed_profile(tmp_path), select=select), cwd=ROOT,
                                   stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert waiting.stdout is not None
        first = waiting.stdout.readline()
        assert "reserving place sim-u1" in first, first
        reservations = lab.client().run("reservations")
        deadline = time.monotonic() + 30
        while "state: waiting" not in reservations and time.monotonic() < deadline:
            reservations = lab.client().run("reservations")  # paced by the coordinator round trips
        assert "state: waiting" in reservations
        assert waiting.poll() is None
    finally:
        holder.close()
    rest, _ = waiting.communicate(timeout=600)
    assert "acquired place sim-u1" in rest and "released place sim-u1" in rest
    places = (tmp_path / "queued" / "farm" / "places.json").read_text()
    assert "rfc2217://127.0.0.1:" in places and "simplerest" in places
    assert "acquired: None" in _place_state(lab)
    # The console suites ran through the place: its NetworkSerialPort (the exporter's ser2net); the
    # power-loss case cut and restored power through the place's power port.
    got = latest_by_case(tmp_path / "queued")
    verdicts = {tc: got.get((tc, "U1"), {}).get("verdict") for tc in (*CONSOLE_CASES, "5.9-1-2")}
    assert verdicts == dict.fromkeys((*CONSOLE_CASES, "5.9-1-2"), "PASS"), rest[-3000:]
    power_loss = got[("5.9-1-2", "U1")]
    assert "labgrid:simplerest" in json.dumps(power_loss), json.dumps(power_loss)[:3000]


def test_exporter_killed_mid_run_is_inconclusive_and_the_place_released(farm: tuple, tmp_path: Path) -> None:
    sim, lab = farm
    started = time.monotonic()
    proc = subprocess.Popen(_run(sim, lab, tmp_path / "run"), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "test_5_1_passwords.py::" in line and ("PASSED" in line or "FAILED" in line):
            lab.kill_exporter()  # the bench computer goes away after the first console case
            break
    rest, _ = proc.communicate(timeout=600)
    out = "".join(lines) + rest
    try:
        unit = {tc: r["verdict"] for (tc, u), r in latest_by_case(tmp_path / "run").items() if u == "U1"}
        assert "FAIL" not in unit.values(), out[-4000:]
        assert "INCONCLUSIVE" in unit.values(), (unit, out[-4000:])
        assert proc.returncode == 3, out[-3000:]
        assert time.monotonic() - started < 300
        assert "released place sim-u1" in out, out[-3000:]
        assert "acquired: None" in _place_state(lab)
    finally:
        lab.start_exporter()  # for any later test of the module


def test_sigterm_releases_the_place(farm: tuple, tmp_path: Path) -> None:
    import signal
    sim, lab = farm
    proc = subprocess.Popen(_run(sim, lab, tmp_path / "run"), cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if "acquired place sim-u1" in line:
            proc.send_signal(signal.SIGTERM)  # a cancelled CI job
            break
    rest, _ = proc.communicate(timeout=120)
    out = "".join(lines) + rest
    assert proc.returncode == 130, out[-3000:]
    assert "released place sim-u1" in out, out[-3000:]
    assert "acquired: None" in _place_state(lab)
    assert "Reservation" not in lab.client().run("reservations")
