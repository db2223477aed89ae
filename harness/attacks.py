"""Credential attempts against a unit (the I/O half of 5.1-1; the judging is in checks)."""

from __future__ import annotations

import time
from collections.abc import Iterable

from harness.checks.passwords import Credential, LoginAttempt
from harness.device import Device


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


def dictionary_attack(device: Device, credentials: list[Credential], *, budget_s: float = 1800.0) -> list[LoginAttempt]:
    """Try each credential once. Stops at the first attempt that cannot be judged (silence, a
    refusal without proof of life, a dead link): what follows it would be guesswork."""
    attempts: list[LoginAttempt] = []
    deadline = time.monotonic() + budget_s
    for cred in credentials:
        if time.monotonic() > deadline:
            break
        attempt = device.try_login(cred.user, cred.password)
        attempts.append(attempt)
        if attempt.outcome == "ok":
            device.logout()
        elif attempt.outcome not in ("rejected", "locked") or not attempt.alive_after:
            break
    return attempts
