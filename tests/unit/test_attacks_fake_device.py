"""A device double with the login behaviours the attack must cope with: an announced lockout, a
silent one (pam_faillock: "Permission denied" even for the right password), none, a counter that
a success resets or not, and a lock left by an earlier test. Real time, short periods."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from harness.attacks import BruteForceSettings
from harness.checks.passwords import LoginAttempt


@dataclass
class FakeAccount:
    password: str
    changeable: bool = True


@dataclass
class FakeLockoutDevice:
    accounts: dict[str, FakeAccount] = field(default_factory=lambda: {"admin": FakeAccount("Label-Pw-9x")})
    deny: int | None = 3  # consecutive failures that lock; None: never
    silent: bool = True  # during a lock: "rejected" (silent) or "locked" (announced)
    lock_s: float = 0.05
    reset_on_success: bool = True
    accept_any: bool = False
    extra_ok: set[tuple[str, str]] = field(default_factory=set)  # public defaults the device accepts
    dead_after: int | None = None  # attempts after which the device stops answering
    ignore_change: bool = False
    ignore_user: bool = False  # a password-only console: every user name is the one account
    extend_on_refusal: bool = False  # every login refused during the lock restarts it (pam_faillock authfail)
    settings: BruteForceSettings = field(default_factory=lambda: BruteForceSettings(
        lockout_poll_s=0.01, max_lockout_wait_s=2.0))
    settle_scale: float = 1.0
    failures: int = 0
    locked_until: float = 0.0
    log: list[tuple[str, str, str, str]] = field(default_factory=list)  # (procedure, user, password, answer)
    notes: list[str] = field(default_factory=list)
    threads: set[str] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._mutex = threading.Lock()
        self.state = SimpleNamespace(session="logged_out", user=None, password=None, factory_default=None)
        policy = SimpleNamespace(**vars(self.settings))
        self.profile = SimpleNamespace(
            policies=SimpleNamespace(brute_force=policy, brute_force_attempts=20),
            ixit=SimpleNamespace(interfaces=[], auth_mech=[]))
        self.unit = SimpleNamespace(accounts={u: None for u in self.accounts})
        self.unit_id = "U1"
        self.procedures = {"login", "logout", "change_password"}
        self.label = {u: a.password for u, a in self.accounts.items()}

    def lock(self, seconds: float | None = None) -> None:
        """A lock left behind by an earlier test."""
        self.locked_until = time.monotonic() + (self.lock_s if seconds is None else seconds)

    # -- the Device surface the attack uses ------------------------------------------------------
    def try_login(self, user: str, password: str, *, procedure: str = "login") -> LoginAttempt:
        self.threads.add(threading.current_thread().name)
        with self._mutex:
            answer = self._answer(user, password)
            self.log.append((procedure, user, password, answer))
        if answer == "ok" and procedure == "login":
            self.state.session, self.state.user, self.state.password = "logged_in", user, password
        alive = None if answer == "timeout" else True
        return LoginAttempt(user, password, answer, alive, "account locked for 0 s" if answer == "locked" else "")

    def _answer(self, user: str, password: str) -> str:
        if self.dead_after is not None and len(self.log) >= self.dead_after:
            return "timeout"
        now = time.monotonic()
        if now < self.locked_until:
            if self.extend_on_refusal:
                self.locked_until = now + self.lock_s
            return "rejected" if self.silent else "locked"
        acct = self.accounts.get(self.default_user() if self.ignore_user else user)
        good = self.accept_any or (acct is not None and acct.password == password) or (user, password) in self.extra_ok
        if good:
            if self.reset_on_success:
                self.failures = 0
            return "ok"
        self.failures += 1
        if self.deny is not None and self.failures >= self.deny:
            self.failures = 0
            self.locked_until = now + self.lock_s
        return "rejected"

    def logout(self) -> None:
        self.state.session = "logged_out"

    def wait_lockout(self, detail: str, *, cap: float = 900.0) -> float:
        threading.Event().wait(0.0)
        return 0.0

    def note(self, text: str) -> None:
        self.notes.append(text)

    def has(self, procedure: str) -> bool:
        return procedure in self.procedures

    def default_user(self) -> str:
        return next(iter(self.accounts))

    def label_password(self, user: str | None = None) -> str | None:
        return self.label.get(user or self.default_user())

    def mark_changed(self, *, password: str | None = None, user_data: bool | None = None) -> None:
        self.state.factory_default = False
        if password is not None:
            self.state.password = password

    def run(self, procedure: str, **variables: Any) -> SimpleNamespace:
        assert procedure in self.procedures, procedure
        user, old, new = variables["user"], variables["password"], variables["new_password"]
        acct = self.accounts.get(user)
        if acct is None or acct.password != old:
            return SimpleNamespace(outcome="rejected", detail="passwd: incorrect password", ok=False)
        if not acct.changeable:
            return SimpleNamespace(outcome="rejected", detail="passwd: can't update /rom/etc/shadow: Read-only file system",
                                   ok=False)
        if not self.ignore_change:
            acct.password = new
        return SimpleNamespace(outcome="ok", detail="password updated", ok=True)

    def answers(self, procedure: str = "login") -> list[str]:
        return [a for p, _, _, a in self.log if p == procedure]
