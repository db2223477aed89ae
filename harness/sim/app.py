"""Assemble and run one simulator: units, their consoles, MQTT clients, update services, network
services and bench supplies, the manufacturer's HTTPS site and update packages, the runtime files."""

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

from harness.sim import packages, runtime
from harness.sim.catalog import FIRMWARE, HARDWARE, MANUFACTURER, MODEL, PERSONAS, behaviour_for
from harness.sim.certs import SimCA
from harness.sim.console import Console
from harness.sim.documents import POLICY, SECURITY_TXT, SUPPORT, documents
from harness.sim.flash import Flash
from harness.sim.mqtt import MqttClient
from harness.sim.network import UnitNetwork, bind_units
from harness.sim.pty_port import PtyPort
from harness.sim.supply import UnitSupply
from harness.sim.timing import Delays
from harness.sim.unit import Unit
from harness.sim.updater import Updater
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
    trust_ca: Path | None = None  # the CA the units' MQTT clients trust; default: the simulator's own


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


def runtime_facts(opts: Options, units: list[Unit], consoles: list[Console], networks: list[UnitNetwork],
                  supplies: list[UnitSupply], web: WebServer, ca: Path,
                  firmware: packages.PublishedPackages) -> dict[str, Any]:
    base = web.base_url
    return {
        "persona": opts.persona,
        "defects": dict(opts.defects),
        "pid": os.getpid(),
        "time_scale": opts.time_scale,
        "product": {"manufacturer": MANUFACTURER, "model": MODEL, "hardware": HARDWARE, "firmware": FIRMWARE},
        "units": {u.identity.uid: {"console": c.port.path, "serial": u.identity.serial, "mac": u.identity.mac,
                                   "address": n.address, "services": n.services, "supply": s.resource}
                  for u, c, n, s in zip(units, consoles, networks, supplies, strict=True)},
        "https": {"base_url": base, "ca": str(ca), "security_txt": base + SECURITY_TXT, "policy": base + POLICY,
                  "support": base + SUPPORT},
        "firmware": firmware.facts(),
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
    clients: list[MqttClient] = []
    networks: list[UnitNetwork] = []
    supplies: list[UnitSupply] = []
    web: WebServer | None = None
    try:
        ca = SimCA()
        ca_path = run_dir / runtime.CA
        runtime.write_atomic(ca_path, ca.ca_pem)
        trust_ca = opts.trust_ca.resolve() if opts.trust_ca else ca_path
        firmware = packages.publish(run_dir)
        anchor = packages.trust_anchor()
        for i in range(1, opts.units + 1):
            identity = persona.unit(i)
            unit = Unit(identity, behaviour, Flash(run_dir / "flash" / f"{identity.uid}.json"), delays,
                        taken_labels=[u.label for u in units])
            units.append(unit)
            clients.append(MqttClient(unit, trust_ca))
            consoles.append(Console(unit, PtyPort(), clients[-1]))
            clients[-1].notify = consoles[-1].notice
            networks.append(UnitNetwork(unit, clients[-1], ca, run_dir / "flash", loop))
            unit.updater = Updater(unit, anchor, trust_ca)
            supplies.append(UnitSupply(unit, networks[-1]))
        await bind_units(networks)
        await asyncio.gather(*(s.start() for s in supplies))
        web = WebServer(ca.issue(["localhost", "127.0.0.1"]))
        web.serve(documents(behaviour, web.base_url))
        for net, client in zip(networks, clients, strict=True):
            net.serve()
            assert net.address is not None
            client.start(loop, net.address)
            if net.unit.updater is not None:
                net.unit.updater.address = net.address
        for console in consoles:
            console.start(loop)
        for unit in units:
            unit.power_on()
        runtime.publish_secrets(run_dir, {u.identity.uid: u.label for u in units})
        runtime.publish_runtime(run_dir, runtime_facts(opts, units, consoles, networks, supplies, web, ca_path,
                                                       firmware))
        addresses = ", ".join(f"{n.unit.identity.uid} {n.address}" for n in networks)
        print(f"harness sim: {opts.persona}, {opts.units} unit(s) ({addresses}), {web.base_url}, pid {os.getpid()}: ready "
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
        # Concurrently: each HTTPS server waits for its thread's poll interval to stop.
        await asyncio.gather(*(c.close() for c in clients), *(n.close() for n in networks),
                             *(s.close() for s in supplies),
                             *([asyncio.to_thread(web.close)] if web is not None else []))
        for console in consoles:
            await console.close()
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
