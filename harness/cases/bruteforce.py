"""5.1-5-2: wrong passwords, one at a time, on every network login the IXIT declares; lockout
(announced, or silent: the right password refused after the run), HTTP 429 or growing delays are
the mechanisms looked for. Each interface starts from a known counter state (a known-good login
first; earlier tests leave failures behind). Afterwards the unit is given back usable: the harness
waits out the lockout (bounded) and shows the right password works again, so later test cases do
not inherit a locked account."""

from __future__ import annotations

import re
import secrets
import threading
import time
from typing import TYPE_CHECKING

from harness.attacks import (
    BruteForceSettings,
    brute_force_settings,
    known_good_login,
    run_grouped,
    start_from_known_counter,
    wait_for_unlock,
)
from harness.checks.bruteforce import Attempt, SilentLock, judge_brute_force
from harness.verdict import CheckResult, Evidence, combine

if TYPE_CHECKING:
    from harness.device import Device

CONSOLE_KINDS = {"uart", "console", "serial", "jtag", "swd"}
MAX_LOCKOUT_WAIT_S = 300.0
_SECONDS = re.compile(r"(\d+(?:\.\d+)?)\s*s\b|Retry-After\s+(\d+)", re.I)


def network_logins(device: Device) -> list[tuple[str, str]]:
    """(interface name, login procedure) of every enabled network interface with a login."""
    return [(i.name, i.login) for i in device.profile.ixit.interfaces
            if i.login and i.status == "enabled" and (i.kind or "").lower() not in CONSOLE_KINDS]


def _announced_wait(detail: str) -> float:
    m = _SECONDS.search(detail or "")
    if not m:
        return 0.0
    return float(m.group(1) or m.group(2))


def _recover(device: Device, procedure: str, user: str, password: str, announced: float) -> Evidence:
    """Wait out an announced lockout (the device's own figure, scaled like settle times) and log in
    with the right password; a few tries, bounded in count and time."""
    stop = threading.Event()
    waited = 0.0
    for _ in range(4):
        delay = min(announced, MAX_LOCKOUT_WAIT_S) * device.settle_scale
        if delay > 0:
            device.note(f"waiting {delay:g} s for the lockout the device announced")
            stop.wait(delay)
            waited += delay
        attempt = known_good_login(device, (user, password), procedure)
        if attempt.outcome == "ok":
            return Evidence("table", "after the test", [{"right password accepted again": True, "waited s": waited}])
        announced = _announced_wait(attempt.detail) or announced or 1.0
    return Evidence("table", "after the test", [{"right password accepted again": False, "waited s": waited}])


def _silent_lock(device: Device, procedure: str, known_good: tuple[str, str], refusals: int,
                 settings: BruteForceSettings) -> SilentLock:
    """After a run of plain refusals: is the known-good password refused too? Then the account was
    locked without a word; the known-good password is polled until it works again (measured)."""
    probe = known_good_login(device, known_good, procedure)
    if probe.outcome == "ok":
        return SilentLock(refusals, probed=True, locked=False, probe_outcome="ok")
    if not (probe.outcome == "locked" or probe.refused_alive):
        return SilentLock(refusals, probed=True, locked=None, probe_outcome=probe.outcome,
                          detail=probe.detail or "no answer")
    unlock = wait_for_unlock(device, known_good, procedure, settings, first=probe)
    return SilentLock(refusals, probed=True, locked=True, probe_outcome=probe.outcome, detail=probe.detail,
                      unlocked=unlock.accepted, unlock_s=unlock.waited_s, polls=unlock.polls,
                      poll_s=settings.lockout_poll_s * device.settle_scale)


def attack_interface(device: Device, name: str, procedure: str, user: str, right: str | None,
                     budget: int, settings: BruteForceSettings) -> CheckResult:
    """Wrong passwords on one login, from a known counter state; then the known-good password."""
    known_good = (user, right) if right is not None else None
    start = start_from_known_counter(device, known_good, procedure, settings)
    if not start.usable:
        return CheckResult.inconclusive(f"{name}: the brute-force test could not start from a known counter "
                                        f"state: {start.state}",
                                        Evidence("observation", f"counter at start ({name})", start.state))
    deadline = time.monotonic() + settings.budget(name)
    attempts: list[Attempt] = []
    for n in range(1, budget + 1):
        if time.monotonic() >= deadline:
            break
        wrong = "wrong-" + secrets.token_hex(6)  # never a real password, so safe to show
        started = time.monotonic()
        att = device.try_login(user, wrong, procedure=procedure)
        attempts.append(Attempt(n, att.outcome, time.monotonic() - started, att.alive_after, att.detail))
        if att.outcome != "rejected":
            break
    silent = None
    if known_good is not None and attempts and all(a.outcome == "rejected" and a.alive for a in attempts):
        silent = _silent_lock(device, procedure, known_good, len(attempts), settings)
    result = judge_brute_force(name, attempts, budget, silent=silent, known_good=known_good is not None)
    result.evidence.append(Evidence("observation", f"counter at start ({name})", start.state))
    if right is not None and attempts and attempts[-1].outcome == "locked":
        result.evidence.append(_recover(device, procedure, user, right, _announced_wait(attempts[-1].detail)))
    return result


def brute_force_resistance(device: Device) -> CheckResult:
    logins = network_logins(device)
    if not logins:
        return CheckResult.not_applicable("IXIT 15-Intf declares no enabled network interface with a login")
    budget = device.profile.policies.brute_force_attempts
    settings = brute_force_settings(device.profile)
    user = device.default_user()
    right = device.state.password if device.state.password is not None else device.label_password(user)
    procedures = dict(logins)
    done = run_grouped(list(procedures), settings, lambda name: attack_interface(
        device, name, procedures[name], user, right, budget, settings))
    results = list(done.values())
    return combine(results, all_passed_reason="every network login resists brute force: " +
                   "; ".join(r.reason for r in results))
