"""The part of a unit's serial console that every simulator family shares: the pty, the line
reader that turns typed bytes into lines, and the one session (getty, password prompt, shell)
that runs between a finished boot and the next reset, reboot or power cut.

A family's console subclasses PtyConsole, subscribes to its unit's lifecycle events, says when
the unit takes input (`_takes_input`) and what a session is (`_open_session`). Shared so that
"input is lost while the unit is not running" and "a lifecycle event ends the session and drops
what was typed ahead" stay the same on every device the harness is proven against."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any

from harness.sim.lines import LineReader
from harness.sim.pty_port import PtyPort


class PtyConsole:
    def __init__(self, port: PtyPort) -> None:
        self.port = port
        self.reader = LineReader()
        self._session: asyncio.Task[None] | None = None

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.port.attach(loop, self._on_data)

    async def close(self) -> None:
        task = self._end_session()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        self.port.close()

    def emit(self, text: str) -> None:
        self.port.write(text.encode())

    async def read_line(self, echo: bool = True) -> str:
        return await self.reader.read_line(echo, self.port.write)

    def _takes_input(self) -> bool:
        """Whether typed bytes reach the firmware now (not while off, booting or hung)."""
        raise NotImplementedError

    def _on_data(self, data: bytes) -> None:
        if self._session is None or not self._takes_input():
            return  # booting, resetting, hung: input is lost
        self.reader.feed(data)

    def _open_session(self, session: Coroutine[Any, Any, None]) -> None:
        """Boot finished: what was typed during the boot is gone, the session starts."""
        self.reader.discard()
        self._session = asyncio.get_running_loop().create_task(session)

    def _end_session(self) -> asyncio.Task[None] | None:
        task, self._session = self._session, None
        if task is not None and not task.done():
            task.cancel()
        self.reader.discard()
        return task
