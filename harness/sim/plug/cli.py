"""Command line of the plug simulator (`harness sim --persona plug …`, routed by harness.sim.families)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.sim.plug.app import Options, run
from harness.sim.plug.catalog import DEFECTS, MAX_UNITS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="harness sim --persona plug", description="Simulated Voltiq P1 smart plugs (docs/personas/plug.md): "
        "each with a password-only serial console on a pty, an HTTPS command endpoint with Basic auth on its own "
        "loopback address, a bench supply over SCPI, and an MQTT client to the vendor cloud broker the simulator "
        "also runs.")
    p.add_argument("--persona", choices=["plug"], default="plug")
    p.add_argument("--units", type=int, default=2, help=f"number of units, 1..{MAX_UNITS} (default 2)")
    p.add_argument("--run-dir", type=Path, help="where flash, runtime.json, secrets.json and lab.yaml live")
    p.add_argument("--time-scale", type=float, default=1.0, help="multiplies every device delay (0 instant)")
    p.add_argument("--defect", action="append", default=[], metavar="NAME", help="switch on one defect (repeatable)")
    p.add_argument("--lifetime", type=float, default=3600.0, help="exit by itself after this many seconds")
    p.add_argument("--trust-ca", type=Path, metavar="PATH",
                   help="accepted for a common command line with the hub and ignored: the plug trusts its "
                        "vendor's cloud CA only")
    p.add_argument("--list-defects", action="store_true", help="list the defect switches and exit")
    return p


def list_defects() -> str:
    width = max(len(n) for n in DEFECTS)
    return "\n".join(f"{name:{width}s}  {d.summary}" for name, d in DEFECTS.items())


def main(argv: list[str]) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:  # --help or a usage error: a status, not an exit
        return int(exc.code or 0)
    if args.list_defects:
        print(list_defects())
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
    unknown = [d for d in args.defect if d not in DEFECTS]
    if unknown:
        problems.append(f"unknown defect(s) {', '.join(unknown)}; see --list-defects")
    if problems:
        for problem in problems:
            print(f"harness sim: {problem}", file=sys.stderr)
        return 2
    return run(Options(units=args.units, run_dir=args.run_dir, defects=list(dict.fromkeys(args.defect)),
                       time_scale=args.time_scale, lifetime=args.lifetime))
