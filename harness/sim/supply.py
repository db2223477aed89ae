"""A unit's bench wiring: the SCPI supply that powers it and the relay on its reset button
(harness.sim.bench.BenchSupply, one per unit on the lab side, 127.0.0.1, never on the unit's
own address: a scan of the unit must not find the bench).

Output off cuts the power: the unit stops (RAM gone, console silent) and its network services
close. Output on: the services listen again and the unit boots. Relay channel 1 closes the reset
button: held at least 5 s (scaled) and released, the running unit does a factory reset; a shorter
press does nothing; held while the output comes on, the bootloader enters service mode
(harness.sim.recovery). The supply's current reading follows what the unit is doing."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.sim.bench import BenchSupply
from harness.sim.network import UnitNetwork
from harness.sim.unit import Event, Power, Unit

if TYPE_CHECKING:
    from harness.sim.recovery import ServiceMode

BUTTON_CHANNEL = 1  # the relay channel wired across the unit's reset button (fixed by ScpiSupplyServer)
# Amperes drawn at 5 V in each state (what `MEAS:CURR?` reads while the output is on).
LOAD_A = {Power.OFF: 0.0, Power.BOOTING: 0.42, Power.RUNNING: 0.18, Power.RESETTING: 0.30,
          Power.INSTALLING: 0.35, Power.CRASHED: 0.21}


class UnitSupply(BenchSupply):
    def __init__(self, unit: Unit, network: UnitNetwork) -> None:
        self.unit = unit
        self.network = network
        self.service_mode: ServiceMode | None = None  # the bootloader's, when the family has one
        super().__init__(unit.identity.uid, self._output)
        unit.subscribe(self._on_event)
        self._update_load()

    def _on_event(self, event: Event) -> None:
        self._update_load()

    def _update_load(self) -> None:
        self.server.set_load(LOAD_A.get(self.unit.power, 0.0))

    async def _output(self, on: bool) -> None:
        # Awaited by the supply before it answers the next command: once a client reads OUTP? 0
        # the unit is down and its ports closed; after OUTP 1 its ports listen (the boot holds
        # connections until it is up).
        if on:
            await self.network.resume()
            if self.service_mode is not None and self.server.relays.get(BUTTON_CHANNEL):
                self.service_mode.enter()  # the bootloader saw the button held: no boot (harness.sim.recovery)
            else:
                self.unit.power_on()
        else:
            self.unit.power_cut()
            await self.network.suspend()
        self._update_load()

    def _running(self) -> bool:
        return self.unit.power is Power.RUNNING

    def _reset_hold(self) -> float:
        return self.unit.delays.button_reset_hold * self.unit.delays.scale

    def _long_press(self) -> None:
        self.unit.factory_reset()
