"""The plug's bench wiring: a SCPI supply (harness.sim.bench.BenchSupply on 127.0.0.1, one per
unit) feeds it through a USB power adapter, and relay channel 1 is wired across its button.
Output off: the plug stops (console silent, web closed, MQTT gone). Output on: it boots. The
button held BUTTON_HOLD seconds (scaled) and released while the plug runs restores the factory
settings, as `Reset 1` does."""

from __future__ import annotations

import asyncio
import sys

from harness.sim.bench import BenchSupply
from harness.sim.plug.firmware import FACTORY_RESET
from harness.sim.plug.unit import Event, PlugUnit, Power
from harness.sim.plug.web import PlugWeb

BUTTON_HOLD = 4.0
LOAD_A = {Power.OFF: 0.0, Power.BOOTING: 0.16, Power.RUNNING: 0.07}  # at 5 V, relay off


class PlugSupply(BenchSupply):
    def __init__(self, unit: PlugUnit, web: PlugWeb, address: str) -> None:
        self.unit = unit
        self.web = web
        self.address = address
        super().__init__(unit.ident.uid, self._output)
        unit.subscribe(self._on_event)
        self._on_event(Event.POWER_LOST)

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

    def _running(self) -> bool:
        return self.unit.power is Power.RUNNING

    def _reset_hold(self) -> float:
        return BUTTON_HOLD * self.unit.delays.scale

    def _long_press(self) -> None:
        self.unit.act(FACTORY_RESET)
