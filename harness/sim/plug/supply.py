"""The plug's bench wiring: a SCPI supply (harness.sim.power.ScpiSupplyServer on 127.0.0.1, one per
unit) feeds it through a USB power adapter, and relay channel 1 is wired across its button.
Output off: the plug stops (console silent, web closed, MQTT gone). Output on: it boots. The
button held BUTTON_HOLD seconds (scaled) and released while the plug runs restores the factory
settings, as `Reset 1` does."""

from __future__ import annotations

import asyncio
import sys
import time

from harness.sim.plug.firmware import FACTORY_RESET
from harness.sim.plug.unit import Event, PlugUnit, Power
from harness.sim.plug.web import PlugWeb
from harness.sim.power import ScpiSupplyServer

LAB_HOST = "127.0.0.1"
BUTTON_HOLD = 4.0
LOAD_A = {Power.OFF: 0.0, Power.BOOTING: 0.16, Power.RUNNING: 0.07}  # at 5 V, relay off


class PlugSupply:
    def __init__(self, unit: PlugUnit, web: PlugWeb, address: str) -> None:
        self.unit = unit
        self.web = web
        self.address = address
        self.server = ScpiSupplyServer(LAB_HOST, 0, idn=f"SimIoT Lab,PSU-1,PSU-{unit.ident.uid},1.0",
                                       on_output=self._output, on_button=self._button)
        self.server.state.output = True  # the bench powers the plug when the simulator starts
        self._pressed_at: float | None = None
        unit.subscribe(self._on_event)
        self._on_event(Event.POWER_LOST)

    @property
    def resource(self) -> str:
        return f"TCPIP::{LAB_HOST}::{self.server.port}::SOCKET"

    async def start(self) -> None:
        await self.server.start()

    async def close(self) -> None:
        await self.server.close()

    def _on_event(self, event: Event) -> None:
        load = LOAD_A.get(self.unit.power, 0.0)
        if self.unit.power is Power.RUNNING and self.unit.firmware.settings.power:
            load += 0.02  # the relay coil
        self.server.set_load(load)

    async def _output(self, on: bool) -> None:
        if on:
            try:
                await asyncio.to_thread(self.web.listen, self.address)
            except OSError as exc:  # someone took a port while the plug was off: it boots without its web
                print(f"harness sim: {self.unit.ident.uid}: its web server could not listen again on "
                      f"{self.address}: {exc}", file=sys.stderr, flush=True)
            self.unit.power_on()
        else:
            self.unit.power_cut()
            await asyncio.to_thread(self.web.close)

    def _button(self, pressed: bool) -> None:
        now = time.monotonic()
        if pressed:
            self._pressed_at = now
            return
        pressed_at, self._pressed_at = self._pressed_at, None
        if pressed_at is None or self.unit.power is not Power.RUNNING:
            return
        if now - pressed_at >= BUTTON_HOLD * self.unit.delays.scale:
            self.unit.act(FACTORY_RESET)
