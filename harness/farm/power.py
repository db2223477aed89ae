"""Power a unit through its labgrid place's power resource (a PDU outlet, a USB relay, a smart plug).

labgrid knows dozens of network power switches (``labgrid.driver.power.<model>``: APC, Gude,
Netio, Shelly, Tasmota-style REST, …), each a pair of functions ``power_set(host, port, index,
value)`` and ``power_get(host, port, index)``. A place's NetworkPowerPort names the model, host and
outlet; this class drives it from the harness the way labgrid's NetworkPowerDriver would, without
a labgrid target (and without labgrid's SSH proxy: the harness reaches the switch directly, inside
the lab's declared networks). labgrid is imported only here, and only when a unit is powered this way.

Every switch is read back, and every call to a back-end is bounded in time: some back-ends make
HTTP requests without a timeout, and a switch that never answers must not hold a run.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from harness.farm.places import PlaceUsageError, labgrid_missing
from harness.links.base import LinkError

CALL_TIMEOUT = 10.0  # one switch or read-back (a PDU answers in well under a second)


class PowerError(LinkError):
    """The power switch did not do what it was told, or did not answer: a lab fault (INCONCLUSIVE)."""


def power_host(host: str) -> str:
    """The network host a power port's ``host`` names (a bare host[:port], or a URL for the REST models)."""
    parts = urlsplit(host if "//" in host else f"//{host}")
    try:
        return parts.hostname or host
    except ValueError:
        return host


def shown_host(host: str) -> str:
    """The host for transcripts and evidence: a password in a URL (http://user:pw@pdu/…) left out."""
    if "//" not in host or "@" not in host:
        return host
    parts = urlsplit(host)
    user = parts.netloc.rpartition("@")[0].partition(":")[0]
    return parts._replace(netloc=f"{user}:***@{parts.netloc.rpartition('@')[2]}").geturl()


@dataclass
class LabgridPower:
    model: str
    host: str
    index: str = "0"
    port: int | None = None
    timeout: float = CALL_TIMEOUT

    @classmethod
    def from_facts(cls, facts: dict[str, Any], *, timeout: float = CALL_TIMEOUT) -> LabgridPower:
        return cls(model=str(facts["model"]), host=str(facts["host"]), index=str(facts.get("index", "0")),
                   timeout=timeout)

    def describe(self) -> str:
        return f"labgrid {self.model} outlet {self.index}"

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

    def _address(self, backend: Any) -> tuple[str, int | None]:
        """(host, port) as labgrid's NetworkPowerDriver passes them: a back-end with a fixed PORT gets
        the bare host name and that port; the others (the REST models) get the host as written."""
        fixed = getattr(backend, "PORT", None)
        if fixed:
            parts = urlsplit(self.host if "//" in self.host else f"//{self.host}")
            return parts.hostname or self.host, self.port or parts.port or fixed
        return self.host, self.port

    def _call(self, what: str, fn: Callable[..., Any], *args: Any) -> Any:
        outcome: dict[str, Any] = {}

        def work() -> None:
            try:
                outcome["value"] = fn(*args)
            except BaseException as exc:  # noqa: BLE001 - back-ends raise whatever their transport raises
                outcome["error"] = exc

        worker = threading.Thread(target=work, name=f"power-{self.model}", daemon=True)
        worker.start()
        worker.join(self.timeout)
        if worker.is_alive():  # left behind as a daemon: the switch never answered
            raise PowerError(f"{self.describe()}: {what}: no answer within {self.timeout:g} s")
        if "error" in outcome:
            exc = outcome["error"]
            raise PowerError(f"{self.describe()}: {what} failed: {type(exc).__name__}: {self._scrub(str(exc))}") from exc
        return outcome.get("value")

    def _scrub(self, text: str) -> str:
        """A back-end's error may quote the URL, password and all."""
        password = urlsplit(self.host).password if "//" in self.host else None
        return text.replace(password, "***") if password else text

    def set(self, on: bool) -> None:
        backend = self._backend()
        host, port = self._address(backend)
        self._call(f"switching {'on' if on else 'off'}", backend.power_set, host, port, self.index, on)

    def get(self) -> bool:
        backend = self._backend()
        host, port = self._address(backend)
        return bool(self._call("reading the state", backend.power_get, host, port, self.index))

    def switch(self, on: bool) -> None:
        """Switch and read back: an outlet that does not follow is a lab fault."""
        self.set(on)
        if self.get() != on:
            raise PowerError(f"{self.describe()}: still {'off' if on else 'on'} after switching {'on' if on else 'off'}")

    def cycle(self, off_s: float, *, wait: Callable[[float], object] | None = None) -> None:
        """Off, hold ``off_s`` (the device's declared discharge time), on; each switch read back.

        If the wait is interrupted (a run being stopped) the outlet is switched back on before the
        exception propagates: a unit left unpowered would make every later test INCONCLUSIVE."""
        self.switch(False)
        try:
            (wait or time.sleep)(off_s)  # sleep-ok: device delay (the declared off time of a power cycle)
        except BaseException:
            try:
                self.set(True)
            except (PowerError, PlaceUsageError):
                pass
            raise
        self.switch(True)
