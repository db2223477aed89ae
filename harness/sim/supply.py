"""A unit's bench wiring: the SCPI supply that powers it and the relay on its reset button
(harness.sim.power.ScpiSupplyServer, one per unit on the lab side, 127.0.0.1, never on the unit's
own address: a scan of the unit must not find the bench).

Output off cuts the power: the unit stops (RAM gone, console silent) and its network services
close. Output on: the services listen again and the unit boots. Relay channel 1 closes the reset
button: held at least 5 s (scaled) and released, the running unit does a factory reset; a shorter
press does nothing. The supply's current reading follows what the unit is doing."""

from __future__ import annotations

import time

from harness.sim.network import UnitNetwork
from harness.sim.power import ScpiSupplyServer
from harness.sim.unit import Event, Power, Unit

LAB_HOST = "127.0.0.1"
BUTTON_CHANNEL = 1  # the relay channel wired across the unit's reset button (fixed by ScpiSupplyServer)
# Amperes drawn at 5 V in each state (what `MEAS:CURR?` reads while the output is on).
LOAD_A = {Power.OFF: 0.0, Power.BOOTING: 0.42, Power.RUNNING: 0.18, Power.RESETTING: 0.30,
          Power.INSTALLING: 0.35, Power.CRASHED: 0.21}


class UnitSupply:
    def __init__(self, unit: Unit, network: UnitNetwork) -> None:
        self.unit = unit
        self.network = network
        self.server = ScpiSupplyServer(LAB_HOST, 0, idn=f"SimIoT Lab,PSU-1,PSU-{unit.identity.uid},1.0",
                                       on_output=self._output, on_button=self._button)
        self.server.state.output = True  # the bench powers the unit when the simulator starts
        self._pressed_at: float | None = None
        unit.subscribe(self._on_event)
        self._update_load()

    @property
    def resource(self) -> str:
        """The VISA resource string the harness opens with pyvisa-py."""
        return f"TCPIP::{LAB_HOST}::{self.server.port}::SOCKET"

    async def start(self) -> None:
        await self.server.start()

    async def close(self) -> None:
        await self.server.close()

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
            self.unit.power_on()
        else:
            self.unit.power_cut()
            await self.network.suspend()
        self._update_load()

    def _button(self, pressed: bool) -> None:
        now = time.monotonic()
        if pressed:
            self._pressed_at = now
            return
        pressed_at, self._pressed_at = self._pressed_at, None
        if pressed_at is None or self.unit.power is not Power.RUNNING:
            return  # the firmware reads the button only while it runs
        held = now - pressed_at
        if held >= self.unit.delays.button_reset_hold * self.unit.delays.scale:
            self.unit.factory_reset()
