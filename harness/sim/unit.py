"""One physical unit: its flash state, power/boot lifecycle and the operations its services (the
console today; telnet, SSH, MQTT later) expose. No I/O besides flash; front-ends subscribe to
lifecycle events and render them."""

from __future__ import annotations

import asyncio
import enum
from collections.abc import Callable, Collection

from harness.sim.catalog import ADMIN_USER, Behaviour, UnitIdentity
from harness.sim.flash import Flash, FlashState, empty_user_data
from harness.sim.passwords import label_password
from harness.sim.timing import Delays


class Power(enum.Enum):
    OFF = "off"
    RESETTING = "resetting"  # erasing flash before the reboot
    BOOTING = "booting"
    RUNNING = "running"


class Event(enum.Enum):
    RESETTING = "resetting"
    REBOOTING = "rebooting"
    BOOT_STARTED = "boot_started"
    BOOT_FINISHED = "boot_finished"


class PasswdOutcome(enum.Enum):
    UPDATED = "updated"
    AUTH_ERROR = "auth_error"  # wrong current password
    MISMATCH = "mismatch"  # new and retyped differ


Listener = Callable[[Event], None]


class Unit:
    def __init__(self, identity: UnitIdentity, behaviour: Behaviour, flash: Flash, delays: Delays,
                 taken_labels: Collection[str] = ()) -> None:
        self.identity = identity
        self.behaviour = behaviour
        self.delays = delays
        self._flash = flash
        self.state = self._load_or_manufacture(taken_labels)
        self.power = Power.OFF
        self.login_attempts = 0  # since the simulator started, any outcome, any service
        self._listeners: list[Listener] = []
        self._lifecycle: asyncio.Task[None] | None = None

    # -- manufacture and flash ----------------------------------------------------------------
    def _load_or_manufacture(self, taken: Collection[str]) -> FlashState:
        state = self._flash.load()
        if state is not None and state.serial == self.identity.serial and state.label_scheme == self.behaviour.label_scheme:
            return state
        # Blank flash, or a run directory reused for another persona or label scheme: that is
        # another product, so it gets a new label (and factory state).
        label = label_password(self.behaviour.label_scheme, self.identity, taken)
        state = FlashState(serial=self.identity.serial, label_scheme=self.behaviour.label_scheme, label=label,
                           password=label)
        self._flash.save(state)
        return state

    def _save(self) -> None:
        self._flash.save(self.state)

    @property
    def label(self) -> str:
        return self.state.label

    # -- lifecycle ----------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def _notify(self, event: Event) -> None:
        for listener in list(self._listeners):
            listener(event)

    def _run(self, coro_fn: Callable[[], object]) -> None:
        if self._lifecycle is not None and not self._lifecycle.done():
            self._lifecycle.cancel()  # a reboot during a boot starts the boot over
        self._lifecycle = asyncio.get_running_loop().create_task(coro_fn())  # type: ignore[arg-type]

    def power_on(self) -> None:
        self._run(self._boot)

    def reboot(self) -> None:
        self.power = Power.BOOTING  # input stops now, not when the boot task first runs
        self._notify(Event.REBOOTING)
        self._run(self._boot)

    def factory_reset(self) -> None:
        self.power = Power.RESETTING
        self._notify(Event.RESETTING)
        self._run(self._reset_and_boot)

    async def _reset_and_boot(self) -> None:
        self.power = Power.RESETTING
        await self.delays.sleep(self.delays.reset_erase)
        self._erase()
        await self._boot()

    async def _boot(self) -> None:
        self.power = Power.BOOTING
        self._notify(Event.BOOT_STARTED)
        await self.delays.sleep(self.delays.boot)
        self.power = Power.RUNNING
        self._notify(Event.BOOT_FINISHED)

    async def shutdown(self) -> None:
        if self._lifecycle is not None and not self._lifecycle.done():
            self._lifecycle.cancel()
            await asyncio.gather(self._lifecycle, return_exceptions=True)
        self.power = Power.OFF

    def _erase(self) -> None:
        b = self.behaviour
        self.state.password = ADMIN_USER if b.reset_password == "admin" else self.state.label
        if b.reset_wipes_user_data:
            self.state.user_data = empty_user_data()
        self._save()

    # -- operations -----------------------------------------------------------------------------
    async def authenticate(self, user: str, password: str) -> bool:
        """One login attempt; a refusal takes the failed-login delay."""
        self.login_attempts += 1
        ok = user == ADMIN_USER and (self.behaviour.accepts_any_password or password == self.state.password)
        if not ok:
            await self.delays.sleep(self.delays.failed_login)
        return ok

    @property
    def console_silenced(self) -> bool:
        limit = self.behaviour.hang_after_logins
        return limit is not None and self.login_attempts >= limit

    def change_password(self, current: str, new: str, retyped: str) -> PasswdOutcome:
        if current != self.state.password:
            return PasswdOutcome.AUTH_ERROR
        if new != retyped:
            return PasswdOutcome.MISMATCH
        if self.behaviour.applies_password_change:
            self.state.password = new
            self._save()
        return PasswdOutcome.UPDATED

    def set_wifi(self, ssid: str, psk: str) -> None:
        self.state.user_data["wifi"] = {"ssid": ssid, "psk": psk}
        self._save()

    def wifi(self) -> tuple[str, str]:
        w = self.state.user_data.get("wifi") or {}
        return str(w.get("ssid", "")), str(w.get("psk", ""))
