"""Lab faults on the attack-surface test cases: a unit killed, or frozen (SIGSTOP), before 5.6 runs
is never judged. 5.6-1-2, 5.6-2-2 and 5.6-4-2 are INCONCLUSIVE, within a time bound, never PASS.

A killed unit leaves no listener: the scan finds 0 open ports, which once read as "every interface
off" (PASS). A frozen unit is subtler: the kernel still completes TCP handshakes on its listening
sockets, so the scan finds the right ports open, but nothing answers behind them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from harness.cli import SUITE_PLUGIN_OPTIONS
from harness.net.netns import Namespace, availability
from harness.results import latest_by_case
from harness.simctl import SimulatorProcess

ROOT = Path(__file__).resolve().parents[2]
SUITE = str(ROOT / "test_suites" / "pytest" / "test_5_6_surface.py")
CASES = ("5.6-1-2", "5.6-2-2", "5.6-4-2")
BOUND_S = 240.0  # generous on 2 shared cores; a hang would hit the subprocess timeout below first
_ok, _why = availability()
pytestmark = [pytest.mark.integration, pytest.mark.skipif(not _ok, reason=f"no network namespaces: {_why}")]


# Loaded into the suite's pytest with -p: the fault strikes after the test case's own start check
# (setup), i.e. while the test body runs.
_DURING = """
import os, pytest

@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item):
    try:
        os.kill(int(os.environ["HX_FAULT_PID"]), int(os.environ["HX_FAULT_SIG"]))
    except ProcessLookupError:
        pass
"""
TESTS = {"5.6-1-2": "test_5_6_1_2_unused_interfaces_off", "5.6-2-2": "test_5_6_2_2_no_disclosure_before_authentication",
         "5.6-4-2": "test_5_6_4_2_debug_interface_off"}


def _without_liveness_procedures(tmp: Path) -> Path:
    """The compliant profile as a web-only lab might write it: no attention, no alive_network."""
    doc = yaml.safe_load((ROOT / "device_profiles" / "sim-compliant.yaml").read_text())
    for name in ("attention", "alive_network"):
        doc["procedures"].pop(name, None)
    path = tmp / "no-liveness.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def _forget_consoles(sim: SimulatorProcess) -> None:
    """A killed simulator's pty numbers go to the next pty anyone opens (another test's): the
    stale runtime facts name consoles that cannot be some other device's."""
    import json
    runtime = sim.run_dir / "runtime.json"
    facts = json.loads(runtime.read_text())
    for uid, unit in facts["units"].items():
        unit["console"] = f"/dev/pts/harness-gone-{uid}"
    runtime.write_text(json.dumps(facts))


def _run_surface_after(fault: int | None, tmp: Path, *, during: str | None = None,
                       profile: Path | None = None) -> tuple[dict, float, str]:
    profile = profile or ROOT / "device_profiles" / "sim-compliant.yaml"
    with Namespace.create("hxd") as ns:
        sim = SimulatorProcess("compliant", tmp / "sim", time_scale=0.0, units=1, netns=ns)
        sim.start()
        assert sim.proc is not None
        pid = sim.proc.pid
        try:
            run_dir = tmp / "run"
            target = SUITE if during is None else f"{SUITE}::{TESTS[during]}"
            cmd = [sys.executable, "-m", "pytest", target, "-q", *SUITE_PLUGIN_OPTIONS, "--rootdir", str(ROOT),
                   "--profile", str(profile), "--lab", str(sim.lab_path), "--run-dir", str(run_dir), "--unit", "U1"]
            env = dict(os.environ)
            if fault is None:
                pass
            elif during is None:
                os.kill(pid, fault)
                if fault == signal.SIGKILL:
                    sim.proc.wait(10)
                    _forget_consoles(sim)
            else:
                (tmp / "hx_fault_during.py").write_text(_DURING)
                env.update(HX_FAULT_PID=str(pid), HX_FAULT_SIG=str(int(fault)),
                           PYTHONPATH=os.pathsep.join(filter(None, [str(tmp), env.get("PYTHONPATH")])))
                cmd += ["-p", "hx_fault_during"]
            t0 = time.monotonic()
            proc = subprocess.run(ns.exec_args(cmd), cwd=ROOT, capture_output=True, text=True, timeout=BOUND_S * 2,
                                  env=env)
            took = time.monotonic() - t0
            return latest_by_case(run_dir), took, proc.stdout[-3000:] + proc.stderr[-2000:]
        finally:
            if fault == signal.SIGSTOP:
                os.kill(pid, signal.SIGCONT)  # let it end on SIGTERM
            sim.stop()


@pytest.mark.parametrize("fault", [signal.SIGKILL, signal.SIGSTOP], ids=["killed", "frozen"])
def test_a_dead_or_frozen_unit_is_never_judged_on_5_6(fault: int, tmp_path: Path) -> None:
    got, took, output = _run_surface_after(fault, tmp_path)
    verdicts = {tc: (got.get((tc, "U1")) or {}).get("verdict") for tc in CASES}
    reasons = {tc: (got.get((tc, "U1")) or {}).get("reason", "")[:200] for tc in CASES}
    print(f"\n{signal.Signals(fault).name}: {took:.1f} s", reasons)
    assert all(v == "INCONCLUSIVE" for v in verdicts.values()), (verdicts, reasons, output)
    assert took < BOUND_S, f"the surface suite took {took:.0f} s on a {signal.Signals(fault).name} unit"


@pytest.mark.parametrize("case", CASES)
@pytest.mark.parametrize("fault", [signal.SIGKILL, signal.SIGSTOP], ids=["killed", "frozen"])
def test_a_unit_that_dies_during_the_test_case_is_not_judged(fault: int, case: str, tmp_path: Path) -> None:
    got, took, output = _run_surface_after(fault, tmp_path, during=case)
    record = got.get((case, "U1")) or {}
    print(f"\n{signal.Signals(fault).name} during {case}: {took:.1f} s: {record.get('reason', '')[:200]}")
    assert record.get("verdict") == "INCONCLUSIVE", (record.get("verdict"), record.get("reason"), output)
    assert took < BOUND_S


@pytest.mark.parametrize("fault", [None, signal.SIGSTOP], ids=["alive", "frozen"])
def test_without_liveness_procedures_a_service_answer_is_the_proof_of_life(fault: int | None, tmp_path: Path) -> None:
    profile = _without_liveness_procedures(tmp_path)
    got, _, output = _run_surface_after(fault, tmp_path, during="5.6-1-2" if fault else None, profile=profile)
    record = got.get(("5.6-1-2", "U1")) or {}
    print(f"\n{fault}: {record.get('verdict')} {record.get('reason', '')[:200]}")
    assert record.get("verdict") == ("PASS" if fault is None else "INCONCLUSIVE"), (record.get("reason"), output)
