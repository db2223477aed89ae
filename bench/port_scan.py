"""Port scan benchmark: the harness's TCP connect scan against nmap, all 65,535 ports, one run.

Everything happens in a fresh network namespace this script creates (only loopback up), so no
other program on the machine can add or hide a port:

- the reference simulator with one unit (unless ``--no-sim``): its services listen on the unit's
  address, 127.77.0.1 (the declared address), as runtime.json publishes them;
- N more listeners on random ports of that address, and a few on 127.0.0.1, which is *not*
  declared (the simulator's documents server is there too): none of those may be reported;
- contenders, each ``--repeat`` times, all scanning every TCP port of the declared address:
  - ``harness (in-process)``: ``scan_tcp`` called in this process (the way a suite uses it);
  - ``harness (new process)``: the same call in a fresh interpreter, wall time of the process,
    which is like for like with nmap's process wall time (interpreter start and imports included);
  - ``nmap -sT -p- -n -Pn`` (connect scan, the same technique as the harness);
  - ``nmap -sS -p- -n -Pn`` (SYN scan with raw sockets; root only).
- the open-port sets must be identical (and equal to what was started); the script prints the
  times (median) and the ratios harness / nmap, and exits 1 if any set differs.

Usage:  .venv/bin/python bench/port_scan.py [--listeners 20] [--repeat 3] [--seed N] [--no-sim]
                                            [--concurrency 512] [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from dataclasses import asdict, dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness.net.netns import Namespace, availability  # noqa: E402
from harness.net.scan import scan_tcp  # noqa: E402
from harness.scope import Scope  # noqa: E402

DECLARED = "127.77.0.1"  # unit U1 of a simulator alone in its namespace (harness/sim/network.py)
UNDECLARED = "127.0.0.1"
NMAP_TIMEOUT = 600.0
SIM_READY_TIMEOUT = 30.0


@dataclass
class Row:
    name: str
    times: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)  # user + system CPU seconds of the scanner
    open_sets: list[list[int]] = field(default_factory=list)
    note: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.times) if self.times else float("nan")

    @property
    def cpu_median(self) -> float:
        return statistics.median(self.cpu) if self.cpu else float("nan")

    @property
    def consistent(self) -> bool:
        return all(s == self.open_sets[0] for s in self.open_sets)


def start_listeners(ns: Namespace, address: str, count: int, rng: random.Random,
                    avoid: set[int]) -> dict[int, socket.socket]:
    out: dict[int, socket.socket] = {}
    for _ in range(count * 20):  # bounded: a port may be taken, then another is drawn
        if len(out) == count:
            break
        port = rng.randint(1, 65535)
        if port in out or port in avoid:
            continue
        with ns.entered():
            sock = socket.socket()
        try:
            sock.bind((address, port))
        except OSError:
            sock.close()
            continue
        sock.listen(64)
        out[port] = sock
    return out


def start_sim(ns: Namespace, run_dir: Path) -> tuple[str, list[int]]:
    """Start the simulator inside; return its unit address and the TCP ports it publishes."""
    cmd = [sys.executable, "-m", "harness.sim", "--persona", "compliant", "--units", "1",
           "--run-dir", str(run_dir), "--time-scale", "0", "--lifetime", "900"]
    log = open(run_dir / "sim.log", "ab")
    proc = ns.popen(cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    log.close()
    runtime = run_dir / "runtime.json"
    deadline = time.monotonic() + SIM_READY_TIMEOUT
    while not runtime.exists():  # the simulator writes runtime.json atomically once it is ready
        left = deadline - time.monotonic()
        if left <= 0:
            raise SystemExit(f"simulator not ready within {SIM_READY_TIMEOUT:g} s")
        try:
            code = proc.wait(min(0.05, left))
        except subprocess.TimeoutExpired:
            continue
        raise SystemExit(f"simulator exited with {code}: {(run_dir / 'sim.log').read_text()[-1000:]}")
    data = json.loads(runtime.read_text())
    facts = data["units"]["U1"]
    services = facts.get("services") or {}
    return facts["address"], sorted(p for p in services.values() if isinstance(p, int))


def cpu_seconds() -> float:
    """User + system CPU of this process and of its waited-for children (nmap, the harness child;
    not the simulator, which is never waited for during a scan)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def drain(listeners: dict[int, socket.socket]) -> None:
    """Accept what the last scan left queued, so no listener's backlog ever fills up."""
    for sock in listeners.values():
        sock.setblocking(False)
        for _ in range(1000):
            try:
                conn, _ = sock.accept()
            except BlockingIOError:
                break
            conn.close()


