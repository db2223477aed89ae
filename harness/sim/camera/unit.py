"""One camera: the hub's power and boot lifecycle (harness.sim.unit.Unit) with the camera's own
flash contents, accounts and login rules.

Flash holds the admin password (the label's at manufacture), the settings and, in a partition a
factory reset does not touch, the cloud account the firmware uses. RAM holds the faillock tally
(/var/run is tmpfs), the web sessions and the web login limiter."""

from __future__ import annotations

import re
from collections.abc import Collection
from pathlib import Path

from harness.sim.camera import model
from harness.sim.camera.model import ADMIN, SUPPORT, SUPPORT_PASSWORD, Defects, Faillock, RateLimit
from harness.sim.catalog import Behaviour, UnitIdentity
from harness.sim.flash import Flash, FlashState
from harness.sim.timing import Delays
from harness.sim.unit import Event, LoginOutcome, LoginResult, PasswdOutcome, Unit

# camcfg keys: default value and what a value must look like (the firmware validates every write).
SETTINGS: dict[str, tuple[str, re.Pattern[str]]] = {
    "ntp_server": ("pool.ntp.org", re.compile(r"[A-Za-z0-9][A-Za-z0-9.-]{0,252}")),
    "timezone": ("UTC", re.compile(r"[A-Za-z][A-Za-z0-9_+/-]{0,39}")),
    "osd_text": ("Lumacam", re.compile(r"[A-Za-z0-9 ._-]{0,32}")),
    "wifi_ssid": ("", re.compile(r"[^\x00-\x1f\x7f]{0,32}")),
    "wifi_psk": ("", re.compile(r"[ -~]{8,63}|")),
    "stream_bitrate": ("2048", re.compile(r"(?:[1-9][0-9]{2,3})")),
}
SECRET_SETTINGS = ("wifi_psk",)


def default_settings() -> dict[str, str]:
    return {k: v for k, (v, _) in SETTINGS.items()}


class CameraUnit(Unit):
    def __init__(self, identity: UnitIdentity, defects: Defects, flash_path: Path, delays: Delays,
                 taken_labels: Collection[str] = ()) -> None:
        self.defects = defects
        # The hub's Behaviour carries the lifecycle switches Unit reads; the camera keeps its
        # own login rules below (no hub lockout, settings survive a power cut).
        behaviour = Behaviour(label_scheme="lumacam", reset_password="label", reset_wipes_user_data=True,
                              login_lockout=False)
        super().__init__(identity, behaviour, Flash(flash_path), delays, taken_labels)
        self.faillock: dict[str, Faillock] = {}
        self.web_limit = RateLimit(block=model.WEB_BLOCK * delays.scale)
        self.subscribe(self._on_lifecycle)

    # -- flash ----------------------------------------------------------------------------------
    def _load_or_manufacture(self, taken: Collection[str]) -> FlashState:
        state = self._flash.load()
        if (state is not None and state.serial == self.identity.serial and state.label_scheme == "lumacam"
                and "device" in state.user_data):
            state.firmware = model.FIRMWARE
            return state
        label = model.label_password(taken)
        state = FlashState(serial=self.identity.serial, label_scheme="lumacam", label=label, password=label,
                           user_data={"settings": default_settings(),
                                      "device": {"cloud_password": model.cloud_password()}},
                           firmware=model.FIRMWARE)
        self._flash.save(state)
        return state

    def _erase(self) -> None:
        self.state.password = self.state.label
        self.state.user_data = {"settings": default_settings(), "device": self.state.user_data["device"]}
        self._save()

    @property
    def cloud_user(self) -> str:
        return model.cloud_user(self.identity.serial)

    @property
    def cloud_password(self) -> str:
        return str(self.state.user_data["device"]["cloud_password"])

    # -- accounts ------------------------------------------------------------------------------
    def _on_lifecycle(self, event: Event) -> None:
        if event in (Event.BOOT_STARTED, Event.POWER_LOST):
            self.faillock.clear()  # /var/run/faillock is tmpfs
            self.web_limit = RateLimit(block=model.WEB_BLOCK * self.delays.scale)

    def accounts(self) -> list[str]:
        return [ADMIN, SUPPORT] if self.defects.service_account else [ADMIN]

    def password_matches(self, user: str, password: str) -> bool:
        if user == ADMIN:
            return password == self.state.password
        if user == SUPPORT and self.defects.service_account:
            return password == SUPPORT_PASSWORD
        return False  # root's password is locked ('!' in /etc/shadow); unknown users fail alike

    async def login_on(self, surface: str, user: str, password: str) -> LoginOutcome:
        """One login on `surface` (console | telnet | ssh | web). SSH and telnet logins go through
        PAM and share the per-account faillock tally (sshd only without the `no_ssh_lockout`
        defect); the UART console is exempt so that the owner can always recover the unit; the web
        server has its own limiter (`web_limit`, an announced 429)."""
        self.login_attempts += 1
        known = user in (*self.accounts(), "root")  # pam_faillock keeps a tally for existing accounts only
        counted = known and (surface == "telnet" or (surface == "ssh" and not self.defects.no_ssh_lockout))
        lock = self.faillock.setdefault(user, Faillock(unlock=model.FAILLOCK_UNLOCK * self.delays.scale)) \
            if counted else None
        ok = self.password_matches(user, password)
        if lock is not None and lock.locked(model.now()):
            # preauth denies; pam_unix still runs, and only a wrong password reaches authfail and
            # is recorded (which extends the lock). pam_faildelay: a lock looks like a refusal.
            if not ok:
                lock.record(False, model.now())
            await self.delays.sleep(self.delays.failed_login)
            return LoginOutcome(LoginResult.REFUSED)
        if lock is not None:
            lock.record(ok, model.now())
        if ok:
            return LoginOutcome(LoginResult.OK)
        await self.delays.sleep(self.delays.failed_login)
        return LoginOutcome(LoginResult.REFUSED)

    def change_password_of(self, user: str, current: str, new: str, retyped: str) -> PasswdOutcome | str:
        """BusyBox passwd for `user`; a string is the error the firmware prints instead."""
        if user == SUPPORT:
            return "passwd: can't update /rom/etc/shadow: Read-only file system"
        if current != self.state.password:
            return PasswdOutcome.AUTH_ERROR
        if new != retyped:
            return PasswdOutcome.MISMATCH
        self.state.password = new
        self._save()
        self._tokens.clear()
        return PasswdOutcome.UPDATED

    def drop_token(self, token: str) -> None:
        self._tokens.pop(token, None)

    # -- settings ------------------------------------------------------------------------------
    def settings(self) -> dict[str, str]:
        return dict(self.state.user_data["settings"])

    def set_setting(self, key: str, value: str) -> str | None:
        """Store one setting; the error message when the key or value is refused."""
        if key not in SETTINGS:
            return f"unknown key {key}"
        if not SETTINGS[key][1].fullmatch(value):
            return f"invalid value for {key}"
        self.state.user_data["settings"][key] = value
        self._save()
        return None
