"""`harness run --jobs N` (and `--parallel`, one job per unit): one pytest process per unit, at most
N at once, then the profile-level and cross-unit cases; the verdicts are the ones a serial run
gives (the matrix's expectations, which test_matrix asserts for serial runs)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from test_matrix import ONLY_SERIAL, SCENARIOS  # tests/integration is on sys.path (rootdir import mode)

from harness.results import latest_by_case
from harness.simctl import SimulatorProcess

ROOT = Path(__file__).resolve().parents[2]


def test_jobs_run_gives_the_serial_verdicts(tmp_path: Path) -> None:
    persona, defects, expected = SCENARIOS["legacy"]
    run_dir = tmp_path / "run"
    with SimulatorProcess(persona, tmp_path / "sim", defects={}, time_scale=0.0) as sim:
        cmd = [sys.executable, "-m", "harness.cli", "run", str(ROOT / "device_profiles" / "sim-legacy.yaml"),
               "--lab", str(sim.lab_path), "--run-dir", str(run_dir), "--jobs", "2", "--no-allure", "--quiet", "--", *ONLY_SERIAL]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 1, proc.stdout[-2000:] + proc.stderr[-2000:]  # legacy FAILs mandatory provisions
    actual = {k: r["verdict"] for k, r in latest_by_case(run_dir).items()}
    assert actual == expected
    # One writer per unit process plus the profile/cross-unit process: segments never shared.
    segments = list((run_dir / "results").glob("segment-*.jsonl"))
    assert len(segments) >= 4, segments
    assert sorted(p.name for p in (run_dir / "logs").iterdir()) == ["pytest-U1.log", "pytest-U2.log", "pytest-U3.log"]
    # Progress while it runs: each unit's start, its finished test cases, its end.
    out = proc.stdout
    assert "3 unit(s), 2 at a time" in out
    for unit in ("U1", "U2", "U3"):
        assert f"unit {unit}: started" in out and f"unit {unit}: finished" in out
        assert f"[{unit}] test_5_1_passwords.py::" in out
    assert out.index("unit U3: started") > min(out.index("unit U1: finished"), out.index("unit U2: finished"))
