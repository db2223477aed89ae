"""Assemble and run the camera simulator: units with their UART, services, cloud client and bench
supply, the maker's cloud broker, and the files of the run directory (runtime.json, secrets.json,
lab.yaml, the CAs)."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.sim import runtime
from harness.sim.app import RunDirBusy, run_dir_lock
from harness.sim.camera import cloud, model
from harness.sim.camera.cloud import CloudBroker, CloudClient
from harness.sim.camera.console import CameraConsole
from harness.sim.camera.model import Defects
from harness.sim.camera.network import CameraNetwork
from harness.sim.camera.unit import CameraUnit
from harness.sim.certs import SimCA
from harness.sim.pty_port import PtyPort
from harness.sim.supply import UnitSupply
from harness.sim.timing import Delays

WEB_CA = "camera-ca.pem"  # the maker's CA that signs each camera's HTTPS certificate
OBSERVER_SECRET = "LUMACAM_CLOUD_OBSERVER"


@dataclass(frozen=True)
class Options:
    units: int
    run_dir: Path
    defects: Defects
    time_scale: float = 1.0
    lifetime: float = 3600.0


def label_secret(uid: str) -> str:
    return f"LUMACAM_{uid}_LABEL"


def lab_yaml(cloud_host: str, cloud_ca: Path, observer_user: str) -> str:
    return f"""\
# Lab configuration for a camera simulator run, written by `harness sim --persona camera`.
schema_version: 1
name: "simulator (camera)"
runtime: runtime.json
secrets: {{file: secrets.json, environment: false}}
fetch: {{allow: [127.0.0.0/8], ca: {{runtime: https.ca}}, timeout: 5}}
networks: [127.0.0.0/8]
# The maker's cloud broker is fixed in the cameras' firmware: the lab observes it.
broker:
  start: false
  url: mqtts://{cloud_host}:{model.CLOUD_PORTS["tls"]}
  ca: {cloud_ca}
  observer: {{user: {observer_user}, password: {{secret: {OBSERVER_SECRET}}}}}
capture: {{interface: lo}}
"""


async def _bind(networks: list[CameraNetwork]) -> int:
    """The first block where every unit's address and ports are free."""
    for block in range(model.MAX_BLOCKS):
        try:
            for net in networks:
                await net.bind(model.unit_address(block, net.unit.identity.index))
            return block
        except OSError as exc:
            for net in networks:
                await net.close()
            if exc.errno != errno.EADDRINUSE:
                raise
    raise OSError(errno.EADDRINUSE, f"no free address block in 127.91.0-{model.MAX_BLOCKS - 1}.x")


def _facts(opts: Options, units: list[CameraUnit], consoles: list[CameraConsole], networks: list[CameraNetwork],
           supplies: list[UnitSupply], broker: CloudBroker, run_dir: Path) -> dict[str, Any]:
    return {
        "persona": "camera",
        "defects": opts.defects.names(),
        "pid": os.getpid(),
        "time_scale": opts.time_scale,
        "product": {"manufacturer": model.MANUFACTURER, "model": model.MODEL, "hardware": model.HARDWARE,
                    "firmware": model.FIRMWARE},
        "units": {u.identity.uid: {"console": c.port.path, "serial": u.identity.serial, "mac": u.identity.mac,
                                   "address": n.address, "services": n.services, "supply": s.resource}
                  for u, c, n, s in zip(units, consoles, networks, supplies, strict=True)},
        "https": {"ca": str(run_dir / WEB_CA)},
        "cloud": {"host": broker.host, "ports": dict(model.CLOUD_PORTS), "ca": str(broker.ca_path),
                  "url": broker.url("tls"), "plain_url": broker.url("plain"), "observer": broker.observer[0]},
    }


async def _serve(opts: Options, run_dir: Path) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    delays = Delays(scale=opts.time_scale, boot=6.0, failed_login=2.0)  # pam_faildelay 2 s
    units: list[CameraUnit] = []
    clients: list[CloudClient] = []
    consoles: list[CameraConsole] = []
    networks: list[CameraNetwork] = []
    supplies: list[UnitSupply] = []
    broker: CloudBroker | None = None
    try:
        ca = SimCA()
        runtime.write_atomic(run_dir / WEB_CA, ca.ca_pem)
        cloud_ca = run_dir / "cloud-ca" / "ca.pem"
        for i in range(1, opts.units + 1):
            unit = CameraUnit(model.identity(i), opts.defects, run_dir / "flash" / f"{i}.json", delays,
                              taken_labels=[u.label for u in units])
            units.append(unit)
            clients.append(CloudClient(unit, "", cloud_ca))
            consoles.append(CameraConsole(unit, PtyPort(), clients[-1]))
            clients[-1].notify = consoles[-1].notice
            networks.append(CameraNetwork(unit, clients[-1], ca, run_dir / "flash", loop))
            supplies.append(UnitSupply(unit, networks[-1]))  # type: ignore[arg-type]
        block = await _bind(networks)
        host = model.cloud_address(block)
        accounts = {u.cloud_user: u.cloud_password for u in units}
        broker = await asyncio.to_thread(cloud.start_broker, run_dir, host, accounts)
        await asyncio.gather(*(s.start() for s in supplies))
        for net, client in zip(networks, clients, strict=True):
            net.serve()
            assert net.address is not None
            client.cloud_host = host
            client.start(loop, net.address)
        for console in consoles:
            console.start(loop)
        for unit in units:
            unit.power_on()
        secrets = {label_secret(u.identity.uid): u.label for u in units}
        secrets[OBSERVER_SECRET] = broker.observer[1]
        runtime.write_json(run_dir / runtime.SECRETS, secrets, mode=0o600)
        runtime.write_atomic(run_dir / "lab.yaml", lab_yaml(host, broker.ca_path, broker.observer[0]).encode())
        runtime.publish_runtime(run_dir, _facts(opts, units, consoles, networks, supplies, broker, run_dir))
        addresses = ", ".join(f"{n.unit.identity.uid} {n.address}" for n in networks)
        print(f"harness sim: camera, {opts.units} unit(s) ({addresses}), cloud {host}, pid {os.getpid()}: ready "
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
        await asyncio.gather(*(c.close() for c in clients), *(n.close() for n in networks),
                             *(s.close() for s in supplies))
        for console in consoles:
            await console.close()
        if broker is not None:
            await asyncio.to_thread(cloud.stop_broker, broker, run_dir)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


def run(opts: Options) -> int:
    run_dir = opts.run_dir.resolve()
    try:
        (run_dir / "flash").mkdir(parents=True, exist_ok=True)
        with run_dir_lock(run_dir):
            runtime.withdraw_runtime(run_dir)
            cloud.reap_stale(run_dir)
            asyncio.run(_serve(opts, run_dir))
    except (RunDirBusy, OSError) as exc:
        print(f"harness sim: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # the cloud broker failed to start (a LabFault): say so, exit 1
        print(f"harness sim: camera: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0