def harness_in_process(ns: Namespace, concurrency: int) -> tuple[float, list[int], str]:
    with ns.entered():
        t0 = time.perf_counter()
        result = scan_tcp(DECLARED, scope=Scope([DECLARED]), concurrency=concurrency)
        wall = time.perf_counter() - t0
    note = f"scan {result.duration_s:.2f} s; self-connects dropped {result.self_connects or 'none'}"
    if not result.complete:
        note += f"; INCOMPLETE: {result.unprobed} unprobed, {len(result.errors)} errors"
    return wall, result.open, note


_CHILD = """
import json, sys
from harness.net.scan import scan_tcp
from harness.scope import Scope
r = scan_tcp(sys.argv[1], scope=Scope([sys.argv[1]]), concurrency=int(sys.argv[2]))
print(json.dumps({"open": r.open, "complete": r.complete, "self": r.self_connects}))
"""


def harness_process(ns: Namespace, concurrency: int) -> tuple[float, list[int], str]:
    t0 = time.perf_counter()
    res = ns.run([sys.executable, "-c", _CHILD, DECLARED, str(concurrency)], timeout=NMAP_TIMEOUT, cwd=ROOT,
                 capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    out = json.loads(res.stdout)
    return wall, out["open"], "" if out["complete"] else "INCOMPLETE"


def nmap(ns: Namespace, technique: str) -> tuple[float, list[int], str]:
    argv = ["nmap", technique, "-p-", "-n", "-Pn", "-oX", "-", DECLARED]
    t0 = time.perf_counter()
    res = ns.run(argv, timeout=NMAP_TIMEOUT, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - t0
    root = ET.fromstring(res.stdout)
    ports = sorted(int(p.get("portid", "0")) for p in root.iter("port")
                   if p.get("protocol") == "tcp" and (st := p.find("state")) is not None and st.get("state") == "open")
    finished = root.find("runstats/finished")
    own = finished.get("elapsed") if finished is not None else "?"
    return wall, ports, f"nmap's own elapsed {own} s"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--listeners", type=int, default=20, help="listeners on the declared address (default 20)")
    ap.add_argument("--undeclared", type=int, default=3, help="listeners on 127.77.0.2 (default 3)")
    ap.add_argument("--repeat", type=int, default=3, help="runs per contender (default 3; median shown)")
    ap.add_argument("--seed", type=int, default=None, help="port draw seed (default: random, printed)")
    ap.add_argument("--concurrency", type=int, default=512, help="harness scan concurrency (default 512)")
    ap.add_argument("--no-sim", action="store_true", help="do not start the simulator in the namespace")
    ap.add_argument("--json", type=Path, help="also write the raw numbers here")
    args = ap.parse_args(argv)

    ok, why = availability()
    if not ok:
        print(f"cannot run: {why}", file=sys.stderr)
        return 2
    if shutil.which("nmap") is None:
        print("cannot run: nmap is not installed", file=sys.stderr)
        return 2
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    is_root = os.geteuid() == 0

    with Namespace.create("harness-bench") as ns, tempfile.TemporaryDirectory(prefix="port-scan-") as tmp:
        sim_ports: list[int] = []
        if not args.no_sim:
            address, sim_ports = start_sim(ns, Path(tmp))
            if address != DECLARED:
                raise SystemExit(f"the simulator's unit is at {address}, expected {DECLARED}")
        taken = set(sim_ports)
        declared = start_listeners(ns, DECLARED, args.listeners, rng, taken)
        undeclared = start_listeners(ns, UNDECLARED, args.undeclared, rng, taken | set(declared))
        expected = sorted(set(declared) | taken)
        print(f"namespace {ns.name}: only loopback up; seed {seed}; {os.cpu_count()} CPUs; "
              f"Python {sys.version.split()[0]}; {subprocess.run(['nmap', '--version'], capture_output=True, text=True, timeout=30).stdout.split(chr(10))[0]}")
        print(f"declared {DECLARED}: {len(declared)} listeners" + (f" + simulator unit services {sim_ports}" if sim_ports else "")
              + f" -> expected open: {expected}")
        print(f"undeclared {UNDECLARED}: {sorted(undeclared)} (must not appear)")

        contenders = [("harness scan_tcp (in-process)", lambda: harness_in_process(ns, args.concurrency)),
                      ("harness scan_tcp (new process)", lambda: harness_process(ns, args.concurrency)),
                      ("nmap -sT -p- -n -Pn", lambda: nmap(ns, "-sT"))]
        if is_root:
            contenders.append(("nmap -sS -p- -n -Pn (root)", lambda: nmap(ns, "-sS")))
        rows = {name: Row(name) for name, _ in contenders}
        for _ in range(args.repeat):  # interleaved, so a burst of machine load hits all contenders
            for name, run in contenders:
                before = cpu_seconds()
                wall, ports, note = run()
                rows[name].cpu.append(cpu_seconds() - before)
                drain(declared)
                drain(undeclared)
                rows[name].times.append(wall)
                rows[name].open_sets.append(ports)
                rows[name].note = note

        for s in list(declared.values()) + list(undeclared.values()):
            s.close()

    print()
    print(f"{'contender':36} {'runs':>4} {'median s':>9} {'min s':>7} {'max s':>7} {'cpu s':>6} {'open':>5}  same set  note")
    print("-" * 117)
    identical = True
    for row in rows.values():
        same = row.consistent and row.open_sets[0] == expected
        identical &= same
        print(f"{row.name:36} {len(row.times):>4} {row.median:>9.2f} {min(row.times):>7.2f} {max(row.times):>7.2f} "
              f"{row.cpu_median:>6.2f} {len(row.open_sets[0]):>5}  {'yes' if same else 'NO':8}  {row.note}")
        if not same:
            for i, s in enumerate(row.open_sets):
                print(f"    run {i + 1}: extra {sorted(set(s) - set(expected))}, missing {sorted(set(expected) - set(s))}")
    leaked = [p for row in rows.values() for s in row.open_sets for p in s if p in undeclared and p not in expected]
    print()
    print("open-port sets identical across all contenders and runs, and equal to the listeners started:",
          "yes" if identical else "NO")
    print(f"undeclared address reported: {'NO (good)' if not leaked else leaked}")
    print()
    print("ratio harness / nmap, medians (below 1 = harness faster)          wall    cpu")
    for h in ("harness scan_tcp (in-process)", "harness scan_tcp (new process)"):
        for n in [r for r in rows if r.startswith("nmap")]:
            print(f"  {h:32} / {n:28} {rows[h].median / rows[n].median:6.2f} "
                  f"{rows[h].cpu_median / rows[n].cpu_median:6.2f}")
    load = os.getloadavg()
    print(f"(load average at the end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs; "
          "wall times move with other load, CPU seconds much less)")
    if not is_root:
        print("  (nmap -sS skipped: needs root)")
    if args.json:
        args.json.write_text(json.dumps({"seed": seed, "expected": expected, "undeclared": sorted(undeclared),
                                         "rows": [asdict(r) for r in rows.values()]}, indent=2))
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main())
