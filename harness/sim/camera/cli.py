"""`harness sim --persona camera ...`: the Lumacam C3 simulator (docs/personas/camera.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.sim.camera.app import Options, run
from harness.sim.camera.model import DEFECTS, MAX_UNITS, DefectError, Defects


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="harness sim --persona camera",
                                description="Simulated Lumacam C3 IP cameras and the maker's cloud MQTT broker "
                                            "(docs/personas/camera.md).")
    p.add_argument("--persona", choices=["camera"], default="camera")
    p.add_argument("--units", type=int, default=2, help=f"number of cameras, 1..{MAX_UNITS} (default 2)")
    p.add_argument("--run-dir", type=Path, help="where flash, runtime.json, secrets.json and lab.yaml go")
    p.add_argument("--time-scale", type=float, default=1.0, help="multiplies every device delay (0 instant)")
    p.add_argument("--defect", action="append", default=[], metavar="NAME", help="switch on one defect (repeatable)")
    p.add_argument("--lifetime", type=float, default=3600.0, help="exit by itself after this many seconds")
    p.add_argument("--trust-ca", type=Path, help="accepted for the hub's command line; the camera trusts only "
                                                 "its maker's cloud CA")
    p.add_argument("--list-defects", action="store_true", help="list the defect switches and exit")
    return p


def main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)
    if args.list_defects:
        width = max(len(n) for n in DEFECTS)
        print("\n".join(f"{n:{width}s}  {d.summary}" for n, d in DEFECTS.items()))
        return 0
    problems = []
    if args.run_dir is None:
        problems.append("--run-dir is required")
    if not 1 <= args.units <= MAX_UNITS:
        problems.append(f"--units must be 1..{MAX_UNITS}, got {args.units}")
    if not args.time_scale >= 0:
        problems.append(f"--time-scale must be >= 0, got {args.time_scale}")
    if not args.lifetime > 0:
        problems.append(f"--lifetime must be > 0, got {args.lifetime}")
    defects = Defects()
    try:
        defects = Defects.parse(args.defect)
    except DefectError as exc:
        problems.append(str(exc))
    if problems:
        for problem in problems:
            print(f"harness sim: {problem}", file=sys.stderr)
        return 2
    return run(Options(units=args.units, run_dir=args.run_dir, defects=defects, time_scale=args.time_scale,
                       lifetime=args.lifetime))
