"""One unit's place on the bench, the same for every family: a SCPI supply
(harness.sim.power.ScpiSupplyServer) on the lab side, 127.0.0.1, never on the unit's own address
(a scan of the unit must not find the bench), whose output powers the unit, and relay channel 1
wired across the unit's reset button. Shared so that the harness drives every family's power
cycle and button press with the same instrument and the same hold-time rule."""

from __future__ import annotations

import time

from harness.sim.power import Callback, ScpiSupplyServer

LAB_HOST = "127.0.0.1"


class BenchSupply:
    """A family says what output on/off does (`on_output`), whether its firmware reads the button
    now (`_running`), how long a press must be (`_reset_hold`, real seconds) and what it does."""

    def __init__(self, uid: str, on_output: Callback) -> None:
        self.server = ScpiSupplyServer(LAB_HOST, 0, idn=f"SimIoT Lab,PSU-1,PSU-{uid},1.0",
                                       on_output=on_output, on_button=self._button)
        self.server.state.output = True  # the bench powers the unit when the simulator starts
        self._pressed_at: float | None = None

    @property
    def resource(self) -> str:
        """The VISA resource string the harness opens with pyvisa-py."""
        return f"TCPIP::{LAB_HOST}::{self.server.port}::SOCKET"

    async def start(self) -> None:
        await self.server.start()

    async def close(self) -> None:
        await self.server.close()

    def _running(self) -> bool:
        raise NotImplementedError

    def _reset_hold(self) -> float:
        raise NotImplementedError

    def _long_press(self) -> None:
        raise NotImplementedError

    def _button(self, pressed: bool) -> None:
        now = time.monotonic()
        if pressed:
            self._pressed_at = now
            return
        pressed_at, self._pressed_at = self._pressed_at, None
        if pressed_at is None or not self._running():
            return  # the firmware reads the button only while it runs
        if now - pressed_at >= self._reset_hold():
            self._long_press()
