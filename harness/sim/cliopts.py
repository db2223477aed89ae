"""What the command lines of the simulator families (hub, camera, plug) share: parsing without
exiting, the defect table of --list-defects, the checks of the options every family takes, and
how a refused command line is reported. One place, so the families cannot drift apart in what
they accept or in the words and exit status a lab script sees."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Protocol

USAGE_ERROR = 2  # argparse's own status for a bad command line


class _Described(Protocol):
    summary: str


def add_run_options(p: argparse.ArgumentParser, *, units: int, max_units: int, run_dir_help: str,
                    trust_ca_help: str, trust_ca_metavar: str | None = "PATH", unit_noun: str = "units",
                    time_scale_help: str = "multiplies every device delay (0 instant)",
                    defect_metavar: str = "NAME", defect_help: str = "switch on one defect (repeatable)") -> None:
    """The options after --persona, in the order --help lists them; the defaults are the camera's
    and plug's words, the hub passes its own."""
    p.add_argument("--units", type=int, default=units, help=f"number of {unit_noun}, 1..{max_units} (default {units})")
    p.add_argument("--run-dir", type=Path, help=run_dir_help)
    p.add_argument("--time-scale", type=float, default=1.0, help=time_scale_help)
    p.add_argument("--defect", action="append", default=[], metavar=defect_metavar, help=defect_help)
    p.add_argument("--lifetime", type=float, default=3600.0, help="exit by itself after this many seconds")
    p.add_argument("--trust-ca", type=Path, metavar=trust_ca_metavar, help=trust_ca_help)
    p.add_argument("--list-defects", action="store_true", help="list the defect switches and exit")


def parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace | int:
    """The parsed options, or the exit status of --help or a usage error (main() returns, never exits)."""
    try:
        return parser.parse_args(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def defect_table(defects: Mapping[str, _Described]) -> str:
    width = max(len(n) for n in defects)
    return "\n".join(f"{name:{width}s}  {d.summary}" for name, d in defects.items())


def common_problems(args: argparse.Namespace, max_units: int) -> list[str]:
    """What is wrong with --run-dir, --units, --time-scale and --lifetime, in that order."""
    problems = []
    if args.run_dir is None:
        problems.append("--run-dir is required")
    if not 1 <= args.units <= max_units:
        problems.append(f"--units must be 1..{max_units}, got {args.units}")
    if not args.time_scale >= 0:
        problems.append(f"--time-scale must be >= 0, got {args.time_scale}")
    if not args.lifetime > 0:
        problems.append(f"--lifetime must be > 0, got {args.lifetime}")
    return problems


def refuse(problems: list[str]) -> int:
    for problem in problems:
        print(f"harness sim: {problem}", file=sys.stderr)
    return USAGE_ERROR
