"""Assemble and run one plug simulator: the vendor cloud broker, the units (console on a pty, web
server on the unit's own address, MQTT client, bench supply), then the run directory's files:
runtime.json (written last: its appearance means ready), secrets.json and lab.yaml."""

from __future__ import annotations

import asyncio
import errno
import secrets
import socket
from collections.abc import Awaitable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.sim import bootstrap, labfile, runtime
from harness.sim.certs import SimCA
from harness.sim.plug import catalog
from harness.sim.plug.catalog import Behaviour
from harness.sim.plug.cloud import VendorCloud
from harness.sim.plug.console import PlugConsole
from harness.sim.plug.firmware import Firmware
from harness.sim.plug.mqtt import CloudEndpoint, PlugMqtt
from harness.sim.plug.supply import PlugSupply
from harness.sim.plug.unit import PlugUnit
from harness.sim.plug.web import PlugWeb
from harness.sim.presence import claim
from harness.sim.pty_port import PtyPort
from harness.sim.timing import Delays
from harness.verdict import LabFault

HTTPS_PORT = 8443
OBSERVER_SECRET = "PLUG_CLOUD_OBSERVER"
DELAYS = {"boot": 1.5, "failed_login": 0.5, "reset_erase": 0.5}


@dataclass(frozen=True)
class Options:
    units: int
    run_dir: Path
    defects: list[str]
    time_scale: float = 1.0
    lifetime: float = 3600.0


def label_secret(uid: str) -> str:
    return f"PLUG_{uid}_LABEL"


