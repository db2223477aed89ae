"""A camera's network presence: its own loopback address (127.91.<block>.<n>) and its services,
https 7443, ssh 7022 (and telnet 7023 with the `telnet_enabled` defect). The hub's claim socket keeps the address while the supply is
off (harness.sim.presence); services close at power-off and listen again at power-on, which
is what harness.sim.supply.UnitSupply expects (suspend/resume)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from harness.sim.camera.cloud import CloudClient
from harness.sim.camera.model import PORTS
from harness.sim.camera.sshd import CameraSshServer
from harness.sim.camera.telnetd import CameraTelnetServer
from harness.sim.camera.unit import CameraUnit
from harness.sim.camera.web import CameraWebServer
from harness.sim.certs import LabCertificates, SimCA
from harness.sim.presence import UnitPresence


class CameraNetwork(UnitPresence):
    resume_failed = "services could not listen again on"

    def __init__(self, unit: CameraUnit, cloud: CloudClient, ca: SimCA, key_dir: Path,
                 loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(unit.identity)
        self.unit = unit
        self.cloud = cloud
        self.ca = ca
        self.loop = loop
        self.ssh = CameraSshServer(unit, cloud, key_dir / f"{unit.identity.uid}.ssh_host_key")
        self.telnet = CameraTelnetServer(unit, cloud) if unit.defects.telnet_enabled else None
        self.web: CameraWebServer | None = None
        self._certs: LabCertificates | None = None

    @property
    def services(self) -> dict[str, int]:
        return {name: port for name, port in PORTS.items() if name != "telnet" or self.telnet is not None}

    async def _listen(self, address: str) -> None:
        if self._certs is None:
            self._certs = self.ca.issue([address])
        self.web = CameraWebServer(self.unit, self.cloud, address, PORTS["https"], self._certs, self.loop)
        await self.ssh.start(address, PORTS["ssh"])
        if self.telnet is not None:
            await self.telnet.start(address, PORTS["telnet"])
        self.listening = True

    def serve(self) -> None:
        assert self.web is not None
        self.web.start()

    async def _stop_services(self) -> None:
        self.listening = False
        if self.web is not None:
            web, self.web = self.web, None
            await asyncio.to_thread(web.close)
        await self.ssh.close()
        if self.telnet is not None:
            await self.telnet.close()
