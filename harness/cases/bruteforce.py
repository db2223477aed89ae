"""5.1-5-2: wrong passwords, one at a time, on every network login the IXIT declares; lockout,
HTTP 429 or growing delays are the mechanisms looked for. Afterwards the unit is given back
usable: the harness waits out the lockout the device announced (bounded) and shows the right
password works again, so later test cases do not inherit a locked account."""

from __future__ import annotations

import re
import secrets
import threading
import time
from typing import TYPE_CHECKING

from harness.checks.bruteforce import Attempt, judge_brute_force
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
        attempt = device.try_login(user, password, procedure=procedure)
        if attempt.outcome == "ok":
            return Evidence("table", "after the test", [{"right password accepted again": True, "waited s": waited}])
        announced = _announced_wait(attempt.detail) or announced or 1.0
    return Evidence("table", "after the test", [{"right password accepted again": False, "waited s": waited}])


def brute_force_resistance(device: Device) -> CheckResult:
    logins = network_logins(device)
    if not logins:
        return CheckResult.not_applicable("IXIT 15-Intf declares no enabled network interface with a login")
    budget = device.profile.policies.brute_force_attempts
    user = device.default_user()
    right = device.state.password if device.state.password is not None else device.label_password(user)
    results = []
    for name, procedure in logins:
        attempts: list[Attempt] = []
        for n in range(1, budget + 1):
            wrong = "wrong-" + secrets.token_hex(6)  # never a real password, so safe to show
            started = time.monotonic()
            att = device.try_login(user, wrong, procedure=procedure)
            attempts.append(Attempt(n, att.outcome, time.monotonic() - started, att.alive_after, att.detail))
            if att.outcome != "rejected":
                break
        result = judge_brute_force(name, attempts, budget)
        if right is not None and attempts and attempts[-1].outcome == "locked":
            result.evidence.append(_recover(device, procedure, user, right, _announced_wait(attempts[-1].detail)))
        results.append(result)
    return combine(results, all_passed_reason="every network login resists brute force: " +
                   "; ".join(r.reason for r in results))