def _port_free(address: str, port: int) -> None:
    """OSError (EADDRINUSE) when a TCP port cannot be bound on `address`, e.g. a wildcard listener."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))


class _Claims:
    """The block's addresses, held for the simulator's life (harness.sim.presence.claim); a block is
    taken only when the fixed ports are free on all its addresses."""

    def __init__(self) -> None:
        self.sockets: list[socket.socket] = []

    def take(self, units: int) -> int:
        for block in range(catalog.MAX_BLOCKS):
            try:
                cloud = catalog.cloud_address(block)
                self.sockets.append(claim(cloud))
                for port in (catalog.CLOUD_TLS_PORT, catalog.CLOUD_PLAIN_PORT):
                    _port_free(cloud, port)
                for address in [catalog.unit_address(block, i) for i in range(1, units + 1)]:
                    self.sockets.append(claim(address))
                    for port in (HTTPS_PORT, catalog.HTTP_PORT):
                        _port_free(address, port)
                return block
            except OSError as exc:
                self.release()
                if exc.errno != errno.EADDRINUSE:
                    raise
        raise OSError(errno.EADDRINUSE, f"no free plug address block in 127.92.0-{catalog.MAX_BLOCKS - 1}.x")

    def release(self) -> None:
        for sock in self.sockets:
            sock.close()
        self.sockets.clear()


def runtime_facts(opts: Options, units: list[PlugUnit], consoles: list[PlugConsole], supplies: list[PlugSupply],
                  addresses: list[str], cloud: VendorCloud, ca_path: Path) -> dict[str, Any]:
    return {
        **bootstrap.base_facts("plug", list(opts.defects), opts.time_scale,
                               {"manufacturer": catalog.MANUFACTURER, "model": catalog.MODEL,
                                "hardware": catalog.HARDWARE, "firmware": catalog.FIRMWARE}),
        "units": {u.ident.uid: {"console": c.port.path, "serial": u.ident.serial, "mac": u.ident.mac,
                                "address": a, "topic": u.firmware.topic,
                                "services": {"https": HTTPS_PORT, "http": catalog.HTTP_PORT},
                                "supply": s.resource}
                  for u, c, s, a in zip(units, consoles, supplies, addresses, strict=True)},
        "https": {"ca": str(ca_path)},
        "cloud": {"host": cloud.host, "name": catalog.CLOUD_NAME, "tls_port": cloud.tls_port,
                  "plain_port": cloud.plain_port, "url": f"mqtts://{cloud.host}:{cloud.tls_port}",
                  "ca": str(cloud.ca_path), "observer": cloud.observer[0]},
    }


def _closing(clients: list[PlugMqtt], webs: list[PlugWeb], supplies: list[PlugSupply]) -> list[Awaitable[Any]]:
    """What closes once the units are down: the MQTT clients stop reconnecting first."""
    for client in clients:
        client.stop()
    return [*(asyncio.to_thread(w.close) for w in webs), *(s.close() for s in supplies),
            *(asyncio.to_thread(c.close) for c in clients)]


async def _serve(opts: Options, run_dir: Path, behaviour: Behaviour) -> None:
    loop = asyncio.get_running_loop()
    stop = bootstrap.catch_stop_signals(loop)
    delays = Delays(scale=opts.time_scale, **DELAYS)
    claims = _Claims()
    cloud: VendorCloud | None = None
    units: list[PlugUnit] = []
    consoles: list[PlugConsole] = []
    clients: list[PlugMqtt] = []
    webs: list[PlugWeb] = []
    supplies: list[PlugSupply] = []
    try:
        block = claims.take(opts.units)
        addresses = [catalog.unit_address(block, i) for i in range(1, opts.units + 1)]
        ca = SimCA()
        ca_path = run_dir / runtime.CA
        runtime.write_atomic(ca_path, ca.ca_pem)
        firmwares: list[Firmware] = []
        for i, address in enumerate(addresses, start=1):
            firmwares.append(Firmware(catalog.identity(i), behaviour, run_dir / "flash" / f"U{i}.json", address,
                                      taken_labels=[f.label for f in firmwares]))
        device_keys = {f.mqtt_user: secrets.token_urlsafe(18) for f in firmwares}
        cloud = VendorCloud(run_dir / "cloud-broker", catalog.cloud_address(block), [catalog.CLOUD_NAME],
                            catalog.CLOUD_TLS_PORT, catalog.CLOUD_PLAIN_PORT, device_keys,
                            {f.mqtt_user: f.topic for f in firmwares})
        cloud.start()
        endpoint = CloudEndpoint(cloud.host, cloud.tls_port, cloud.plain_port, cloud.ca_path)
        for firmware, address in zip(firmwares, addresses, strict=True):
            unit = PlugUnit(firmware, delays, loop)
            units.append(unit)
            consoles.append(PlugConsole(unit, PtyPort()))
            clients.append(PlugMqtt(unit, endpoint, device_keys[firmware.mqtt_user], address))
            webs.append(PlugWeb(unit, ca.issue([address]), HTTPS_PORT, catalog.HTTP_PORT))
            supplies.append(PlugSupply(unit, webs[-1], address))
        for web, address in zip(webs, addresses, strict=True):
            web.listen(address)
        await asyncio.gather(*(s.start() for s in supplies))
        bootstrap.power_on(loop, consoles, units)
        runtime.write_secrets(run_dir, {**{label_secret(u.ident.uid): u.firmware.label for u in units},
                                        OBSERVER_SECRET: cloud.observer[1]})
        runtime.write_atomic(run_dir / labfile.FILE, labfile.observed_cloud_lab(
            "plug", "The vendor's cloud broker is fixed in the plug's firmware: the lab observes it, it cannot re-point it.",
            f"mqtts://{cloud.host}:{cloud.tls_port}", "{runtime: cloud.ca}", cloud.observer[0], OBSERVER_SECRET).encode())
        runtime.publish_runtime(run_dir, runtime_facts(opts, units, consoles, supplies, addresses, cloud, ca_path))
        bootstrap.announce_ready("plug", [(u.ident.uid, a) for u, a in zip(units, addresses, strict=True)],
                                 f"cloud {cloud.host}", run_dir)
        await bootstrap.until_stopped(stop, opts.lifetime)
    finally:
        await bootstrap.shut_down(run_dir, units, lambda: _closing(clients, webs, supplies), consoles)
        if cloud is not None:
            await asyncio.to_thread(cloud.stop)
        claims.release()
        bootstrap.release_stop_signals(loop)


def run(opts: Options) -> int:
    behaviour = catalog.behaviour_for(opts.defects)
    return bootstrap.run(opts.run_dir, lambda run_dir: _serve(opts, run_dir, behaviour), faults=(LabFault,))
