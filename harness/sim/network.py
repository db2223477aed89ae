"""A unit's network presence: its own loopback address and the services listening there.

Unit n of a simulator gets 127.77.<block>.<n> (Linux routes all of 127/8 to lo), so a scan of one
unit sees only that unit's services, on fixed ports:

    https 8443 (admin API)   ssh 2222   telnet 2323 (behaviour `telnet`)
    debug 4444 (behaviour `debug_shell`, undocumented)   coap udp/5683

Block 0 is used unless another simulator on this machine already holds one of those sockets; then
the next free block (all units move together). runtime.json publishes the address actually used.
Listening sockets live as long as the simulator, except while the unit's supply is off: then every
service is closed (a scan sees closed ports) and listens again at power-on. While a unit is down
otherwise (booting, resetting, installing) its services hold new connections until it is up, and
sessions in progress end when it goes down.

An unpowered unit still owns its address: a claim socket (UDP 5682, connected to itself, so it
receives nothing and a probe gets "port unreachable", i.e. looks closed) stays bound for the
simulator's life, and every simulator binds it first, so none can take a block whose units are
all switched off (harness.sim.presence, shared with the camera)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

from harness.sim.api import ApiServer
from harness.sim.certs import LabCertificates, SimCA
from harness.sim.coap import CoapServer
from harness.sim.debugd import DebugShellServer
from harness.sim.presence import UnitPresence, bind_block
from harness.sim.sshd import SshServer
from harness.sim.telnetd import TelnetServer
from harness.sim.unit import Unit

if TYPE_CHECKING:
    from harness.sim.mqtt import MqttClient

PORTS = {"https": 8443, "ssh": 2222, "telnet": 2323, "debug": 4444, "coap": 5683}
MAX_BLOCKS = 32


def unit_address(block: int, index: int) -> str:
    return f"127.77.{block}.{index}"


class UnitNetwork(UnitPresence):
    def __init__(self, unit: Unit, mqtt: MqttClient | None, ca: SimCA, key_dir: Path,
                 loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(unit.identity)
        self.unit = unit
        self.ca = ca
        self.loop = loop
        b = unit.behaviour
        self.ssh = SshServer(unit, mqtt, key_dir / f"{unit.identity.uid}.ssh_host_key")
        self.telnet = TelnetServer(unit, mqtt) if b.telnet else None
        self.debug = DebugShellServer(unit) if b.debug_shell else None
        self.coap = CoapServer(unit)
        self.api: ApiServer | None = None
        self._certs: dict[str, LabCertificates] = {}  # per address: issued once, kept over power cycles

    @property
    def services(self) -> dict[str, int | str]:
        out: dict[str, int | str] = {"https": PORTS["https"], "ssh": PORTS["ssh"]}
        if self.telnet is not None:
            out["telnet"] = PORTS["telnet"]
        if self.debug is not None:
            out["debug"] = PORTS["debug"]
        out["coap"] = f"udp/{PORTS['coap']}"
        return out

    async def _listen(self, address: str) -> None:
        certs = self._certs.get(address)
        if certs is None:
            legacy = self.unit.behaviour.tls == "legacy"
            certs = self._certs[address] = self.ca.issue([address], rsa_bits=1024 if legacy else None)
        self.api = ApiServer(self.unit, address, PORTS["https"], certs, self.loop)
        await self.ssh.start(address, PORTS["ssh"])
        if self.telnet is not None:
            await self.telnet.start(address, PORTS["telnet"])
        if self.debug is not None:
            await self.debug.start(address, PORTS["debug"])
        await self.coap.start(address, PORTS["coap"])
        self.listening = True

    def serve(self) -> None:
        assert self.api is not None
        self.api.start()

    async def _stop_services(self) -> None:
        self.listening = False
        if self.api is not None:
            api, self.api = self.api, None
            await asyncio.to_thread(api.close)  # waits for its serving thread's poll: in parallel with the others
        for server in (self.ssh, self.telnet, self.debug, self.coap):
            if server is not None:
                await server.close()


async def bind_units(networks: list[UnitNetwork]) -> int:
    """Give every unit its address in the first block where all their ports are free."""
    return await bind_block(networks, unit_address, MAX_BLOCKS,
                            f"no free address block in 127.77.0-{MAX_BLOCKS - 1}.x for the units' services")
