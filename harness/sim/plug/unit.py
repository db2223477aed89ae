"""One plug's life: power, boot, restart and factory reset, told to its front-ends (console, web,
MQTT client, supply) as events. Lives on the simulator's asyncio loop; `request` may be called from
any thread (web requests, the MQTT client)."""

from __future__ import annotations

import asyncio
import enum
import threading
from collections.abc import Callable

from harness.sim.plug.firmware import FACTORY_RESET, Firmware
from harness.sim.timing import Delays


class Power(enum.Enum):
    OFF = "off"
    BOOTING = "booting"
    RUNNING = "running"


class Event(enum.Enum):
    BOOT_STARTED = "boot started"
    BOOT_FINISHED = "boot finished"
    RESTARTING = "restarting"
    RESETTING = "resetting"
    POWER_LOST = "power lost"


class PlugUnit:
    def __init__(self, firmware: Firmware, delays: Delays, loop: asyncio.AbstractEventLoop) -> None:
        self.firmware = firmware
        self.ident = firmware.ident
        self.delays = delays
        self.loop = loop
        self.power = Power.OFF
        self._running = threading.Event()  # set while RUNNING: web threads wait on it
        self._listeners: list[Callable[[Event], None]] = []
        self._boot: asyncio.Task[None] | None = None
        self.boots = 0

    def subscribe(self, listener: Callable[[Event], None]) -> None:
        self._listeners.append(listener)

    def _emit(self, event: Event) -> None:
        for listener in self._listeners:
            listener(event)

    def wait_running(self, timeout: float) -> bool:
        return self._running.wait(timeout)

    # -- on the loop ----------------------------------------------------------------------------
    def power_on(self) -> None:
        if self.power is Power.OFF:
            self._start_boot()

    def power_cut(self) -> None:
        self._cancel_boot()
        self.power = Power.OFF
        self._running.clear()
        self.firmware.power_lost()
        self._emit(Event.POWER_LOST)

    def act(self, action: str) -> None:
        """After a command's answer went out: restart, or restore the factory settings and restart."""
        if self.power is not Power.RUNNING:
            return
        self._running.clear()
        if action == FACTORY_RESET:
            self._emit(Event.RESETTING)
            self.firmware.factory_reset()
        else:
            self._emit(Event.RESTARTING)
        self._start_boot()

    def request(self, action: str) -> None:
        """`act` from another thread."""
        try:
            self.loop.call_soon_threadsafe(self.act, action)
        except RuntimeError:
            pass  # the loop is closed: the simulator is stopping

    def _start_boot(self) -> None:
        self._cancel_boot()
        self.power = Power.BOOTING  # at once: the front-ends stop taking input before the task runs
        self._running.clear()
        self._boot = self.loop.create_task(self._booting())

    def _cancel_boot(self) -> None:
        if self._boot is not None and not self._boot.done():
            self._boot.cancel()
        self._boot = None

    async def _booting(self) -> None:
        self.power = Power.BOOTING
        self._running.clear()
        self._emit(Event.BOOT_STARTED)
        await self.delays.sleep(self.delays.boot)
        self.power = Power.RUNNING
        self.boots += 1
        self._running.set()
        self._emit(Event.BOOT_FINISHED)

    async def shutdown(self) -> None:
        task, self._boot = self._boot, None
        if task is not None and not task.done():
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        self.power = Power.OFF
        self._running.clear()
