"""Device-farm scaling: wall time of `harness run --jobs N` for N simulated units (1, 8, 32 …).

Each N gets its own simulators (the hub simulator serves at most 9 units per process, so several
are started and their units renumbered U1..UN in one lab configuration) at the given time scale
(1.0 = the device's realistic delays), and one run of the per-unit console test cases (5.1-1-2,
5.1-4-2, 5.11-1-2) plus the cross-unit cases with one worker per unit. On a farm the units are
separate devices, so the ideal is a wall time that does not grow with N: the goal is
wall(N=32) / wall(N=1) <= 1.5 on a 2-core machine. Then it runs bench/update_overhead.py, a full
update-group run against the device's own declared delays (goal <= 1.1).

    .venv/bin/python bench/farm.py                       # N = 1, 8, 32 at realistic delays (long)
    .venv/bin/python bench/farm.py --units 1,8 --time-scale 0.2 --no-update-group   # quick look
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.simctl import SimulatorProcess  # noqa: E402

PER_SIM = 9
CONSOLE_SUITES = ("test_5_1_passwords.py", "test_5_11_erasure.py")
LAB = """\
schema_version: 1
name: "farm bench ({n} simulated units)"
runtime: runtime.json
secrets: {{file: secrets.json, environment: false}}
networks: [127.0.0.0/8]
"""


def _bench_dir(tmp: Path, n: int, sims: list[SimulatorProcess]) -> tuple[Path, Path]:
    """One profile with N units and one lab configuration whose runtime facts and secrets merge the
    simulators', their units renumbered in order."""
    runtime: dict = {"units": {}}
    secrets: dict[str, str] = {}
    for k, sim in enumerate(sims):
        facts = json.loads((sim.run_dir / "runtime.json").read_text())
        sim_secrets = json.loads((sim.run_dir / "secrets.json").read_text())
        for key in facts:
            if key != "units":
                runtime.setdefault(key, facts[key])
        for local, unit_facts in facts["units"].items():
            merged = f"U{k * PER_SIM + int(local[1:])}"
            runtime["units"][merged] = unit_facts
            for name, value in sim_secrets.items():
                if name.startswith(f"SIM_{local}_"):
                    secrets[name.replace(f"SIM_{local}_", f"SIM_{merged}_", 1)] = value
    # Each simulator signs its HTTPS site with a CA of its own: trust them all.
    bundle = tmp / f"n{n}-https-ca.pem"
    bundle.write_text("".join(Path(json.loads((sim.run_dir / "runtime.json").read_text())["https"]["ca"]).read_text()
                              for sim in sims))
    runtime["https"] = {**runtime.get("https", {}), "ca": str(bundle)}
    doc = yaml.safe_load((ROOT / "device_profiles" / "sim-compliant.yaml").read_text())
    template = doc["units"][0]
    units = []
    for i in range(1, n + 1):
        text = yaml.safe_dump(template).replace("U1", f"U{i}")
        unit = yaml.safe_load(text)
        unit["serial"] = f"SIM-C-{i:04d}"
        unit["mac"] = f"02:53:49:A2:{i // 256:02X}:{i % 256:02X}"
        units.append(unit)
    doc["units"] = units
    bench = tmp / f"n{n}"
    bench.mkdir(parents=True, exist_ok=True)
    (bench / "runtime.json").write_text(json.dumps(runtime))
    (bench / "secrets.json").write_text(json.dumps(secrets))
    (bench / "lab.yaml").write_text(LAB.format(n=n))
    (bench / "profile.yaml").write_text(yaml.safe_dump(doc, sort_keys=False))
    return bench / "profile.yaml", bench / "lab.yaml"


def run_n(n: int, time_scale: float, tmp: Path, jobs: int | None) -> dict:
    with ExitStack() as stack:
        sims = []
        for k in range((n + PER_SIM - 1) // PER_SIM):
            count = min(PER_SIM, n - k * PER_SIM)
            sims.append(stack.enter_context(SimulatorProcess("compliant", tmp / f"n{n}-sim{k}", units=count,
                                                             time_scale=time_scale, lifetime=7200)))
        profile, lab = _bench_dir(tmp, n, sims)
        ignore = [f"--ignore={p}" for p in sorted((ROOT / "test_suites" / "pytest").glob("test_*.py"))
                  if p.name not in CONSOLE_SUITES]
        cmd = [sys.executable, "-m", "harness.cli", "run", str(profile), "--lab", str(lab),
               "--run-dir", str(tmp / f"n{n}-run"), "--jobs", str(jobs or n), "--no-allure", "--quiet",
               "--", *ignore, "-k", "5_1 or 5_11"]
        t0 = time.monotonic()
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=7200)
        wall = time.monotonic() - t0
    units = [float(x) for x in re.findall(r"^unit U\d+: pytest exit code \S+ in ([\d.]+) s", proc.stdout, re.M)]
    verdicts: dict[str, int] = {}
    causes: dict[str, int] = {}  # why a case was INCONCLUSIVE (a starved 2-core machine times out)
    from harness.results import latest_by_case
    for (tc, _unit), rec in latest_by_case(tmp / f"n{n}-run").items():
        verdicts[rec["verdict"]] = verdicts.get(rec["verdict"], 0) + 1
        if rec["verdict"] == "INCONCLUSIVE":
            cause = f"{tc}: {re.sub(r'[0-9.]+', '#', str(rec.get('reason', '')))[:120]}"
            causes[cause] = causes.get(cause, 0) + 1
    return {"n": n, "wall": wall, "exit": proc.returncode, "unit_max": max(units, default=0.0),
            "unit_mean": sum(units) / len(units) if units else 0.0, "verdicts": verdicts, "causes": causes}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--units", default="1,8,32", help="comma-separated unit counts (default 1,8,32)")
    ap.add_argument("--time-scale", type=float, default=1.0, help="simulator delay factor (1.0 = realistic)")
    ap.add_argument("--jobs", type=int, help="workers at once (default: one per unit)")
    ap.add_argument("--no-update-group", action="store_true", help="skip bench/update_overhead.py")
    ap.add_argument("--keep", help="keep the simulators' and runs' files in this directory")
    args = ap.parse_args()
    counts = [int(x) for x in args.units.split(",") if x.strip()]
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-farm-") as scratch:
        tmp = Path(args.keep).resolve() if args.keep else Path(scratch)
        tmp.mkdir(parents=True, exist_ok=True)
        for n in counts:
            row = run_n(n, args.time_scale, tmp, args.jobs)
            rows.append(row)
            print(f"N={n:3d}  wall {row['wall']:8.1f} s  per-unit worker mean {row['unit_mean']:6.1f} s, "
                  f"max {row['unit_max']:6.1f} s  exit {row['exit']}  verdicts {row['verdicts']}", flush=True)
            for cause, count in sorted(row["causes"].items(), key=lambda kv: -kv[1])[:5]:
                print(f"        {count:3d} x INCONCLUSIVE  {cause}")
    base = next((r for r in rows if r["n"] == 1), None)
    if base:
        for r in rows:
            if r["n"] != 1:
                print(f"ratio wall(N={r['n']}) / wall(N=1) = {r['wall'] / base['wall']:.2f}"
                      + ("  (goal <= 1.5)" if r["n"] == max(counts) else ""))
    if not args.no_update_group:
        print("\nfull update-group run against the device's declared delays (bench/update_overhead.py):", flush=True)
        subprocess.run([sys.executable, str(ROOT / "bench" / "update_overhead.py"), "--time-scale",
                        str(args.time_scale)], cwd=ROOT, check=False, timeout=7200)
    return 0


if __name__ == "__main__":
    sys.exit(main())
