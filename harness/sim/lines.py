"""Typed bytes in, lines out, for every character front-end (serial console, telnet)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

MAX_LINE = 1024  # bytes of a line; beyond MAX_LINE + 1 input is dropped, as a tty's line buffer would
# (the one byte more lets the shell tell "too long" from "exactly MAX_LINE")
MAX_PENDING = 64 * 1024  # typed-ahead input beyond this is lost, as a UART FIFO would lose it
CR, LF, BS, DEL = 0x0D, 0x0A, 0x08, 0x7F


class LineReader:
    """Typed bytes in, lines out; echo happens as the line is consumed, like a getty reading."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._pos = 0  # consumed bytes at the front; compacted in bulk so reading stays linear
        self._ready = asyncio.Event()
        self._last_cr = False
        self._eof = False
        self.dropped = 0

    def feed(self, data: bytes) -> None:
        room = MAX_PENDING - (len(self._buf) - self._pos)
        if len(data) > room:
            self.dropped += len(data) - max(room, 0)
            data = data[:max(room, 0)]
        self._buf += data
        self._ready.set()

    def close(self) -> None:
        """The other side hung up: a read waiting for more input raises EOFError."""
        self._eof = True
        self._ready.set()

    def discard(self) -> None:
        self._buf.clear()
        self._pos = 0
        self._ready.clear()
        self._last_cr = False

    def _next(self) -> int:
        b = self._buf[self._pos]
        self._pos += 1
        if self._pos == len(self._buf):
            self._buf.clear()
            self._pos = 0
        elif self._pos >= 4096:
            del self._buf[:self._pos]
            self._pos = 0
        return b

    async def read_line(self, echo: bool, write: Callable[[bytes], None]) -> str:
        line = bytearray()
        while True:
            while self._pos >= len(self._buf):
                if self._eof:
                    raise EOFError("input closed")
                self._ready.clear()
                await self._ready.wait()
            b = self._next()
            if b == LF and self._last_cr:
                self._last_cr = False  # the LF of a CRLF
                continue
            self._last_cr = b == CR
            if b in (CR, LF):
                if echo:
                    write(b"\r\n")
                return line.decode("utf-8", errors="replace")
            if b in (BS, DEL):
                if line:
                    while line and (line.pop() & 0xC0) == 0x80:
                        pass  # drop a whole UTF-8 character
                    if echo:
                        write(b"\b \b")
                continue
            if b < 0x20 or len(line) > MAX_LINE:
                continue  # other control characters are not part of a line
            line.append(b)
            if echo:
                write(bytes([b]))
