"""Command line of the simulator (`python -m harness.sim` or `harness sim`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.sim.app import Options, run
from harness.sim.catalog import DEFECTS, MAX_UNITS, PERSONAS, CatalogError, parse_defects
from harness.sim.families import FAMILIES, entry_for


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="harness sim", description="Reference simulated device: several units of the SimIoT Hub H1, "
        "each with a serial console on a pty, network services on its own loopback address, an MQTT "
        "client, firmware updates and a bench supply served over SCPI, and the manufacturer's HTTPS site. "
        "See docs/simulator.md.")
    p.add_argument("--persona", choices=sorted([*PERSONAS, *FAMILIES]), default="compliant",
                   help="compliant, legacy (the reference hub) or camera, plug (docs/personas/)")
    p.add_argument("--units", type=int, default=3, help=f"number of units, 1..{MAX_UNITS} (default 3)")
    p.add_argument("--run-dir", type=Path, help="where flash, runtime.json, secrets.json and lab-ca.pem live")
    p.add_argument("--time-scale", type=float, default=1.0,
                   help="multiplies every device delay (1.0 realistic, 0 instant)")
    p.add_argument("--defect", action="append", default=[], metavar="NAME[=VALUE]",
                   help="switch on one defect (repeatable); see --list-defects")
    p.add_argument("--lifetime", type=float, default=3600.0, help="exit by itself after this many seconds")
    p.add_argument("--trust-ca", type=Path, metavar="PATH",
                   help="CA certificate (PEM) the units' MQTT clients trust, read at each connection "
                        "(default: the simulator's own lab-ca.pem)")
    p.add_argument("--list-defects", action="store_true", help="list the defect switches and exit")
    return p


def list_defects() -> str:
    width = max(len(n) for n in DEFECTS)
    return "\n".join(f"{name:{width}s}  {d.summary}" for name, d in DEFECTS.items())


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--"]:
        argv = argv[1:]  # `harness sim -- --persona ...`: the harness CLI passes the separator through
    family = entry_for(argv)
    if family is not None:
        return family(argv)
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help or a usage error: keep main() returning a status
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
    if args.trust_ca is not None and not args.trust_ca.is_file():
        problems.append(f"--trust-ca {args.trust_ca}: no such file")
    try:
        defects = parse_defects(args.defect)
    except CatalogError as exc:
        problems.append(str(exc))
    if problems:
        for problem in problems:
            print(f"harness sim: {problem}", file=sys.stderr)
        return 2
    return run(Options(persona=args.persona, units=args.units, run_dir=args.run_dir, defects=defects,
                       time_scale=args.time_scale, lifetime=args.lifetime, trust_ca=args.trust_ca))
