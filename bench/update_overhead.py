"""Overhead of the update and resilience group against the device's own declared delays.

Runs the update (5.3-2/7/9/10/16, 5.7-1) and resilience (5.9-1, 5.9-2, 5.13-1) test cases against
one simulated unit at realistic settings (boot 2 s, install 3 s, failed login 0.3 s) and compares
the wall time of the run with the sum of the delays the device itself declared (the simulator logs
each one) plus the waits the profile declares (power-off time). Ratio 1.0 means the harness adds
nothing; the goal is ≤ 1.1.

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

from harness.simctl import SimulatorProcess  # noqa: E402

SUITES = ["test_5_3_updates.py", "test_5_9_resilience.py"]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-scale", type=float, default=1.0)
    args = ap.parse_args()
    os.environ["HARNESS_SIM_LOG_DELAYS"] = "1"
    with tempfile.TemporaryDirectory(prefix="bench-upd-") as tmp:
        tmpdir = Path(tmp)
        with SimulatorProcess("compliant", tmpdir / "sim", units=1, time_scale=args.time_scale) as sim:
            log = sim.run_dir / "simulator.log"
            before = log.read_text(errors="replace").count("device delay")
            cmd = [sys.executable, "-m", "pytest", *[str(ROOT / "test_suites" / "pytest" / s) for s in SUITES],
                   "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
                   "--profile", str(ROOT / "device_profiles" / "sim-compliant.yaml"), "--lab", str(sim.lab_path),
                   "--run-dir", str(tmpdir / "run"), "--unit", "U1"]
            t0 = time.monotonic()
            proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=1800)
            wall = time.monotonic() - t0
            lines = log.read_text(errors="replace").splitlines()
        device = sum(float(m.group(1)) for line in lines[before:] if (m := re.search(r"device delay ([\d.]+) s", line)))
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
