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
all switched off."""

from __future__ import annotations

import asyncio
import errno
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from harness.sim.api import ApiServer
from harness.sim.certs import LabCertificates, SimCA
from harness.sim.coap import CoapServer
from harness.sim.debugd import DebugShellServer
from harness.sim.sshd import SshServer
from harness.sim.telnetd import TelnetServer
from harness.sim.unit import Unit

if TYPE_CHECKING:
    from harness.sim.mqtt import MqttClient

PORTS = {"https": 8443, "ssh": 2222, "telnet": 2323, "debug": 4444, "coap": 5683}
CLAIM_PORT = 5682  # udp, see the module docstring
MAX_BLOCKS = 32


def unit_address(block: int, index: int) -> str:
    return f"127.77.{block}.{index}"


class UnitNetwork:
    def __init__(self, unit: Unit, mqtt: MqttClient | None, ca: SimCA, key_dir: Path,
                 loop: asyncio.AbstractEventLoop) -> None:
        self.unit = unit
        self.ca = ca
        self.loop = loop
        b = unit.behaviour
        self.ssh = SshServer(unit, mqtt, key_dir / f"{unit.identity.uid}.ssh_host_key")
        self.telnet = TelnetServer(unit, mqtt) if b.telnet else None
        self.debug = DebugShellServer(unit) if b.debug_shell else None
        self.coap = CoapServer(unit)
        self.api: ApiServer | None = None
        self.address: str | None = None
        self.listening = False
        self._claim: socket.socket | None = None
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

    async def bind(self, address: str) -> None:
        """Claim `address` and listen on every service there, or on none (OSError)."""
        try:
            self._claim = claim(address)
            await self._listen(address)
        except OSError:
            await self.close()
            raise
        self.address = address

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

    async def suspend(self) -> None:
        """Power off: every service closed (sessions end, ports refuse), the address kept."""
        await self._stop_services()

    async def resume(self) -> None:
        """Power on: listen again on the same address (the boot then holds new connections)."""
        if self.address is None or self.listening:
            return
        try:
            await self._listen(self.address)
            self.serve()
        except OSError as exc:  # someone took a port while the unit was off: it comes up without services
            await self._stop_services()
            print(f"harness sim: {self.unit.identity.uid}: its services could not listen again on {self.address}: "
                  f"{exc}", file=sys.stderr, flush=True)

    async def _stop_services(self) -> None:
        self.listening = False
        if self.api is not None:
            api, self.api = self.api, None
            await asyncio.to_thread(api.close)  # waits for its serving thread's poll: in parallel with the others
        for server in (self.ssh, self.telnet, self.debug, self.coap):
            if server is not None:
                await server.close()

    async def close(self) -> None:
        await self._stop_services()
        if self._claim is not None:
            self._claim.close()
            self._claim = None
        self.address = None


def claim(address: str) -> socket.socket:
    """The address's claim socket (an OSError with EADDRINUSE when another simulator holds it)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.bind((address, CLAIM_PORT))
        sock.connect((address, CLAIM_PORT))  # accepts datagrams from itself only: the port looks closed
    except OSError:
        sock.close()
        raise
    return sock


async def bind_units(networks: list[UnitNetwork]) -> int:
    """Give every unit its address in the first block where all their ports are free."""
    for block in range(MAX_BLOCKS):
        try:
            for net in networks:
                await net.bind(unit_address(block, net.unit.identity.index))
            return block
        except OSError as exc:
            for net in networks:
                await net.close()
            if exc.errno != errno.EADDRINUSE:
                raise
    raise OSError(errno.EADDRINUSE, f"no free address block in 127.77.0-{MAX_BLOCKS - 1}.x for the units' services")
