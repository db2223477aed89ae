"""A unit's SSH server on its own address, port 2222 (see harness.sim.sshd_engine for the protocol
side and the algorithm policies).

The port listens from start-up like every other service, but asyncssh (about a tenth of a second
to import) and the host key are loaded at the first connection: simulators start often (the defect
matrix starts one per scenario) and most runs never open SSH."""

from __future__ import annotations

import asyncio
import importlib
import socket
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any

from harness.sim.unit import Event, Unit

if TYPE_CHECKING:
    from harness.sim.mqtt import MqttClient

MAX_PENDING = 8  # connections still in the SSH handshake; beyond this new ones are dropped
BACKLOG = 16


class SshServer:
    def __init__(self, unit: Unit, mqtt: MqttClient | None, key_path: Path) -> None:
        self.unit = unit
        self.mqtt = mqtt
        self.policy = unit.behaviour.ssh_algorithms
        self.key_path = key_path
        self.connections: set[Any] = set()  # asyncssh connections, kept by the engine
        self._listener: socket.socket | None = None
        self._accepting: asyncio.Task[None] | None = None
        self._pending: set[asyncio.Task[None]] = set()
        self._engine: tuple[ModuleType, Any] | None = None
        self._loading: asyncio.Lock | None = None
        unit.subscribe(self._on_event)

    async def start(self, address: str, port: int) -> None:
        """Listen (an OSError if the port is taken)."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((address, port))
            sock.listen(BACKLOG)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._listener = sock
        self._loading = asyncio.Lock()
        self._accepting = asyncio.get_running_loop().create_task(self._accept(sock))

    async def _accept(self, listener: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:  # as long as the listener: close() cancels this task
            try:
                conn, _ = await loop.sock_accept(listener)
            except OSError:
                return
            if len(self._pending) >= MAX_PENDING:
                conn.close()
                continue
            task = loop.create_task(self._serve(conn))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _load(self) -> tuple[ModuleType, Any]:
        assert self._loading is not None
        async with self._loading:
            if self._engine is None:
                # Off the loop: the import and a key generation would stall every console meanwhile.
                engine = await asyncio.to_thread(importlib.import_module, "harness.sim.sshd_engine")
                key = await asyncio.to_thread(engine.host_key, self.key_path, self.policy)
                self._engine = (engine, key)
        return self._engine

    async def _serve(self, conn: socket.socket) -> None:
        try:
            engine, key = await self._load()
        except Exception:
            conn.close()
            raise
        await engine.serve(self, conn, key)

    def _on_event(self, event: Event) -> None:
        if event is not Event.BOOT_FINISHED:  # the unit went down: so do its sessions
            for conn in list(self.connections):
                conn.close()

    async def close(self) -> None:
        if self._accepting is not None:
            self._accepting.cancel()
            await asyncio.gather(self._accepting, return_exceptions=True)
            self._accepting = None
        if self._listener is not None:
            self._listener.close()
            self._listener = None
        for task in list(self._pending):
            task.cancel()
        await asyncio.gather(*self._pending, return_exceptions=True)
        for conn in list(self.connections):
            conn.close()
