"""One physical unit: its flash state, power/boot lifecycle and the operations its services
(console, telnet, SSH, HTTPS API, MQTT) expose. No I/O besides flash; front-ends subscribe to
lifecycle events and render them.

What lives in RAM and what in flash matters here, because the bench can cut the power: sessions,
API tokens, the login lockout, the console hang and a crash are RAM (a power cut ends them); the
password, user data and the installed firmware version are flash (a power cut keeps them, unless
the behaviour `config_survives_power_loss` is off)."""

from __future__ import annotations

import asyncio
import enum
import secrets
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from harness.sim import storage
from harness.sim.catalog import ADMIN_USER, Behaviour, UnitIdentity
from harness.sim.flash import Flash, FlashState, empty_user_data
from harness.sim.lockout import Lockout
from harness.sim.passwords import label_password
from harness.sim.timing import Delays

if TYPE_CHECKING:
    from harness.sim.updater import Updater

TOKEN_LIFETIME = 3600.0  # API session tokens; real seconds (a client never waits for this)
MAX_TOKENS = 64  # the oldest session is dropped beyond this, as a device with little RAM would


class Power(enum.Enum):
    OFF = "off"  # no supply
    RESETTING = "resetting"  # erasing flash before the reboot
    INSTALLING = "installing"  # writing an accepted update before the reboot
    BOOTING = "booting"
    RUNNING = "running"
    CRASHED = "crashed"  # powered but hung (crashes_on_malformed): only a power cycle helps


class Event(enum.Enum):
    RESETTING = "resetting"
    REBOOTING = "rebooting"
    INSTALLING = "installing"  # Unit.installing holds the version
    CRASHED = "crashed"
    POWER_LOST = "power_lost"
    BOOT_STARTED = "boot_started"
    BOOT_FINISHED = "boot_finished"


class PasswdOutcome(enum.Enum):
    UPDATED = "updated"
    AUTH_ERROR = "auth_error"  # wrong current password
    MISMATCH = "mismatch"  # new and retyped differ


class LoginResult(enum.Enum):
    OK = "ok"
    REFUSED = "refused"  # the password was evaluated and is wrong (or the user is unknown)
    LOCKED = "locked"  # not evaluated: the unit is locked out


@dataclass(frozen=True)
class LoginOutcome:
    result: LoginResult
    # LOCKED: real seconds until the lock ends; REFUSED: the lock this failure started, if any.
    lock_seconds: float | None = None

    @property
    def ok(self) -> bool:
        return self.result is LoginResult.OK


Listener = Callable[[Event], None]


