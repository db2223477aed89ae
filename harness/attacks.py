"""Credential attempts against a unit (the I/O half of 5.1-1 and 5.1-5; the judging is in checks).

Many devices lock an account without saying so (OpenSSH with pam_faillock prints only
"Permission denied" during the lock). A refusal from a locked account says nothing about the
password tried, so every run of refusals is bracketed by logins with the known-good password:
accepted after the run → the refusals were the device judging the passwords; refused → the
account was locked somewhere in the run, those credentials are tried again once the lock is over
(polled with the known-good password at a declared interval, bounded), or reported untried.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from harness.checks.passwords import Credential, LoginAttempt
from harness.verdict import Evidence

if TYPE_CHECKING:
    from harness.device import Device
    from harness.profile.models import DeviceProfile

# Lockouts waited out in one attack; each wait is bounded by the policy's longest wait.
MAX_LOCK_WAITS = 20
# Refusals between two known-good logins when a silent lock is possible and its threshold is not
# known yet: pam_faillock's default is 3 failures, so 2 keeps such a device from ever locking.
DEFAULT_PROBE_EVERY = 2
# Expected seconds per failed login by interface kind, for the estimate printed before a run.
ATTEMPT_S_BY_KIND = {"telnet": 2.5, "ssh": 2.5, "uart": 1.0, "console": 1.0, "serial": 1.0,
                     "https": 0.3, "http": 0.3, "mqtt": 0.5}
CONSOLE_KINDS = {"uart", "console", "serial", "jtag", "swd"}

T = TypeVar("T")


@dataclass
class BruteForceSettings:
    """``policies.brute_force`` of the profile, with the defaults used before a profile says more."""

    budget_s: float = 1800.0
    per_interface: dict[str, float] = field(default_factory=dict)
    independent_counters: list[str] = field(default_factory=list)
    reset_on_success: bool = True
    lockout_poll_s: float = 5.0
    max_lockout_wait_s: float = 600.0
    attempt_s: dict[str, float] = field(default_factory=dict)
    probe_every: int = DEFAULT_PROBE_EVERY

    def budget(self, interface: str) -> float:
        return float(self.per_interface.get(interface, self.budget_s))


def brute_force_settings(profile: DeviceProfile | Any) -> BruteForceSettings:
    policy = getattr(getattr(profile, "policies", None), "brute_force", None)
    if policy is None:
        return BruteForceSettings()
    names = BruteForceSettings.__dataclass_fields__
    return BruteForceSettings(**{k: getattr(policy, k) for k in names if getattr(policy, k, None) is not None})


# --- candidates -------------------------------------------------------------------------------------

def candidate_credentials(dictionary: Iterable[Credential], users: Iterable[str]) -> list[Credential]:
    """The dictionary's pairs, plus every dictionary password for each account the unit declares
    (a device's real user name with a public default password is the likeliest hit)."""
    out: dict[tuple[str, str], Credential] = {}
    creds = list(dictionary)
    for c in creds:
        out.setdefault((c.user, c.password), c)
    for user in users:
        for c in creds:
            out.setdefault((user, c.password), Credential(user, c.password))
    return list(out.values())


# --- lock state -------------------------------------------------------------------------------------

@dataclass
class Unlock:
    """What polling the known-good password showed."""

    accepted: bool
    waited_s: float
    polls: int
    last: LoginAttempt | None = None

    def row(self) -> dict[str, Any]:
        return {"known-good password accepted": self.accepted, "waited s": round(self.waited_s, 3),
                "known-good attempts": self.polls,
                "last answer": None if self.last is None else self.last.outcome}


def _end_session(device: Device, procedure: str) -> None:
    if procedure == "login":
        device.logout()


def known_good_login(device: Device, known_good: tuple[str, str], procedure: str) -> LoginAttempt:
    """One login with the password the harness knows works; a console session it opens is closed."""
    attempt = device.try_login(*known_good, procedure=procedure)
    if attempt.outcome == "ok":
        _end_session(device, procedure)
    return attempt


def wait_for_unlock(device: Device, known_good: tuple[str, str], procedure: str, settings: BruteForceSettings,
                    *, first: LoginAttempt | None = None, stop: threading.Event | None = None) -> Unlock:
    """Poll the known-good password until the device accepts it, at most ``max_lockout_wait_s``
    (both scaled like the device's settle times). The first wait is ``lockout_poll_s``; each
    refused poll doubles it, because some locks count every refused login, the right password's
    too (pam_faillock's authfail on some stacks), and polling faster than the lock period would
    keep such a lock alive for ever. A poll that cannot be judged (no answer, no proof of life)
    ends the wait: the unit, not the lock, is the problem."""
    stop = stop or threading.Event()
    scale = getattr(device, "settle_scale", 1.0)
    interval = settings.lockout_poll_s * scale
    limit = settings.max_lockout_wait_s * scale
    max_polls = max(1, math.ceil(math.log2(max(2.0, settings.max_lockout_wait_s / settings.lockout_poll_s)))) + 2
    started = time.monotonic()
    last = first
    polls = 0
    if first is not None and first.outcome == "ok":
        return Unlock(True, 0.0, 0, first)
    while polls < max_polls:
        elapsed = time.monotonic() - started
        if polls and elapsed >= limit:
            break
        if polls or first is not None:
            stop.wait(min(interval, max(0.0, limit - elapsed)))
            interval *= 2
        last = known_good_login(device, known_good, procedure)
        polls += 1
        if last.outcome == "ok":
            return Unlock(True, time.monotonic() - started, polls, last)
        if not last.refused_alive:
            break
    return Unlock(False, time.monotonic() - started, polls, last)


@dataclass
class CounterStart:
    """How the attack began: the failed-login counter as the harness left it."""

    state: str  # "reset by a known-good login" | "waited out a lock" | "unknown (…)" | "locked (…)"
    unlock: Unlock | None = None

    @property
    def usable(self) -> bool:
        return not self.state.startswith("locked")


def start_from_known_counter(device: Device, known_good: tuple[str, str] | None, procedure: str,
                             settings: BruteForceSettings) -> CounterStart:
    """Earlier tests leave failed attempts behind: log in with the known-good password (which
    resets the counter on most devices), or wait out a lock first."""
    if known_good is None:
        return CounterStart("unknown (no known-good password to reset the failed-login counter)")
    first = known_good_login(device, known_good, procedure)
    if first.outcome == "ok":
        return CounterStart("reset by a known-good login" if settings.reset_on_success
                            else "known-good login accepted (the device does not reset its counter on success)")
    if first.outcome == "locked" or first.refused_alive:
        unlock = wait_for_unlock(device, known_good, procedure, settings, first=first)
        if unlock.accepted:
            return CounterStart("waited out a lock left by an earlier test", unlock)
        return CounterStart(f"locked (the known-good password was still refused after {unlock.waited_s:.0f} s)", unlock)
    return CounterStart(f"locked (the known-good login could not be judged: {first.outcome} {first.detail})".strip())


# --- dictionary attack --------------------------------------------------------------------------------

@dataclass
class LockEvent:
    refusals_before: int  # refusals since the last accepted known-good login
    silent: bool  # shown only by the known-good password being refused
    unlock: Unlock | None = None

    def row(self) -> dict[str, Any]:
        return {"refusals since the last known-good login": self.refusals_before,
                "silent": self.silent, **(self.unlock.row() if self.unlock else {})}


@dataclass
class AttackReport:
    interface: str
    planned: int
    attempts: list[LoginAttempt] = field(default_factory=list)
    locks: list[LockEvent] = field(default_factory=list)
    start: CounterStart | None = None
    stopped: str = ""  # why the attack ended before the last credential, "" when it did not
    seconds: float = 0.0
    probes: int = 0

    def evidence(self, label: str = "") -> list[Evidence]:
        where = label or self.interface
        rows = [{"interface": self.interface, "planned": self.planned, "attempts": len(self.attempts),
                 "known-good logins": self.probes, "locks": len(self.locks),
                 "silent locks": sum(1 for lk in self.locks if lk.silent),
                 "counter at start": self.start.state if self.start else "not set",
                 "stopped early": self.stopped or "no", "seconds": round(self.seconds, 1)}]
        ev = [Evidence("table", f"attack conduct ({where})", rows)]
        if self.locks:
            ev.append(Evidence("table", f"lockouts met ({where})", [lk.row() for lk in self.locks]))
        return ev


def dictionary_attack(device: Device, credentials: list[Credential], *, budget_s: float | None = None,
                      known_good: tuple[str, str] | None = None, procedure: str = "login",
                      interface: str = "console", settings: BruteForceSettings | None = None) -> list[LoginAttempt]:
    """The attempts of :func:`run_dictionary` (kept for callers that want only those)."""
    return run_dictionary(device, credentials, budget_s=budget_s, known_good=known_good, procedure=procedure,
                          interface=interface, settings=settings).attempts


def run_dictionary(device: Device, credentials: list[Credential], *, budget_s: float | None = None,
                   known_good: tuple[str, str] | None = None, procedure: str = "login",
                   interface: str = "console", settings: BruteForceSettings | None = None) -> AttackReport:
    """Try each credential once, within the interface's time budget.

    Stops at the first attempt that cannot be judged (silence, a refusal without proof of life, a
    dead link): what follows it would be guesswork. A lockout the device announces is waited out
    and the same credential tried again. With ``known_good`` (the unit's current password) the
    attack starts from a known counter state and logs in with it after every few refusals: an
    accepted login proves the refusals before it were judged (and resets the counter on most
    devices, so the attack goes on without waiting); a refused one reveals a silent lock, and the
    refusals since the last accepted login are tried again once the lock is over."""
    settings = settings or brute_force_settings(device.profile)
    budget = budget_s if budget_s is not None else settings.budget(interface)
    report = AttackReport(interface, len(credentials))
    began = time.monotonic()
    deadline = began + budget
    report.start = start_from_known_counter(device, known_good, procedure, settings) if known_good else None
    if report.start is not None:
        report.probes += 1
        if not report.start.usable:
            report.stopped = f"the account was locked before the attack ({report.start.state})"
            report.seconds = time.monotonic() - began
            return report
    probe_every = max(1, settings.probe_every)
    lock_at: int | None = None  # consecutive refusals after which the device was seen to lock
    pending: list[LoginAttempt] = []  # refusals not yet confirmed by an accepted known-good login
    waits = 0
    index = 0

    def confirm() -> bool:
        """Known-good login after the pending refusals: True when they stand as judged."""
        nonlocal waits, lock_at, probe_every, index
        assert known_good is not None
        probe = known_good_login(device, known_good, procedure)
        report.probes += 1
        if probe.outcome == "ok":
            report.attempts.extend(pending)
            pending.clear()
            return True
        if probe.outcome != "locked" and not probe.refused_alive:
            report.stopped = f"the known-good login could not be judged ({probe.outcome}: {probe.detail})"
            return False
        # Locked somewhere in the pending run: none of it can be trusted; try it again after the lock.
        event = LockEvent(len(pending), silent=probe.outcome != "locked")
        report.locks.append(event)
        lock_at = min(lock_at or len(pending), len(pending))
        # The lock began somewhere in the run: halve the run rather than creep down one by one
        # (each retry costs a lock period).
        probe_every = max(1, min(probe_every, lock_at - 1, len(pending) // 2))
        index -= len(pending)
        pending.clear()
        if waits >= MAX_LOCK_WAITS or time.monotonic() >= deadline:
            report.stopped = "the lockout budget was spent"
            return False
        waits += 1
        event.unlock = wait_for_unlock(device, known_good, procedure, settings, first=probe)
        report.probes += event.unlock.polls
        if not event.unlock.accepted:
            report.stopped = f"the lock did not end within {event.unlock.waited_s:.0f} s"
            return False
        return True

    while True:
        if index >= len(credentials):
            if pending and not report.stopped and confirm() and index < len(credentials):
                continue  # a lock at the very end: its refusals are tried again
            break
        if time.monotonic() >= deadline:
            report.stopped = f"the time budget of {budget:g} s was spent"
            break
        cred = credentials[index]
        attempt = device.try_login(cred.user, cred.password, procedure=procedure)
        if attempt.outcome == "locked" and attempt.alive_after:
            if waits >= MAX_LOCK_WAITS:
                report.attempts.extend(pending)
                report.attempts.append(attempt)
                pending.clear()
                report.stopped = "the lockout budget was spent"
                break
            # An announced lock: what came before it was judged (the device counted it).
            report.attempts.extend(pending)
            report.locks.append(LockEvent(len(pending), silent=False))
            lock_at = lock_at or max(len(pending), 1)
            probe_every = max(1, min(probe_every, lock_at - 1))
            pending.clear()
            waits += 1
            device.wait_lockout(attempt.detail, cap=settings.max_lockout_wait_s)
            if known_good is not None:
                report.locks[-1].unlock = unlock = wait_for_unlock(device, known_good, procedure, settings)
                report.probes += unlock.polls
                if not unlock.accepted:
                    report.attempts.append(attempt)
                    report.stopped = f"the lock did not end within {unlock.waited_s:.0f} s"
                    break
            continue  # the same credential again: it was not judged
        index += 1
        if attempt.outcome == "ok":
            report.attempts.extend(pending)
            pending.clear()
            report.attempts.append(attempt)
            _end_session(device, procedure)
            continue
        if attempt.outcome == "rejected" and attempt.alive_after:
            pending.append(attempt)
            if known_good is not None and len(pending) >= probe_every and not confirm():
                break
            if known_good is None:
                report.attempts.extend(pending)
                pending.clear()
            continue
        # Refusals still unconfirmed are dropped with the rest: they count as not tried.
        report.attempts.append(attempt)
        break
    # Refusals a lock (or an unjudged known-good login) made meaningless stay out of the
    # attempts: they count as not tried.
    report.seconds = time.monotonic() - began
    return report


# --- several interfaces -----------------------------------------------------------------------------

def interface_groups(names: list[str], settings: BruteForceSettings) -> list[list[str]]:
    """Interfaces with a counter of their own each form a group; the rest share one (they may
    share the device's counter, so they go one after another)."""
    own = [[n] for n in names if n in settings.independent_counters]
    shared = [n for n in names if n not in settings.independent_counters]
    return own + ([shared] if shared else [])


def run_grouped(names: list[str], settings: BruteForceSettings, work: Callable[[str], T]) -> dict[str, T]:
    """``work(name)`` for every interface: groups concurrently, one after another inside a group."""
    groups = interface_groups(names, settings)

    def run_group(group: list[str]) -> dict[str, T]:
        return {n: work(n) for n in group}

    out: dict[str, T] = {}
    if len(groups) <= 1:
        for g in groups:
            out.update(run_group(g))
    else:
        with ThreadPoolExecutor(max_workers=len(groups), thread_name_prefix="bruteforce") as pool:
            for done in [pool.submit(run_group, g) for g in groups]:
                out.update(done.result())
    return {n: out[n] for n in names}


# --- estimate -------------------------------------------------------------------------------------

def estimate_brute_force(profile: DeviceProfile, dictionary: int | list[Credential]) -> list[dict[str, Any]]:
    """Expected duration of the dictionary (5.1-1-2) and brute-force (5.1-5-2) tests per
    interface, bounded by the budgets, before a run starts. Pure. ``dictionary``: the credentials
    (the candidates are counted exactly) or only their number (then each is counted once per
    declared account as well, an upper bound)."""
    settings = brute_force_settings(profile)
    users = list(profile.units[0].accounts) if profile.units else []
    if isinstance(dictionary, int):
        per_phase = dictionary * (1 + len(users))
    else:
        per_phase = len(candidate_credentials(dictionary, users))
    # Known-good logins between the refusals, and the one that starts each attack.
    overhead = 1 + 1 / max(1, settings.probe_every)
    rows = []
    for intf in profile.ixit.interfaces:
        kind = (intf.kind or "").lower()
        console = kind in CONSOLE_KINDS
        if intf.status != "enabled" or not (intf.login or console):
            continue
        if console and intf.name != "console":
            continue
        attempts = per_phase * (2 if console else 1)  # the console is attacked before and after a reset
        logins = math.ceil(attempts * overhead) + (2 if console else 1)
        if not console:
            logins += profile.policies.brute_force_attempts + 2
        per_try = settings.attempt_s.get(intf.name, ATTEMPT_S_BY_KIND.get(kind, 1.0))
        budget = settings.budget(intf.name) * (2 if console else 1)
        seconds = min(logins * per_try, budget + (0 if console else profile.policies.brute_force_attempts * per_try))
        rows.append({"interface": intf.name, "kind": kind or "?", "attempts": logins, "s per attempt": per_try,
                     "estimate s": round(seconds), "concurrent": intf.name in settings.independent_counters})
    return rows


def total_estimate(rows: list[dict[str, Any]]) -> float:
    """Per unit: concurrent interfaces overlap with the rest, the others add up."""
    shared = sum(r["estimate s"] for r in rows if not r["concurrent"])
    own = [r["estimate s"] for r in rows if r["concurrent"]]
    return float(max([shared, *own])) if rows else 0.0


def format_estimate(rows: list[dict[str, Any]], units: int = 1) -> str:
    if not rows:
        return "brute-force estimate: no login interface to attack"
    lines = [f"brute-force estimate per unit ({units} unit(s)):"]
    for r in rows:
        lines.append(f"  {r['interface']:<12} {r['attempts']:>6} logins × {r['s per attempt']:g} s"
                     f" ≈ {r['estimate s']:>6} s{' (concurrent)' if r['concurrent'] else ''}")
    total = total_estimate(rows)
    lines.append(f"  total ≈ {total / 60:.1f} min per unit, {total * units / 60:.1f} min for {units} unit(s)")
    return "\n".join(lines)
