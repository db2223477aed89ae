"""A unit's hold on its own loopback address, shared by the families whose units have one (hub,
camera; the plug claims its addresses with `claim` alone).

Every simulator claims a unit's address first (a UDP socket on CLAIM_PORT, connected to itself,
so it receives nothing and a probe gets "port unreachable", i.e. looks closed) and keeps it for
the simulator's life, so no other simulator on the machine takes a block whose units are all
switched off. Its services close at power-off (`suspend`) and listen again at power-on
(`resume`), which is what the bench supply (harness.sim.supply.UnitSupply) drives. One copy of
this cycle, because the port-scan and power-cycle checks are proven against all the families."""

from __future__ import annotations

import errno
import socket
import sys
from collections.abc import Callable, Sequence

from harness.sim.catalog import UnitIdentity

CLAIM_PORT = 5682  # udp, see the module docstring


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


class UnitPresence:
    """A unit's claimed address and the services listening there; a family says which services
    (`_listen`, `serve`, `_stop_services`)."""

    resume_failed = "its services could not listen again on"  # the stderr line's words, per family

    def __init__(self, identity: UnitIdentity) -> None:
        self.identity = identity
        self.address: str | None = None
        self.listening = False
        self._claim: socket.socket | None = None

    async def _listen(self, address: str) -> None:
        raise NotImplementedError

    def serve(self) -> None:
        raise NotImplementedError

    async def _stop_services(self) -> None:
        """Close every service (sessions end, ports refuse); must clear `listening`."""
        raise NotImplementedError

    async def bind(self, address: str) -> None:
        """Claim `address` and listen on every service there, or on none (OSError)."""
        try:
            self._claim = claim(address)
            await self._listen(address)
        except OSError:
            await self.close()
            raise
        self.address = address

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
            print(f"harness sim: {self.identity.uid}: {self.resume_failed} {self.address}: {exc}",
                  file=sys.stderr, flush=True)

    async def close(self) -> None:
        await self._stop_services()
        if self._claim is not None:
            self._claim.close()
            self._claim = None
        self.address = None


async def bind_block(units: Sequence[UnitPresence], address: Callable[[int, int], str], max_blocks: int,
                     exhausted: str) -> int:
    """Bind every unit to `address(block, unit index)` in the first block where all their ports
    are free (all units move together); OSError(EADDRINUSE, exhausted) when none is."""
    for block in range(max_blocks):
        try:
            for unit in units:
                await unit.bind(address(block, unit.identity.index))
            return block
        except OSError as exc:
            for unit in units:
                await unit.close()
            if exc.errno != errno.EADDRINUSE:
                raise
    raise OSError(errno.EADDRINUSE, exhausted)