class Unit:
    def __init__(self, identity: UnitIdentity, behaviour: Behaviour, flash: Flash, delays: Delays,
                 taken_labels: Collection[str] = ()) -> None:
        self.identity = identity
        self.behaviour = behaviour
        self.delays = delays
        self._flash = flash
        self.state = self._load_or_manufacture(taken_labels)
        # "Up" as events, for services that hold a new connection until the unit has booted.
        self._up = asyncio.Event()
        self._up_threads = threading.Event()
        self._power = Power.OFF
        self.login_attempts = 0  # since the simulator started, any outcome, any service
        # In RAM: survives reboots and resets of the unit, not a restart of the simulator.
        self.lockout = Lockout(enabled=behaviour.login_lockout, scale=delays.scale)
        self.booted_at: float | None = None  # monotonic time the last boot finished
        self._tokens: dict[str, float] = {}  # API session token -> expiry (monotonic); RAM only
        self._app_token: str | None = None
        self._listeners: list[Listener] = []
        self._lifecycle: asyncio.Task[None] | None = None
        self.installing: str | None = None  # the version being installed (Power.INSTALLING)
        self.crash_reason = ""
        self.updater: Updater | None = None  # the firmware's update service, set by the assembly
        self.boot_after_reset = False  # the last boot followed a factory reset (its confirmation is shown)

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

    def save(self) -> None:
        """Write the flash state now: for firmware modules that keep their own settings in
        `state.user_data` (consent, owner profile, update settings)."""
        self._save()

    @property
    def label(self) -> str:
        return self.state.label

    # -- lifecycle ----------------------------------------------------------------------------
    @property
    def power(self) -> Power:
        return self._power

    @power.setter
    def power(self, value: Power) -> None:
        self._power = value
        for flag in (self._up, self._up_threads):
            if value is Power.RUNNING:
                flag.set()
            else:
                flag.clear()

    async def wait_running(self, timeout: float) -> bool:
        """On the event loop: until the unit runs, at most `timeout` seconds."""
        try:
            await asyncio.wait_for(self._up.wait(), timeout)
        except TimeoutError:
            return False
        return self.power is Power.RUNNING

    def wait_running_in_thread(self, timeout: float) -> bool:
        """The same for a server thread."""
        return self._up_threads.wait(timeout) and self.power is Power.RUNNING

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
        """Supply on: the unit boots (nothing happens if it already has power)."""
        if self.power is Power.OFF:
            self.power = Power.BOOTING
            self._run(self._boot)

    def power_cut(self) -> None:
        """Supply off: whatever the unit was doing stops and RAM is gone."""
        if self._lifecycle is not None and not self._lifecycle.done():
            self._lifecycle.cancel()  # an install cut short keeps the old firmware (it is written last)
        self.power = Power.OFF
        self.booted_at = None
        self._tokens.clear()
        self._app_token = None
        self.login_attempts = 0  # the console hang of `hang_after_logins` is RAM
        self.lockout = Lockout(enabled=self.behaviour.login_lockout, scale=self.delays.scale)
        self.installing = None
        self.crash_reason = ""
        if not self.behaviour.config_survives_power_loss:
            # The defect: the user-data partition does not survive an unclean shutdown.
            self.state.user_data = empty_user_data()
            self._save()
        self._notify(Event.POWER_LOST)

    def crash(self, reason: str) -> None:
        """The firmware fell over (crashes_on_malformed): no console, no services, until power-cycled."""
        if self.power is not Power.RUNNING:
            return
        if self._lifecycle is not None and not self._lifecycle.done():
            self._lifecycle.cancel()
        self.crash_reason = reason
        self.power = Power.CRASHED
        self._notify(Event.CRASHED)

    def install_update(self, version: str) -> None:
        """An accepted update: write it (install delay), then boot into it."""
        if self.power is not Power.RUNNING:
            return
        self.installing = version
        self.power = Power.INSTALLING
        self._notify(Event.INSTALLING)
        self._run(self._install_and_boot)

    async def _install_and_boot(self) -> None:
        await self.delays.sleep(self.delays.install)
        if self.installing is not None:
            # Written last, in one step: a power cut during the install keeps the old version.
            self.state.firmware = self.installing
            self._save()
            self.installing = None
        await self._boot()

    @property
    def firmware(self) -> str:
        """The installed firmware version (flash)."""
        return self.state.firmware

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
        await self._boot(after_reset=True)

    async def _boot(self, after_reset: bool = False) -> None:
        self.power = Power.BOOTING
        self.booted_at = None
        self.boot_after_reset = after_reset
        self._tokens.clear()  # sessions live in RAM
        self._app_token = None
        self._notify(Event.BOOT_STARTED)
        await self.delays.sleep(self.delays.boot)
        self.power = Power.RUNNING
        self.booted_at = time.monotonic()
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
    async def login(self, user: str, password: str) -> LoginOutcome:
        """One login attempt on any surface. While locked out the password is not evaluated and the
        answer comes at once; a refusal takes the failed-login delay and may start a lock."""
        self.login_attempts += 1
        remaining = self.lockout.remaining(time.monotonic())
        if remaining > 0:
            return LoginOutcome(LoginResult.LOCKED, remaining)
        ok = user == ADMIN_USER and (self.behaviour.accepts_any_password or password == self.state.password)
        if ok:
            self.lockout.success()
            return LoginOutcome(LoginResult.OK)
        await self.delays.sleep(self.delays.failed_login)
        return LoginOutcome(LoginResult.REFUSED, self.lockout.failure(time.monotonic()))

    async def authenticate(self, user: str, password: str) -> bool:
        """One login attempt, yes or no (a lockout is a no)."""
        return (await self.login(user, password)).ok

    def uptime(self) -> float:
        return 0.0 if self.booted_at is None else time.monotonic() - self.booted_at

    # -- API sessions (RAM) -----------------------------------------------------------------------
    def issue_token(self) -> str:
        now = time.monotonic()
        self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
        while len(self._tokens) >= MAX_TOKENS:
            del self._tokens[next(iter(self._tokens))]
        token = secrets.token_urlsafe(24)
        self._tokens[token] = now + TOKEN_LIFETIME
        return token

    def token_valid(self, token: str) -> bool:
        expiry = self._tokens.get(token)
        return expiry is not None and expiry > time.monotonic() and self.power is Power.RUNNING

    def app_token(self) -> str:
        """The session the companion app holds (what leaky telemetry exposes): one per boot."""
        if self._app_token is None or not self.token_valid(self._app_token):
            self._app_token = self.issue_token()
        return self._app_token

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
            self._tokens.clear()  # a new password ends every API session
            self._app_token = None
        return PasswdOutcome.UPDATED

    def set_wifi(self, ssid: str, psk: str) -> None:
        self.state.user_data["wifi"] = {"ssid": ssid, "psk": psk}
        self._save()

    def wifi(self) -> tuple[str, str]:
        w = self.state.user_data.get("wifi") or {}
        return str(w.get("ssid", "")), str(w.get("psk", ""))

    def set_mqtt(self, settings: dict[str, str] | None) -> None:
        """The broker the unit connects to (user data: a reset that wipes user data forgets it)."""
        self.state.user_data["mqtt"] = dict(settings) if settings else {}
        self._save()

    def mqtt_settings(self) -> dict[str, str]:
        return dict(self.state.user_data.get("mqtt") or {})

    # -- identity, storage and software integrity (harness.sim.storage renders them) -------------
    @property
    def serial(self) -> str:
        """The identity the unit reports (the manufactured one unless it was rewritten)."""
        return self.state.serial_override or self.identity.serial

    def write_identity(self, serial: str) -> bool:
        """Rewrite the per-device identity: only a unit whose identity is writable takes it."""
        if not self.behaviour.identity_writable:
            return False
        self.state.serial_override = None if serial == self.identity.serial else serial
        self._save()
        return True

    def stored_files(self) -> dict[str, str]:
        return {storage.CONFIG_PATH: storage.stored_config(self.behaviour, self.identity.serial, self.state.user_data),
                storage.PASSWD_PATH: storage.stored_passwd(self.identity.serial, ADMIN_USER, self.state.password),
                storage.IDENTITY_PATH: storage.identity_file(self.serial, self.identity.mac)}

    def modify_software(self) -> None:
        """An engineering write into the installed image (not an update): flash keeps it."""
        self.state.image_modified = True
        self._save()

    def restore_software(self) -> None:
        self.state.image_modified = False
        self._save()

    @property
    def network_restricted(self) -> bool:
        """The integrity monitor found a modified image and cut the network services off."""
        return self.state.image_modified and self.behaviour.tamper_response
