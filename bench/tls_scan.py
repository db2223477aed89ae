"""sslyze time per endpoint: the harness's targeted scan against sslyze's full default scan.

    .venv/bin/python bench/tls_scan.py                      # modern + legacy, 0 and 20 ms, 3 runs each
    .venv/bin/python bench/tls_scan.py --repeat 1 --delay-ms 0
    .venv/bin/python bench/tls_scan.py --profiles modern --delay-ms 20 --connections 1,5,10
    .venv/bin/python bench/tls_scan.py --json results.json

Each endpoint is a local server from fixtures/tls/tls_server.py in a child process (so sslyze and
the server do not share one interpreter lock). ``--delay-ms`` makes the server wait that long
before every handshake, to model a device whose TLS stack is slow: the number of connections a
scan opens, divided by sslyze's parallel connections (``--connections``), then decides its time.
The scan time is the wall time of ``scan_tls_results`` (what ``assess_tls`` runs), without the
server's start; ``conns`` is the number of TCP connections the server accepted during the scan.
ssh-audit is not timed here: tests/integration/test_ssh_asyncssh.py prints it (tens of ms).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from harness.links.tls import SCAN_COMMANDS, facts_from_sslyze_json, scan_tls_results, sslyze_json  # noqa: E402
from harness.scope import Scope  # noqa: E402


def _servers() -> Any:
    spec = importlib.util.spec_from_file_location("tls_server", ROOT / "fixtures" / "tls" / "tls_server.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["tls_server"] = module
    spec.loader.exec_module(module)
    return module


def _all_commands() -> tuple[str, ...]:
    from sslyze import ScanCommand

    return tuple(c.value for c in ScanCommand)


def one_scan(servers: Any, profile: str, commands: tuple[str, ...], delay_ms: float,
             connections: int = 5) -> dict[str, Any]:
    with servers.running(profile, delay_ms=delay_ms) as server:
        t0 = time.monotonic()
        results, started, done = scan_tls_results("127.0.0.1", server.port, scope=Scope(["127.0.0.0/8"]),
                                                  server_name="localhost", timeout=10, deadline=600,
                                                  commands=commands, connections=connections)
        seconds = time.monotonic() - t0
    data = sslyze_json(results, started, done)
    attempts = data["server_scan_results"][0]["scan_result"]
    errors = sorted(k for k, a in attempts.items() if a["status"] == "ERROR")
    facts = facts_from_sslyze_json(data)
    return {"seconds": seconds, "connections": server.connections, "errors": errors,
            "versions": facts.versions_accepted}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profiles", default="modern,legacy")
    parser.add_argument("--delay-ms", default="0,20", help="comma-separated per-handshake delays")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--connections", default="5", help="comma-separated sslyze parallel connection caps")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    warnings.simplefilter("ignore")  # sslyze's trust stores trip cryptography deprecation warnings
    servers = _servers()
    kinds = {"targeted": SCAN_COMMANDS, "full default": _all_commands()}
    t0 = time.monotonic()
    one_scan(servers, "modern", SCAN_COMMANDS, 0)  # warm-up: imports, trust stores
    cold = time.monotonic() - t0

    print(f"sslyze scan time per endpoint; {args.repeat} run(s) each; {os.cpu_count()} CPUs; "
          f"Python {sys.version.split()[0]}")
    print(f"targeted = {len(SCAN_COMMANDS)} scan commands: {', '.join(SCAN_COMMANDS)}")
    print(f"full default = all {len(kinds['full default'])} sslyze scan commands")
    print(f"first (cold) targeted scan of modern, incl. server start and sslyze import: {cold:.2f} s\n")
    header = (f"{'server':8} {'delay':>6} {'par':>3} {'scan':13} {'median s':>9} {'min s':>7} {'max s':>7} "
              f"{'conns':>6}  errors")
    print(header)
    print("-" * len(header))
    rows = []
    for profile in args.profiles.split(","):
        for delay in (float(d) for d in args.delay_ms.split(",")):
            for par in (int(c) for c in args.connections.split(",")):
                for kind, commands in kinds.items():
                    runs = [one_scan(servers, profile, commands, delay, par) for _ in range(args.repeat)]
                    times = [r["seconds"] for r in runs]
                    row = {"server": profile, "delay_ms": delay, "parallel": par, "scan": kind,
                           "median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
                           "connections": runs[0]["connections"], "errors": runs[0]["errors"],
                           "versions": runs[0]["versions"]}
                    rows.append(row)
                    print(f"{profile:8} {delay:>4g}ms {par:>3} {kind:13} {row['median_s']:9.2f} {row['min_s']:7.2f} "
                          f"{row['max_s']:7.2f} {row['connections']:6}  {', '.join(row['errors']) or '-'}",
                          flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
