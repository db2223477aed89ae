"""Assemble and run the camera simulator: units with their UART, services, cloud client and bench
supply, the maker's cloud broker, and the files of the run directory (runtime.json, secrets.json,
lab.yaml, the CAs)."""

from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.sim import bootstrap, labfile, runtime
from harness.sim.camera import cloud, model
from harness.sim.camera.cloud import CloudBroker, CloudClient
from harness.sim.camera.console import CameraConsole
from harness.sim.camera.model import Defects
from harness.sim.camera.network import CameraNetwork
from harness.sim.camera.unit import CameraUnit
from harness.sim.certs import SimCA
from harness.sim.presence import bind_block
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
    return labfile.observed_cloud_lab(
        "camera", "The maker's cloud broker is fixed in the cameras' firmware: the lab observes it.",
        f"mqtts://{cloud_host}:{model.CLOUD_PORTS['tls']}", str(cloud_ca), observer_user, OBSERVER_SECRET)


async def _bind(networks: list[CameraNetwork]) -> int:
    """The first block where every unit's address and ports are free."""
    return await bind_block(networks, model.unit_address, model.MAX_BLOCKS,
                            f"no free address block in 127.91.0-{model.MAX_BLOCKS - 1}.x")


def _facts(opts: Options, units: list[CameraUnit], consoles: list[CameraConsole], networks: list[CameraNetwork],
           supplies: list[UnitSupply], broker: CloudBroker, run_dir: Path) -> dict[str, Any]:
    return {
        **bootstrap.base_facts("camera", opts.defects.names(), opts.time_scale,
                               {"manufacturer": model.MANUFACTURER, "model": model.MODEL, "hardware": model.HARDWARE,
                                "firmware": model.FIRMWARE}),
        "units": {u.identity.uid: {"console": c.port.path, "serial": u.identity.serial, "mac": u.identity.mac,
                                   "address": n.address, "services": n.services, "supply": s.resource}
                  for u, c, n, s in zip(units, consoles, networks, supplies, strict=True)},
        "https": {"ca": str(run_dir / WEB_CA)},
        "cloud": {"host": broker.host, "ports": dict(model.CLOUD_PORTS), "ca": str(broker.ca_path),
                  "url": broker.url("tls"), "plain_url": broker.url("plain"), "observer": broker.observer[0]},
    }


async def _serve(opts: Options, run_dir: Path) -> None:
    loop = asyncio.get_running_loop()
    stop = bootstrap.catch_stop_signals(loop)
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
        bootstrap.power_on(loop, consoles, units)
        secrets = {label_secret(u.identity.uid): u.label for u in units}
        secrets[OBSERVER_SECRET] = broker.observer[1]
        runtime.write_secrets(run_dir, secrets)
        runtime.write_atomic(run_dir / labfile.FILE, lab_yaml(host, broker.ca_path, broker.observer[0]).encode())
        runtime.publish_runtime(run_dir, _facts(opts, units, consoles, networks, supplies, broker, run_dir))
        bootstrap.announce_ready("camera", [(n.unit.identity.uid, n.address) for n in networks], f"cloud {host}",
                                 run_dir)
        await bootstrap.until_stopped(stop, opts.lifetime)
    finally:
        await bootstrap.shut_down(run_dir, units, lambda: [
            *(c.close() for c in clients), *(n.close() for n in networks), *(s.close() for s in supplies)], consoles)
        if broker is not None:
            await asyncio.to_thread(cloud.stop_broker, broker, run_dir)
        bootstrap.release_stop_signals(loop)


def run(opts: Options) -> int:
    try:
        return bootstrap.run(opts.run_dir, lambda run_dir: _serve(opts, run_dir), prepare=cloud.reap_stale)
    except Exception as exc:  # the cloud broker failed to start (a LabFault): say so, exit 1
        print(f"harness sim: camera: {type(exc).__name__}: {exc}", file=sys.stderr)
        return bootstrap.FAILED
