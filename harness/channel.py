"""One unit's channel on a bench instrument, as a profile link.

An instrument (a supply, a relay board) may serve several units; a profile link is one unit's
view of it: its output or relay channel and the voltage it needs. The SCPI work is done by
harness.links.instruments; this adapter only binds the channel and gives procedures the verbs.

A link with ``labgrid_power`` (a place's power port: ``{model, host, index}``) is switched through
labgrid's power back-ends instead (harness.farm.power), with the same verbs: procedures need not
know whether a VISA supply or a PDU outlet on a farm powers the unit.
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


class PowerPortChannel:
    """A unit's power through a labgrid power port (a PDU outlet, a USB relay, a smart plug).

    The outlet switches the unit's power: ``output``, ``power_cycle`` and, for a relay link,
    ``pulse`` (on, hold, off) work; it sets no voltage and measures no current, so those steps are
    a lab fault that names the power port. Every switch is read back; a switch that fails, does not
    follow or does not answer is a PowerError (a LabFault: INCONCLUSIVE).
    """

    kind = "instrument"

    def __init__(self, name: str, *, role: str, labgrid_power: dict[str, Any], channel: int | None = None,
                 voltage: float | None = None, timeout: float = 5.0, transcript_dir: Any = None,
                 **_: Any) -> None:
        from harness.farm.power import LabgridPower
        from harness.links.transcript import Transcript

        self.name = name
        self.role = role
        self.channel = channel
        self.voltage = voltage
        self.power = LabgridPower.from_facts(labgrid_power, timeout=float(timeout))
        self.transcript = Transcript(name, transcript_dir)
        self.state: bool | None = None  # as last read back from the outlet
        self._actions: list[str] = []

    def _log(self, text: str) -> None:
        self._actions.append(text)
        self.transcript.note(text)

    def _fault(self, exc: Exception) -> Exception:
        """A back-end missing or misnamed is the bench's set-up, not the device: a lab fault too."""
        from harness.farm.places import PlaceUsageError
        from harness.farm.power import PowerError

        if isinstance(exc, PlaceUsageError):
            return PowerError(f"power port of link {self.name}: {exc}")
        return exc

    def _do(self, what: str, action: Callable[[], Any]) -> Any:
        from harness.farm.places import PlaceUsageError
        from harness.farm.power import PowerError

        try:
            value = action()
        except (PowerError, PlaceUsageError) as exc:
            self._log(f"{what}: {exc}")
            raise self._fault(exc) from exc
        return value

    def open(self) -> PowerPortChannel:
        from harness.farm.power import shown_host

        note = f"power through {self.power.describe()} at {shown_host(self.power.host)}"
        if self.voltage is not None:
            note += f" (an outlet sets no voltage: the declared {self.voltage:g} V is the bench's to supply)"
        self._log(note)
        try:
            self.state = self._do("reading the state", self.power.get)  # the switch answers before any test uses it
        except Exception:
            self.transcript.close()  # the link is not kept: the next use opens a new one
            raise
        self._log(f"outlet is {'on' if self.state else 'off'}")
        return self

    def close(self) -> None:
        self.transcript.close()

    def evidence(self) -> dict[str, Any]:
        from harness.farm.power import shown_host

        return {"name": self.name, "role": self.role, "channel": self.channel,
                "identity": f"{self.power.describe()} (labgrid power back-end)",
                "resource": shown_host(self.power.host), "backend": f"labgrid:{self.power.model}", "index": self.power.index,
                "transcript": list(self._actions[-50:]), "transcript_file": str(self.transcript.path)}

    def output(self, on: bool) -> None:
        self._do(f"switching {'on' if on else 'off'}", lambda: self.power.switch(on))
        self.state = on
        self._log(f"switched {'on' if on else 'off'} (read back)")

    def power_cycle(self, off_s: float, wait: Callable[[float], None]) -> None:
        self._log(f"power cycle: off for {off_s:g} s")
        self._do("power cycle", lambda: self.power.cycle(off_s, wait=wait))
        self.state = True
        self._log("power cycle: on again (read back)")

    def pulse(self, channel: int | None, hold_s: float, wait: Callable[[float], None]) -> None:
        """A button line on a switched outlet or relay: on (pressed), hold, off — released even if the wait raises."""
        self.output(True)
        try:
            wait(hold_s)
        finally:
            self.output(False)

    def set_voltage(self, volts: float) -> None:
        from harness.farm.power import PowerError
        raise PowerError(f"link {self.name}: {self.power.describe()} switches power; it cannot set {volts:g} V")

    def measure_current(self) -> float:
        from harness.farm.power import PowerError
        raise PowerError(f"link {self.name}: {self.power.describe()} switches power; it measures no current")


def open_channel(name: str, settings: dict[str, Any], **where: Any) -> InstrumentChannel | PowerPortChannel:
    if settings.get("labgrid_power") is not None:
        return PowerPortChannel(name, **settings, **where)
    settings = {k: v for k, v in settings.items() if k != "labgrid_power"}
    return InstrumentChannel(name, **settings, **where)
