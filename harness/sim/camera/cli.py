"""`harness sim --persona camera ...`: the Lumacam C3 simulator (docs/personas/camera.md)."""

from __future__ import annotations

import argparse

from harness.sim import cliopts
from harness.sim.camera.app import Options, run
from harness.sim.camera.model import DEFECTS, MAX_UNITS, DefectError, Defects


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="harness sim --persona camera",
                                description="Simulated Lumacam C3 IP cameras and the maker's cloud MQTT broker "
                                            "(docs/personas/camera.md).")
    p.add_argument("--persona", choices=["camera"], default="camera")
    cliopts.add_run_options(
        p, units=2, max_units=MAX_UNITS, unit_noun="cameras",
        run_dir_help="where flash, runtime.json, secrets.json and lab.yaml go",
        trust_ca_help="accepted for the hub's command line; the camera trusts only its maker's cloud CA",
        trust_ca_metavar=None)
    return p


def main(argv: list[str]) -> int:
    args = cliopts.parse(_parser(), argv)
    if isinstance(args, int):
        return args
    if args.list_defects:
        print(cliopts.defect_table(DEFECTS))
        return 0
    problems = cliopts.common_problems(args, MAX_UNITS)
    defects = Defects()
    try:
        defects = Defects.parse(args.defect)
    except DefectError as exc:
        problems.append(str(exc))
    if problems:
        return cliopts.refuse(problems)
    return run(Options(units=args.units, run_dir=args.run_dir, defects=defects, time_scale=args.time_scale,
                       lifetime=args.lifetime))
