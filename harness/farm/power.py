"""Power a unit through its labgrid place's power resource (a PDU outlet, a USB relay, a smart plug).

labgrid knows dozens of network power switches (``labgrid.driver.power.<model>``: APC, Gude,
Netio, Shelly, Tasmota-style REST, …), each a pair of functions ``power_set(host, port, index,
value)`` and ``power_get(host, port, index)``. A place's NetworkPowerPort names the model, host and
outlet; this class drives it from the harness the way labgrid's NetworkPowerDriver would, without
a labgrid target. labgrid is imported only here, and only when a unit is powered this way.
"""

from __future__ import annotations

import importlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from harness.farm.places import PlaceUsageError, labgrid_missing


class PowerError(RuntimeError):
    """The power switch did not do what it was told (a lab fault)."""


@dataclass
class LabgridPower:
    model: str
    host: str
    index: str = "0"
    port: int | None = None

    @classmethod
    def from_facts(cls, facts: dict[str, Any]) -> LabgridPower:
        return cls(model=str(facts["model"]), host=str(facts["host"]), index=str(facts.get("index", "0")))

    def _backend(self) -> Any:
        missing = labgrid_missing()
        if missing:
            raise PlaceUsageError(missing)
        if not self.model.replace("_", "").isalnum():
            raise PlaceUsageError(f"power model {self.model!r} is not a labgrid power back-end name")
        try:
            return importlib.import_module(f"labgrid.driver.power.{self.model}")
        except ImportError as exc:
            raise PlaceUsageError(f"labgrid has no power back-end {self.model!r}: {exc}") from None

    def set(self, on: bool) -> None:
        try:
            self._backend().power_set(self.host, self.port, self.index, on)
        except PlaceUsageError:
            raise
        except Exception as exc:  # noqa: BLE001 - back-ends raise whatever their transport raises
            raise PowerError(f"{self.model} outlet {self.index}: switching {'on' if on else 'off'} failed: {exc}") from exc

    def get(self) -> bool:
        try:
            return bool(self._backend().power_get(self.host, self.port, self.index))
        except PlaceUsageError:
            raise
        except Exception as exc:  # noqa: BLE001
            raise PowerError(f"{self.model} outlet {self.index}: reading the state failed: {exc}") from exc

    def cycle(self, off_s: float, *, wait: Callable[[float], object] | None = None) -> None:
        """Off, hold ``off_s`` (the device's declared discharge time), on; each switch read back."""
        self.set(False)
        if self.get():
            raise PowerError(f"{self.model} outlet {self.index}: still on after switching off")
        (wait or time.sleep)(off_s)  # sleep-ok: device delay (the declared off time of a power cycle)
        self.set(True)
        if not self.get():
            raise PowerError(f"{self.model} outlet {self.index}: still off after switching on")
