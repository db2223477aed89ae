"""Assemble and run one simulator: units, their consoles, MQTT clients, update services, network
services and bench supplies, the manufacturer's HTTPS site and update packages, the runtime files."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.sim import bootstrap, jig, packages, runtime
from harness.sim.catalog import FIRMWARE, HARDWARE, MANUFACTURER, MODEL, PERSONAS, behaviour_for
from harness.sim.certs import SimCA
from harness.sim.console import Console
from harness.sim.documents import documents, published
from harness.sim.flash import Flash
from harness.sim.mqtt import MqttClient
from harness.sim.network import UnitNetwork, bind_units
from harness.sim.pty_port import PtyPort
from harness.sim.recovery import ServiceMode, publish_factory_image
from harness.sim.supply import UnitSupply
from harness.sim.timing import Delays
from harness.sim.unit import Unit
from harness.sim.updater import Updater
from harness.sim.web import WebServer


@dataclass(frozen=True)
class Options:
    persona: str
    units: int
    run_dir: Path
    defects: dict[str, int | None]
    time_scale: float = 1.0
    lifetime: float = 3600.0
    trust_ca: Path | None = None  # the CA the units' MQTT clients trust; default: the simulator's own


def runtime_facts(opts: Options, units: list[Unit], consoles: list[Console], networks: list[UnitNetwork],
                  supplies: list[UnitSupply], web: WebServer, ca: Path,
                  firmware: packages.PublishedPackages) -> dict[str, Any]:
    base = web.base_url
    return {
        **bootstrap.base_facts(opts.persona, dict(opts.defects), opts.time_scale,
                               {"manufacturer": MANUFACTURER, "model": MODEL, "hardware": HARDWARE, "firmware": FIRMWARE}),
        "units": {u.identity.uid: {"console": c.port.path, "serial": u.identity.serial, "mac": u.identity.mac,
                                   "address": n.address, "services": n.services, "supply": s.resource}
                  for u, c, n, s in zip(units, consoles, networks, supplies, strict=True)},
        "https": {"base_url": base, "ca": str(ca), **published(base)},
        # The factory image beside the published packages (harness.sim.recovery): for restore_firmware.
        "firmware": {**firmware.facts(), "delivered": str(firmware.valid.parent / f"simiot-h1-{FIRMWARE}.simfw")},
    }


async def _serve(opts: Options, run_dir: Path) -> None:
    loop = asyncio.get_running_loop()
    stop = bootstrap.catch_stop_signals(loop)
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
        firmware = packages.publish(run_dir, embedded_secrets=behaviour.firmware_embedded_key)
        publish_factory_image(run_dir, embedded_secrets=behaviour.firmware_embedded_key)
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
            supplies[-1].service_mode = ServiceMode(unit, consoles[-1], unit.updater)
        await bind_units(networks)
        await asyncio.gather(*(s.start() for s in supplies))
        jig.publish(run_dir, {s.unit.identity.uid: s.resource for s in supplies})
        web = WebServer(ca.issue(["localhost", "127.0.0.1"]))
        web.serve(documents(behaviour, web.base_url))
        for net, client in zip(networks, clients, strict=True):
            net.serve()
            assert net.address is not None
            client.start(loop, net.address)
            if net.unit.updater is not None:
                net.unit.updater.address = net.address
        bootstrap.power_on(loop, consoles, units)
        runtime.publish_secrets(run_dir, {u.identity.uid: u.label for u in units})
        runtime.publish_runtime(run_dir, runtime_facts(opts, units, consoles, networks, supplies, web, ca_path,
                                                       firmware))
        bootstrap.announce_ready(opts.persona, [(n.unit.identity.uid, n.address) for n in networks], web.base_url,
                                 run_dir)
        await bootstrap.until_stopped(stop, opts.lifetime)
    finally:
        await bootstrap.shut_down(run_dir, units, lambda: [
            *(c.close() for c in clients), *(n.close() for n in networks), *(s.close() for s in supplies),
            *([asyncio.to_thread(web.close)] if web is not None else [])], consoles)
        bootstrap.release_stop_signals(loop)


def run(opts: Options) -> int:
    return bootstrap.run(opts.run_dir, lambda run_dir: _serve(opts, run_dir))
