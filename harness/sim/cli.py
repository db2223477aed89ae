"""Command line of the simulator (`python -m harness.sim` or `harness sim`)."""

from __future__ import annotations

import argparse
import sys

from harness.sim import cliopts
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
    cliopts.add_run_options(
        p, units=3, max_units=MAX_UNITS, run_dir_help="where flash, runtime.json, secrets.json and lab-ca.pem live",
        time_scale_help="multiplies every device delay (1.0 realistic, 0 instant)",
        defect_metavar="NAME[=VALUE]", defect_help="switch on one defect (repeatable); see --list-defects",
        trust_ca_help="CA certificate (PEM) the units' MQTT clients trust, read at each connection "
                      "(default: the simulator's own lab-ca.pem)")
    return p


def list_defects() -> str:
    return cliopts.defect_table(DEFECTS)


def main(argv: list[str] | None = None) -> int:
    parser = _parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["--"]:
        argv = argv[1:]  # `harness sim -- --persona ...`: the harness CLI passes the separator through
    family = entry_for(argv)
    if family is not None:
        return family(argv)
    args = cliopts.parse(parser, argv)
    if isinstance(args, int):
        return args
    if args.list_defects:
        print(list_defects())
        return 0
    problems = cliopts.common_problems(args, MAX_UNITS)
    if args.trust_ca is not None and not args.trust_ca.is_file():
        problems.append(f"--trust-ca {args.trust_ca}: no such file")
    try:
        defects = parse_defects(args.defect)
    except CatalogError as exc:
        problems.append(str(exc))
    if problems:
        return cliopts.refuse(problems)
    return run(Options(persona=args.persona, units=args.units, run_dir=args.run_dir, defects=defects,
                       time_scale=args.time_scale, lifetime=args.lifetime, trust_ca=args.trust_ca))
