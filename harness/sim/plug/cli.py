"""Command line of the plug simulator (`harness sim --persona plug …`, routed by harness.sim.families)."""

from __future__ import annotations

import argparse

from harness.sim import cliopts
from harness.sim.plug.app import Options, run
from harness.sim.plug.catalog import DEFECTS, MAX_UNITS


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="harness sim --persona plug", description="Simulated Voltiq P1 smart plugs (docs/personas/plug.md): "
        "each with a password-only serial console on a pty, an HTTPS command endpoint with Basic auth on its own "
        "loopback address, a bench supply over SCPI, and an MQTT client to the vendor cloud broker the simulator "
        "also runs.")
    p.add_argument("--persona", choices=["plug"], default="plug")
    cliopts.add_run_options(
        p, units=2, max_units=MAX_UNITS, run_dir_help="where flash, runtime.json, secrets.json and lab.yaml live",
        trust_ca_help="accepted for a common command line with the hub and ignored: the plug trusts its "
                      "vendor's cloud CA only")
    return p


def list_defects() -> str:
    return cliopts.defect_table(DEFECTS)


def main(argv: list[str]) -> int:
    args = cliopts.parse(_parser(), argv)
    if isinstance(args, int):
        return args
    if args.list_defects:
        print(list_defects())
        return 0
    problems = cliopts.common_problems(args, MAX_UNITS)
    unknown = [d for d in args.defect if d not in DEFECTS]
    if unknown:
        problems.append(f"unknown defect(s) {', '.join(unknown)}; see --list-defects")
    if problems:
        return cliopts.refuse(problems)
    return run(Options(units=args.units, run_dir=args.run_dir, defects=list(dict.fromkeys(args.defect)),
                       time_scale=args.time_scale, lifetime=args.lifetime))
