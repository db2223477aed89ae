"""Reference simulator: several units of one product model, each with a console on a pty and a
shared HTTPS server, personas `compliant` and `legacy`, and one switch per single defect.
Driven only through its links; suites never import it. See docs/simulator.md."""

from __future__ import annotations

import argparse
import json
import os
import select
import signal
import sys
import threading
import time
import tty
from pathlib import Path

from harness.sim.device import Unit, UnitSpec
from harness.sim.web import serve

DEFECTS = {
    "universal_default_password": "every unit has the same non-dictionary label password",
    "reset_restores_universal_default": "factory reset sets the password to admin",
    "reset_keeps_user_data": "factory reset leaves Wi-Fi credentials in place",
    "sequential_label_passwords": "label passwords simpw-100041, -42, … by unit",
    "mac_derived_passwords": "label password = last 8 hex digits of the MAC",
    "serial_derived_passwords": "label password = first 10 hex of sha256(serial)",
    "dictionary_label_passwords": "label passwords are common words",
    "low_entropy_passwords": "label passwords are 4-digit PINs",
    "accepts_any_password": "any password logs in as admin",
    "silent_rejection": "a wrong password prints no refusal",
    "password_change_ignored": "passwd reports success but keeps the old password",
    "console_hangs_after_logins": "console goes silent after N login attempts (default 5)",
    "noisy_console": "ANSI colour, mixed line endings, kernel log lines (robustness, not a defect)",
    "no_security_txt": "no /.well-known/security.txt",
    "security_txt_no_contact": "security.txt without Contact",
    "security_txt_expired": "security.txt Expires in the past",
    "policy_no_timelines": "policy page without acknowledgement and status-update timelines",
    "support_period_no_end_date": "support page without an end date",
}


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="harness sim", description="reference simulated device")
    p.add_argument("--persona", choices=["compliant", "legacy"], default="compliant")
    p.add_argument("--units", type=int, default=3)
    p.add_argument("--run-dir", default=".sim/default")
    p.add_argument("--time-scale", type=float, default=1.0)
    p.add_argument("--defect", action="append", default=[])
    p.add_argument("--lifetime", type=float, default=3600.0)
    p.add_argument("--list-defects", action="store_true")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.list_defects:
        for name, text in DEFECTS.items():
            print(f"{name:34s} {text}")
        return 0
    defects: dict[str, str | None] = {}
    for item in args.defect:
        name, _, value = item.partition("=")
        if name not in DEFECTS:
            print(f"harness sim: unknown defect {name!r} (see --list-defects)", file=sys.stderr)
            return 2
        defects[name] = value or None
    run = Path(args.run_dir)
    (run / "flash").mkdir(parents=True, exist_ok=True)
    letter = "C" if args.persona == "compliant" else "L"
    units: dict[int, Unit] = {}
    keep: list[int] = []
    for i in range(1, args.units + 1):
        master, slave = os.openpty()
        tty.setraw(slave)  # no kernel echo or CR/LF translation: the unit does its own
        keep.append(slave)
        spec = UnitSpec(f"U{i}", i, args.persona, f"SIM-{letter}-000{i}", f"02:53:49:A1:7C:3{i}")
        units[master] = Unit(spec, master, run / "flash", defects, args.time_scale)
    server, base, ca = serve(run, args.persona, defects)
    secrets_path = run / "secrets.json"
    fd = os.open(secrets_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump({f"SIM_{u.spec.uid}_LABEL": u.state["label"] for u in units.values()}, fh)
    runtime = {
        "persona": args.persona, "defects": defects, "pid": os.getpid(), "time_scale": args.time_scale,
        "units": {u.spec.uid: {"console": os.ttyname(slave), "serial": u.spec.serial, "mac": u.spec.mac,
                                "address": "127.0.0.1"} for u, slave in zip(units.values(), keep, strict=True)},
        "https": {"base_url": base, "ca": str(ca.resolve()), "security_txt": f"{base}/.well-known/security.txt",
                  "policy": f"{base}/security/policy", "support": f"{base}/support"},
    }
    for u in units.values():
        threading.Thread(target=u.boot, daemon=True).start()
    tmp = run / "runtime.json.tmp"
    tmp.write_text(json.dumps(runtime, indent=2))
    os.replace(tmp, run / "runtime.json")  # readiness signal
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    deadline = time.monotonic() + args.lifetime
    try:
        while not stop.is_set() and time.monotonic() < deadline:
            ready, _, _ = select.select(list(units), [], [], 0.2)
            for master in ready:
                try:
                    data = os.read(master, 4096)
                except OSError:
                    continue
                units[master].feed(data)
    finally:
        server.shutdown()
        (run / "runtime.json").unlink(missing_ok=True)
    return 0
