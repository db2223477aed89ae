"""Login lockout with growing periods, one per unit, shared by every login surface (console,
telnet, SSH, HTTPS API): a device counts failed logins, not failed logins per protocol.

Policy (compliant): after THRESHOLD consecutive failures the unit refuses every login, without
evaluating it, for BASE seconds; each further failure after a lock has expired locks again for
twice the previous period, up to CAP. A successful login resets the count and the period. All
periods are multiplied by the time scale: at scale 0 a lock expires at once, so the lock is
announced (on the failure that triggers it) but no later attempt meets it. Pure: the caller gives
the clock, which keeps this testable without waiting.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

THRESHOLD = 5  # consecutive failures before the first lock
BASE = 30.0  # device seconds of the first lock
CAP = 900.0  # no lock is longer than 15 minutes


@dataclass
class Lockout:
    enabled: bool
    scale: float = 1.0
    failures: int = 0  # consecutive, since the last success
    locked_until: float = 0.0  # monotonic clock

    def remaining(self, now: float) -> float:
        """Seconds (real) until the lock ends; 0 when the unit accepts a login attempt."""
        return max(0.0, self.locked_until - now) if self.enabled else 0.0

    def period(self) -> float:
        """Real seconds of the lock the current failure count calls for."""
        n = self.failures - THRESHOLD  # 0 for the first lock
        return min(CAP, BASE * 2 ** min(n, 16)) * self.scale

    def failure(self, now: float) -> float | None:
        """Record a refused password; returns the lock period (real seconds) when it starts a lock."""
        if not self.enabled:
            return None
        self.failures += 1
        if self.failures < THRESHOLD:
            return None
        period = self.period()
        self.locked_until = now + period
        return period

    def success(self) -> None:
        self.failures = 0
        self.locked_until = 0.0


def shown_seconds(seconds: float) -> int:
    """What the device prints: whole seconds, rounded up (a client waiting that long is let in)."""
    return math.ceil(seconds - 1e-9) if seconds > 0 else 0
