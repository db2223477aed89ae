"""One unit's channel on a bench instrument, as a profile link.

An instrument (a supply, a relay board) may serve several units; a profile link is one unit's
view of it: its output or relay channel and the voltage it needs. The SCPI work is done by
harness.links.instruments; this adapter only binds the channel and gives procedures the verbs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


class InstrumentChannel:
    kind = "instrument"

    def __init__(self, name: str, *, role: str, resource: str, backend: str = "@py", channel: int | None = None,
                 voltage: float | None = None, timeout: float = 5.0, transcript_dir: Any = None,
                 **_: Any) -> None:
        from harness.links.instruments import PowerSupply, Relay

        self.name = name
        self.role = role
        self.channel = channel
        self.voltage = voltage
        cls = PowerSupply if role == "supply" else Relay
        self.instrument = cls(name, resource=resource, backend=backend, timeout=timeout, transcript_dir=transcript_dir)

    @property
    def transcript(self) -> Any:
        return self.instrument.transcript

    def open(self) -> InstrumentChannel:
        self.instrument.open()
        if self.role == "supply" and self.voltage is not None:
            self.instrument.set_voltage(self.voltage)
        return self

    def close(self) -> None:
        self.instrument.close()

    def evidence(self) -> dict[str, Any]:
        return {**self.instrument.evidence(), "role": self.role, "channel": self.channel}

    # Supply verbs (a relay channel that switches the unit's mains acts the same way).
    def output(self, on: bool) -> None:
        if self.role == "supply":
            self.instrument.output(on, channel=self.channel)
        else:
            self.instrument.set(self.channel, on)

    def power_cycle(self, off_s: float, wait: Callable[[float], None]) -> None:
        if self.role == "supply":  # confirms off, measures the current while off, confirms on
            self.instrument.power_cycle(off_s, wait, channel=self.channel)
            return
        self.output(False)
        try:
            wait(off_s)
        finally:
            self.output(True)

    def pulse(self, channel: int | None, hold_s: float, wait: Callable[[float], None]) -> None:
        self.instrument.pulse(channel if channel is not None else self.channel, hold_s, wait)

    def set_voltage(self, volts: float) -> None:
        self.instrument.set_voltage(volts)

    def measure_current(self) -> float:
        return float(self.instrument.measure_current())


def open_channel(name: str, settings: dict[str, Any], **where: Any) -> InstrumentChannel:
    return InstrumentChannel(name, **settings, **where)
