"""A serial port made of a pty pair, driven by the asyncio loop (non-blocking both ways)."""

from __future__ import annotations

import asyncio
import os
import tty
from collections.abc import Callable

MAX_PENDING = 64 * 1024  # output nobody reads is lost beyond this, as on a real UART


class PtyPort:
    """The simulator owns the master; clients open `path` (the slave)."""

    def __init__(self) -> None:
        self.master, self._slave = os.openpty()
        # Raw: the kernel neither echoes nor translates CR/LF; the unit does its own echo. The
        # slave stays open here so the master never sees EIO when a client closes.
        tty.setraw(self._slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self._slave)
        self._pending = bytearray()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._writer_armed = False
        self.dropped = 0

    def attach(self, loop: asyncio.AbstractEventLoop, on_data: Callable[[bytes], None]) -> None:
        self._loop = loop
        loop.add_reader(self.master, self._readable, on_data)

    def _readable(self, on_data: Callable[[bytes], None]) -> None:
        try:
            data = os.read(self.master, 4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            return  # no client: nothing to read
        if data:
            on_data(data)

    def write(self, data: bytes) -> None:
        room = MAX_PENDING - len(self._pending)
        if len(data) > room:
            self.dropped += len(data) - room
            data = data[:max(room, 0)]
        self._pending += data
        self._flush()

    def _flush(self) -> None:
        while self._pending:
            try:
                n = os.write(self.master, self._pending)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self._pending.clear()  # the port is gone: output is lost
                break
            del self._pending[:n]
        if self._loop is None:
            return
        if self._pending and not self._writer_armed:
            self._loop.add_writer(self.master, self._flush)
            self._writer_armed = True
        elif not self._pending and self._writer_armed:
            self._loop.remove_writer(self.master)
            self._writer_armed = False

    def close(self) -> None:
        if self._loop is not None:
            self._loop.remove_reader(self.master)
            if self._writer_armed:
                self._loop.remove_writer(self.master)
            self._loop = None
        for fd in (self.master, self._slave):
            try:
                os.close(fd)
            except OSError:
                pass
