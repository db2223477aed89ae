"""The unit's declared local sensor service: a CoAP-like responder on UDP 5683 of its address.

It answers a probe the way a constrained CoAP server does (RFC 7252): GET /.well-known/core with
the resource list, GET /sensors/temperature with a reading, 4.04 elsewhere, an empty CON ("CoAP
ping") with RST; anything that is not a CoAP message is dropped. Written here rather than taken
from aiocoap: it is not in the environment and this needs one header parser and three answers."""

from __future__ import annotations

import asyncio
import os

from harness.sim.unit import Event, Power, Unit

CON, NON, ACK, RST = 0, 1, 2, 3
GET, CONTENT, NOT_FOUND, METHOD_NOT_ALLOWED = 0x01, 0x45, 0x84, 0x85
URI_PATH, CONTENT_FORMAT = 11, 12
LINK_FORMAT, TEXT_PLAIN = 40, 0
RESOURCES = {
    ".well-known/core": (LINK_FORMAT, b'</sensors/temperature>;rt="temperature-c";if="sensor";ct=0'),
    "sensors/temperature": (TEXT_PLAIN, b"21.5"),
}
MAX_OPTIONS = 32


def _options(data: bytes, pos: int) -> tuple[list[tuple[int, bytes]], int] | None:
    """(number, value) pairs and the payload offset; None when malformed."""
    out: list[tuple[int, bytes]] = []
    number = 0
    while pos < len(data) and data[pos] != 0xFF and len(out) < MAX_OPTIONS:
        delta, length = data[pos] >> 4, data[pos] & 0x0F
        pos += 1
        ext = []
        for nibble in (delta, length):
            if nibble == 13:
                if pos >= len(data):
                    return None
                ext.append(data[pos] + 13)
                pos += 1
            elif nibble == 14:
                if pos + 1 >= len(data):
                    return None
                ext.append(int.from_bytes(data[pos:pos + 2], "big") + 269)
                pos += 2
            elif nibble == 15:
                return None
            else:
                ext.append(nibble)
        number += ext[0]
        if pos + ext[1] > len(data):
            return None
        out.append((number, data[pos:pos + ext[1]]))
        pos += ext[1]
    return out, (pos + 1 if pos < len(data) else pos)


def answer(data: bytes) -> bytes | None:
    """The response to one datagram, or None to stay silent."""
    if len(data) < 4 or data[0] >> 6 != 1:
        return None
    mtype, tkl, code, mid = (data[0] >> 4) & 0x03, data[0] & 0x0F, data[1], data[2:4]
    if tkl > 8 or len(data) < 4 + tkl or mtype in (ACK, RST):
        return None
    token = data[4:4 + tkl]
    if code == 0:  # empty message: a CON is a ping, answered with RST
        return bytes([0x40 | (RST << 4), 0]) + mid if mtype == CON else None
    parsed = _options(data, 4 + tkl)
    if parsed is None or code >> 5 != 0:  # malformed, or a response sent to a server: reject a CON
        return bytes([0x40 | (RST << 4), 0]) + mid if mtype == CON else None
    path = "/".join(v.decode(errors="replace") for n, v in parsed[0] if n == URI_PATH)
    resource = RESOURCES.get(path)
    if code != GET:
        code_out, options, payload = METHOD_NOT_ALLOWED, b"", b""
    elif resource is None:
        code_out, options, payload = NOT_FOUND, b"", b""
    else:
        fmt, payload = resource
        code_out = CONTENT
        value = bytes([fmt]) if fmt else b""
        options = bytes([(CONTENT_FORMAT << 4) | len(value)]) + value
        payload = b"\xff" + payload
    rtype = ACK if mtype == CON else NON
    mid_out = mid if rtype == ACK else os.urandom(2)  # a NON answer is a message of its own
    return bytes([0x40 | (rtype << 4) | tkl, code_out]) + mid_out + token + options + payload


MAX_HELD = 16  # datagrams received while the unit boots, answered when it is up


class _Protocol(asyncio.DatagramProtocol):
    def __init__(self, server: CoapServer) -> None:
        self.server = server

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.server.received(data, addr)


class CoapServer:
    def __init__(self, unit: Unit) -> None:
        self.unit = unit
        self._transport: asyncio.DatagramTransport | None = None
        self._held: list[tuple[bytes, tuple[str, int]]] = []  # the socket's receive queue during a boot
        unit.subscribe(self._on_event)

    async def start(self, address: str, port: int) -> None:
        """Bind (an OSError if the port is taken)."""
        loop = asyncio.get_running_loop()
        self._transport, _ = await loop.create_datagram_endpoint(lambda: _Protocol(self), local_addr=(address, port))

    def received(self, data: bytes, addr: tuple[str, int]) -> None:
        if self.unit.power is not Power.RUNNING:
            if len(self._held) < MAX_HELD:
                self._held.append((data, addr))
            return
        self._answer(data, addr)

    def _answer(self, data: bytes, addr: tuple[str, int]) -> None:
        reply = answer(data)
        if reply is not None and self._transport is not None:
            self._transport.sendto(reply, addr)

    def _on_event(self, event: Event) -> None:
        if event is Event.BOOT_FINISHED:
            held, self._held = self._held, []
            for data, addr in held:
                self._answer(data, addr)

    async def close(self) -> None:
        self._held.clear()  # the socket's queue goes with the socket (power off, simulator exit)
        if self._transport is not None:
            self._transport.close()
            self._transport = None
