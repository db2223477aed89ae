"""Assemble and run one simulator: units, their consoles, the HTTPS server, the runtime files."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.sim import runtime
from harness.sim.catalog import FIRMWARE, HARDWARE, MANUFACTURER, MODEL, PERSONAS, behaviour_for
from harness.sim.certs import make_lab_certificates
from harness.sim.console import Console
from harness.sim.documents import POLICY, SECURITY_TXT, SUPPORT, documents
from harness.sim.flash import Flash
from harness.sim.pty_port import PtyPort
from harness.sim.timing import Delays
from harness.sim.unit import Unit
from harness.sim.web import WebServer


class RunDirBusy(RuntimeError):
    pass


@dataclass(frozen=True)
class Options:
    persona: str
    units: int
    run_dir: Path
    defects: dict[str, int | None]
    time_scale: float = 1.0
    lifetime: float = 3600.0


@contextlib.contextmanager
def run_dir_lock(run_dir: Path) -> Iterator[None]:
    """One simulator per run directory (the kernel drops the lock if the process dies)."""
    fd = os.open(run_dir / "sim.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunDirBusy(f"run directory {run_dir} is in use by another simulator") from None
        yield
    finally:
        os.close(fd)


def runtime_facts(opts: Options, units: list[Unit], consoles: list[Console], web: WebServer,
                  ca: Path) -> dict[str, Any]:
    base = web.base_url
    return {
        "persona": opts.persona,
        "defects": dict(opts.defects),
        "pid": os.getpid(),
        "time_scale": opts.time_scale,
        "product": {"manufacturer": MANUFACTURER, "model": MODEL, "hardware": HARDWARE, "firmware": FIRMWARE},
        "units": {u.identity.uid: {"console": c.port.path, "serial": u.identity.serial, "mac": u.identity.mac,
                                   "address": "127.0.0.1"} for u, c in zip(units, consoles, strict=True)},
        "https": {"base_url": base, "ca": str(ca), "security_txt": base + SECURITY_TXT, "policy": base + POLICY,
                  "support": base + SUPPORT},
    }


async def _serve(opts: Options, run_dir: Path) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    persona = PERSONAS[opts.persona]
    behaviour = behaviour_for(opts.persona, opts.defects)
    delays = Delays(scale=opts.time_scale)
    units: list[Unit] = []
    consoles: list[Console] = []
    web: WebServer | None = None
    try:
        for i in range(1, opts.units + 1):
            identity = persona.unit(i)
            units.append(Unit(identity, behaviour, Flash(run_dir / "flash" / f"{identity.uid}.json"), delays,
                              taken_labels=[u.label for u in units]))
            consoles.append(Console(units[-1], PtyPort()))
        certs = make_lab_certificates()
        ca = run_dir / runtime.CA
        runtime.write_atomic(ca, certs.ca_pem)
        web = WebServer(certs)
        web.serve(documents(behaviour, web.base_url))
        for console in consoles:
            console.start(loop)
        for unit in units:
            unit.power_on()
        runtime.publish_secrets(run_dir, {u.identity.uid: u.label for u in units})
        runtime.publish_runtime(run_dir, runtime_facts(opts, units, consoles, web, ca))
        print(f"harness sim: {opts.persona}, {opts.units} unit(s), {web.base_url}, pid {os.getpid()}: ready "
              f"({run_dir / runtime.RUNTIME})", flush=True)
        try:
            await asyncio.wait_for(stop.wait(), timeout=opts.lifetime)
            why = "signal"
        except TimeoutError:
            why = f"lifetime of {opts.lifetime:g} s over"
        print(f"harness sim: stopping ({why})", flush=True)
    finally:
        runtime.withdraw_runtime(run_dir)
        for unit in units:
            await unit.shutdown()
        for console in consoles:
            await console.close()
        if web is not None:
            web.close()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def run(opts: Options) -> int:
    run_dir = opts.run_dir.resolve()
    try:
        (run_dir / "flash").mkdir(parents=True, exist_ok=True)
        with run_dir_lock(run_dir):
            runtime.withdraw_runtime(run_dir)  # a stale file from a killed simulator is not readiness
            asyncio.run(_serve(opts, run_dir))
    except (RunDirBusy, OSError) as exc:
        print(f"harness sim: {exc}", file=sys.stderr)
        return 1
    return 0
