"""Farm sub-commands of ``harness``: ``harness farm local`` (a labgrid farm of simulated units here)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from typing import Any


def cmd_farm_local(args: argparse.Namespace) -> int:
    """Start the simulator and a local labgrid coordinator + exporter with one place per unit; print
    how to run against them; stop everything on Ctrl-C or SIGTERM (or after --lifetime seconds)."""
    from harness.farm.places import labgrid_missing
    missing = labgrid_missing()
    if missing:
        print(f"harness: {missing}", file=sys.stderr)
        return 2
    from harness.farm.localfarm import LocalFarm
    from harness.farm.places import PlaceError
    from harness.simctl import SimulatorError, SimulatorProcess
    base = Path(args.dir).resolve()
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        with SimulatorProcess(args.persona, base / "sim", units=args.units, time_scale=args.time_scale,
                              lifetime=args.lifetime + 60) as sim:
            units = {u: facts for u, facts in sim.runtime["units"].items()}
            with LocalFarm(base / "labgrid", units) as farm:
                profile = Path(__file__).resolve().parents[2] / "device_profiles" / f"sim-{args.persona}.yaml"
                places = " ".join(f"--place {u}={farm.place(u)}" for u in units)
                print(f"labgrid coordinator {farm.address}; places: {', '.join(farm.place(u) for u in units)}")
                print(f"  export LG_COORDINATOR={farm.address}")
                print(f"  harness run {profile} --lab {sim.lab_path} {places} --jobs {len(units)}")
                print("Ctrl-C to stop", flush=True)
                try:
                    stop.wait(args.lifetime)
                except KeyboardInterrupt:
                    pass
    except (SimulatorError, PlaceError) as exc:
        print(f"harness: {exc}", file=sys.stderr)
        return 3
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def add_parsers(sub: Any) -> None:
    """Register the farm's sub-commands on the ``harness`` command."""
    farm = sub.add_parser("farm", help="device farms: a local labgrid farm of simulated units (docs/farm.md)")
    fsub = farm.add_subparsers(dest="farm_command", required=True)
    local = fsub.add_parser("local", help="start the simulator with a local labgrid coordinator and exporter, one "
                                          "place per unit (needs the farm extra and ser2net)")
    local.add_argument("--persona", default="compliant", choices=["compliant", "legacy"])
    local.add_argument("--units", type=int, default=2, choices=range(1, 10), metavar="1..9")
    local.add_argument("--time-scale", type=float, default=0.0, help="simulator delay factor (1.0 = realistic)")
    local.add_argument("--dir", default=".farm", help="where the simulator and labgrid keep their files")
    local.add_argument("--lifetime", type=float, default=3600.0, help="stop by itself after this many seconds")
    local.set_defaults(func=cmd_farm_local)
