"""What the room matrices share: a scenario's expected verdicts, and one run of a room's suites
against the simulator (pytest with the harness plugin and the options `harness run` uses), in a
network namespace of its own when the suites probe the unit's network services."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from harness.cli import SUITE_PLUGIN_OPTIONS
from harness.net.netns import Namespace
from harness.results import latest_by_case
from harness.simctl import SimulatorProcess

ROOT = Path(__file__).resolve().parents[2]
SUITE_DIR = ROOT / "test_suites" / "pytest"


def expected(unit_cases: Iterable[str], *failing: str, profile_cases: Iterable[str] = (), unit: str = "U1",
             **other: str) -> dict[tuple[str, str | None], str]:
    """Every case PASS (per unit, or once for the profile), the ``failing`` ones FAIL, and ``other``
    maps a case to another verdict."""
    out: dict[tuple[str, str | None], str] = {(tc, unit): "PASS" for tc in unit_cases}
    out.update({(tc, None): "PASS" for tc in profile_cases})
    for tc, verdict in [*((t, "FAIL") for t in failing), *other.items()]:
        key = (tc, unit) if (tc, unit) in out else (tc, None)
        assert key in out, f"{tc} is not a case of this matrix"
        out[key] = verdict
    return out


def run_room(persona: str, defects: list[str], tmp: Path, suites: Iterable[str | Path], *,
             netns: str | None = None, extra: Iterable[str] = (), timeout: float = 600) -> dict:
    """The latest record per (test case, unit) of one run of ``suites`` against a one-unit simulator
    with ``defects`` switched on (``name`` or ``name=value``); in a namespace named after ``netns``."""
    parsed = {d.partition("=")[0]: (d.partition("=")[2] or None) for d in defects}

    def run(ns: Namespace | None) -> dict:
        sim = SimulatorProcess(persona, tmp / "sim", defects=parsed, time_scale=0.0, units=1, netns=ns)
        sim.start()
        try:
            run_dir = tmp / "run"
            cmd = [sys.executable, "-m", "pytest", *map(str, suites), "-q", *SUITE_PLUGIN_OPTIONS,
                   "--rootdir", str(ROOT), "--profile", str(ROOT / "device_profiles" / f"sim-{persona}.yaml"),
                   "--lab", str(sim.lab_path), "--run-dir", str(run_dir), "--unit", "U1", *extra]
            proc = subprocess.run(ns.exec_args(cmd) if ns else cmd, cwd=ROOT, capture_output=True, text=True,
                                  timeout=timeout)
            assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
            return latest_by_case(run_dir)
        finally:
            sim.stop()

    if netns is None:
        return run(None)
    with Namespace.create(netns) as ns:
        return run(ns)
