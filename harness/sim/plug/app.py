"""Assemble and run one plug simulator: the vendor cloud broker, the units (console on a pty, web
server on the unit's own address, MQTT client, bench supply), then the run directory's files:
runtime.json (written last: its appearance means ready), secrets.json and lab.yaml."""

from __future__ import annotations

import asyncio
import errno
import os
import secrets
import signal
import socket
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.sim import runtime
from harness.sim.app import RunDirBusy, run_dir_lock
from harness.sim.certs import SimCA
from harness.sim.network import claim
from harness.sim.plug import catalog
from harness.sim.plug.catalog import Behaviour
from harness.sim.plug.cloud import VendorCloud
from harness.sim.plug.console import PlugConsole
from harness.sim.plug.firmware import Firmware
from harness.sim.plug.mqtt import CloudEndpoint, PlugMqtt
from harness.sim.plug.supply import PlugSupply
from harness.sim.plug.unit import PlugUnit
from harness.sim.plug.web import PlugWeb
from harness.sim.pty_port import PtyPort
from harness.sim.timing import Delays
from harness.verdict import LabFault

HTTPS_PORT = 8443
LAB_FILE = "lab.yaml"
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


LAB_TEMPLATE = """\
# Lab configuration for a plug simulator run, written by `harness sim --persona plug`.
schema_version: 1
name: "simulator (plug)"
runtime: runtime.json
secrets: {{file: secrets.json, environment: false}}
fetch: {{allow: [127.0.0.0/8], ca: {{runtime: https.ca}}, timeout: 5}}
networks: [127.0.0.0/8]
# The vendor's cloud broker is fixed in the plug's firmware: the lab observes it, it cannot re-point it.
broker:
  start: false
  url: mqtts://{host}:{tls_port}
  ca: {{runtime: cloud.ca}}
  observer: {{user: {observer}, password: {{secret: {secret}}}}}
capture: {{interface: lo}}
"""


def _port_free(address: str, port: int) -> None:
    """OSError (EADDRINUSE) when a TCP port cannot be bound on `address`, e.g. a wildcard listener."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((address, port))


class _Claims:
    """The block's addresses, held for the simulator's life (harness.sim.network.claim); a block is
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
        "persona": "plug",
        "defects": list(opts.defects),
        "pid": os.getpid(),
        "time_scale": opts.time_scale,
        "product": {"manufacturer": catalog.MANUFACTURER, "model": catalog.MODEL, "hardware": catalog.HARDWARE,
                    "firmware": catalog.FIRMWARE},
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


async def _serve(opts: Options, run_dir: Path, behaviour: Behaviour) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
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
        for console in consoles:
            console.start(loop)
        for unit in units:
            unit.power_on()
        runtime.write_json(run_dir / runtime.SECRETS, {**{label_secret(u.ident.uid): u.firmware.label for u in units},
                                                        OBSERVER_SECRET: cloud.observer[1]}, mode=0o600)
        runtime.write_atomic(run_dir / LAB_FILE, LAB_TEMPLATE.format(
            host=cloud.host, tls_port=cloud.tls_port, observer=cloud.observer[0], secret=OBSERVER_SECRET).encode())
        runtime.publish_runtime(run_dir, runtime_facts(opts, units, consoles, supplies, addresses, cloud, ca_path))
        listed = ", ".join(f"{u.ident.uid} {a}" for u, a in zip(units, addresses, strict=True))
        print(f"harness sim: plug, {opts.units} unit(s) ({listed}), cloud {cloud.host}, pid {os.getpid()}: ready "
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
        for client in clients:
            client.stop()
        await asyncio.gather(*(asyncio.to_thread(w.close) for w in webs), *(s.close() for s in supplies),
                             *(asyncio.to_thread(c.close) for c in clients))
        for console in consoles:
            await console.close()
        if cloud is not None:
            await asyncio.to_thread(cloud.stop)
        claims.release()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def run(opts: Options) -> int:
    behaviour = catalog.behaviour_for(opts.defects)
    run_dir = opts.run_dir.resolve()
    try:
        (run_dir / "flash").mkdir(parents=True, exist_ok=True)
        with run_dir_lock(run_dir):
            runtime.withdraw_runtime(run_dir)  # a stale file from a killed simulator is not readiness
            asyncio.run(_serve(opts, run_dir, behaviour))
    except (RunDirBusy, OSError, LabFault) as exc:
        print(f"harness sim: {exc}", file=sys.stderr)
        return 1
    return 0
