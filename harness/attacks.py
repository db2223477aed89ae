"""Credential attempts against a unit (the I/O half of 5.1-1; the judging is in checks)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from harness.checks.passwords import Credential, LoginAttempt
from harness.device import Device

# Lockouts waited out in one attack; each wait is the device's own announced period (bounded).
MAX_LOCK_WAITS = 20


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


def dictionary_attack(device: Device, credentials: list[Credential], *, budget_s: float = 1800.0,
                      known_good: tuple[str, str] | None = None, procedure: str = "login") -> list[LoginAttempt]:
    """Try each credential once. Stops at the first attempt that cannot be judged (silence, a
    refusal without proof of life, a dead link): what follows it would be guesswork.

    A lockout answers without judging the password, so a locked attempt is repeated after the
    wait the device announced. Once the harness has seen after how many consecutive refusals the
    device locks, it logs in with ``known_good`` (the unit's current password) just before that
    count: the lockout counter starts again and the attack goes on without waiting — the lockout
    itself is 5.1-5's business, not this test's."""
    attempts: list[LoginAttempt] = []
    deadline = time.monotonic() + budget_s
    streak, lock_at, waits = 0, None, 0
    index = 0
    while index < len(credentials) and time.monotonic() < deadline:
        if known_good is not None and lock_at is not None and streak >= lock_at - 1:
            reset = device.try_login(*known_good, procedure=procedure)
            if reset.outcome == "ok":
                if procedure == "login":
                    device.logout()
                streak = 0
        cred = credentials[index]
        attempt = device.try_login(cred.user, cred.password, procedure=procedure)
        if attempt.outcome == "locked" and waits < MAX_LOCK_WAITS and attempt.alive_after:
            lock_at = lock_at or max(streak, 1)
            waits += 1
            device.wait_lockout(attempt.detail)
            continue  # the same credential again: it was not judged
        attempts.append(attempt)
        index += 1
        if attempt.outcome == "ok":
            streak = 0
            if procedure == "login":
                device.logout()
        elif attempt.outcome == "rejected" and attempt.alive_after:
            streak += 1
        elif attempt.outcome not in ("rejected", "locked") or not attempt.alive_after:
            break
    return attempts
