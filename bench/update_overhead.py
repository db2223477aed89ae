"""Overhead of the update and resilience group against the device's own declared delays.

Runs the update (5.3-2/7/9/10/16, 5.7-1) and resilience (5.9-1, 5.9-2, 5.13-1) test cases against
one simulated unit at realistic settings (boot 2 s, install 3 s, failed login 0.3 s, reconnection
backoff from 1 s) and compares the wall time of the run with the time the device spent in its own
delays (the simulator logs each with its start; overlaps and the part before the run count once or
not at all) plus the waits the profile declares (power-off time). Ratio 1.0 means the harness adds
nothing; the goal is ≤ 1.1. Python's bytecode cache is on, as on a lab's bench computer.

    .venv/bin/python bench/update_overhead.py [--time-scale 1.0]
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.cli import SUITE_PLUGIN_OPTIONS  # noqa: E402  (the pytest options `harness run` uses)
from harness.simctl import SimulatorProcess  # noqa: E402

SUITES = ["test_5_3_updates.py", "test_5_9_resilience.py"]


def device_time(log: str, start: float, end: float) -> float:
    """Seconds within [start, end] in which the device was in one of its own delays (booting,
    installing, a failed login's pause, its reconnection backoff). The simulator logs each delay
    with its wall-clock start once it has elapsed; overlapping delays (two units, or a backoff
    during a boot) count once, and the part of a delay outside the run (the first boot, begun
    before the run started) not at all."""
    spans = sorted((max(t, start), min(t + d, end)) for d, t in
                   ((float(m.group(1)), float(m.group(2)))
                    for m in re.finditer(r"device delay ([\d.]+) s from ([\d.]+)", log)))
    total, reach = 0.0, start
    for a, b in spans:
        a = max(a, reach)
        if b > a:
            total += b - a
            reach = b
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-scale", type=float, default=1.0)
    args = ap.parse_args()
    os.environ["HARNESS_SIM_LOG_DELAYS"] = "1"
    with tempfile.TemporaryDirectory(prefix="bench-upd-") as tmp:
        tmpdir = Path(tmp)
        with SimulatorProcess("compliant", tmpdir / "sim", units=1, time_scale=args.time_scale) as sim:
            log = sim.run_dir / "simulator.log"
            cmd = [sys.executable, "-m", "pytest", *[str(ROOT / "test_suites" / "pytest" / s) for s in SUITES],
                   "-q", *SUITE_PLUGIN_OPTIONS, "--rootdir", str(ROOT),
                   "--profile", str(ROOT / "device_profiles" / "sim-compliant.yaml"), "--lab", str(sim.lab_path),
                   "--run-dir", str(tmpdir / "run"), "--unit", "U1"]
            # As on a lab's bench computer, Python keeps its bytecode (and pytest its rewritten test
            # modules) between runs: a shell with PYTHONDONTWRITEBYTECODE=1 would make every run
            # compile the harness again. One collect-only pass fills the caches first.
            env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
            subprocess.run([*cmd, "--collect-only"], cwd=ROOT, env=env, capture_output=True, timeout=300)
            # The unit's first boot (begun with the simulator) must be over: a run that starts
            # while it boots would hide its own start-up behind the device's delay.
            deadline = time.monotonic() + 60
            while "device delay" not in log.read_text(errors="replace") and time.monotonic() < deadline:
                time.sleep(0.05)  # sleep-ok: polling a file the simulator appends to, bounded
            t0, start = time.monotonic(), time.time()
            proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=1800)
            wall, end = time.monotonic() - t0, time.time()
            text = log.read_text(errors="replace")
        device = device_time(text, start, end)
        declared = 0.0
        for transcript in (tmpdir / "run" / "transcripts").glob("*.log"):
            text = transcript.read_text(errors="replace")
            declared += sum(float(x) for x in re.findall(r"off for ([\d.]+) s \(declared", text))
            declared += sum(float(x) for x in re.findall(r"settle ([\d.]+) s \(declared", text))
        total = device + declared
        print(f"pytest exit {proc.returncode}; {proc.stdout.strip().splitlines()[-1] if proc.stdout.strip() else ''}")
        print(f"wall time of the group           {wall:8.2f} s")
        print(f"device's own delays (simulator)  {device:8.2f} s")
        print(f"profile-declared waits           {declared:8.2f} s")
        print(f"overhead ratio wall / declared   {wall / total if total else float('nan'):8.2f}  (goal <= 1.1)")
        print(f"harness time beyond the delays   {wall - total:8.2f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
