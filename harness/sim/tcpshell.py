"""Line-oriented TCP services of a unit (telnet, the debug shell): asyncio servers on the unit's
address whose sessions end when the unit goes down (reboot, reset, power) or the client hangs up.
A connection made while the unit boots is held until it is up (at most HOLD_TIMEOUT)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

from harness.sim.lines import LineReader
from harness.sim.unit import Event, Unit

IDLE_TIMEOUT = 300.0  # real seconds without input before the unit hangs up
HOLD_TIMEOUT = 10.0  # a connection made while the unit boots waits this long for it to come up
MAX_SESSIONS = 8  # per service and unit
MAX_OUTPUT = 256 * 1024  # a client that does not read beyond this is hung up on

InputFilter = Callable[[bytes], tuple[bytes, bytes]]  # received -> (data for the line reader, replies)


class Connection:
    """A `shell.Terminal` over one TCP connection."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, echo: bool,
                 input_filter: InputFilter | None = None) -> None:
        self.writer = writer
        self.echo = echo  # the unit echoes (telnet after WILL ECHO); a raw socket's client echoes itself
        self.lines = LineReader()
        self._filter = input_filter
        self._pump = asyncio.get_running_loop().create_task(self._read(reader))

    async def _read(self, reader: asyncio.StreamReader) -> None:
        try:
            while True:
                data = await asyncio.wait_for(reader.read(4096), IDLE_TIMEOUT)
                if not data:
                    break
                if self._filter is not None:
                    data, replies = self._filter(data)
                    if replies:
                        self.write(replies)
                if data:
                    self.lines.feed(data)
        except (TimeoutError, OSError):
            pass
        finally:
            self.lines.close()

    def write(self, data: bytes) -> None:
        if self.writer.is_closing():
            return
        if self.writer.transport.get_write_buffer_size() > MAX_OUTPUT:
            self.writer.close()
            return
        self.writer.write(data)

    async def read_line(self, echo: bool = True) -> str:
        return await self.lines.read_line(echo and self.echo, self.write)

    def emit(self, text: str) -> None:
        self.write(text.encode())

    async def close(self) -> None:
        self._pump.cancel()
        await asyncio.gather(self._pump, return_exceptions=True)
        self.writer.close()
        with contextlib.suppress(OSError, TimeoutError):
            await asyncio.wait_for(self.writer.wait_closed(), 1.0)


class TcpShellServer:
    """Subclasses give `session(conn)`; this class owns listening, limits and hang-ups."""

    echo = False
    name = "tcp"

    def __init__(self, unit: Unit) -> None:
        self.unit = unit
        self._server: asyncio.Server | None = None
        self._sessions: set[asyncio.Task[None]] = set()
        self._waiting = 0  # connections held until the unit is up
        unit.subscribe(self._on_event)

    def input_filter(self) -> InputFilter | None:
        return None

    def greeting(self) -> bytes:
        return b""

    async def session(self, conn: Connection) -> None:
        raise NotImplementedError

    async def start(self, address: str, port: int) -> None:
        """Listen (an OSError if the port is taken)."""
        self._server = await asyncio.start_server(self._client, address, port)

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._sessions) + self._waiting >= MAX_SESSIONS:
            writer.close()  # busy
            return
        self._waiting += 1
        try:
            up = await self.unit.wait_running(HOLD_TIMEOUT)
        finally:
            self._waiting -= 1
        if not up:
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._sessions.add(task)
        conn = Connection(reader, writer, echo=self.echo, input_filter=self.input_filter())
        try:
            conn.write(self.greeting())
            await self.session(conn)
        except (EOFError, OSError, asyncio.CancelledError):
            pass  # hang-up either way; a cancel here is the unit going down, not the loop stopping
        finally:
            self._sessions.discard(task)
            await conn.close()

    def _on_event(self, event: Event) -> None:
        if event is not Event.BOOT_FINISHED:  # the unit went down: so do its sessions
            for task in list(self._sessions):
                task.cancel()

    async def close(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
        tasks = list(self._sessions)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        if server is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), 2.0)
