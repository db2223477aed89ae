"""5.1-5-2: brute-force resistance of a login interface, from wrong-password attempts made one at
a time. Lockout (a refusal saying so, HTTP 429, or a silent one: the right password refused right
after the run), or delays that grow, count as a mechanism. "No mechanism" needs the right password
accepted right after the run: without that a silent lockout cannot be ruled out."""

from __future__ import annotations

from dataclasses import dataclass

from harness.verdict import CheckResult, Evidence

# Growth a backoff must show: the slowest of the last attempts takes this much longer than the
# first ones (absolute floor so scheduler noise on a fast device is not mistaken for a backoff).
_GROWTH_FACTOR = 3.0
_GROWTH_FLOOR_S = 0.5


@dataclass
class Attempt:
    n: int
    outcome: str  # ok | rejected | locked | timeout | error | unexpected
    seconds: float
    alive: bool | None = None
    detail: str = ""


@dataclass
class SilentLock:
    """The known-good login right after a run of plain refusals, and how long it stayed refused."""

    refusals: int  # wrong passwords before the known-good login
    probed: bool
    locked: bool | None  # None: the known-good login could not be judged
    probe_outcome: str = ""
    detail: str = ""
    unlocked: bool | None = None
    unlock_s: float | None = None
    polls: int = 0
    poll_s: float | None = None

    def row(self) -> dict:
        return {"wrong passwords before": self.refusals, "right password then": self.probe_outcome,
                "locked": self.locked, "accepted again": self.unlocked,
                "lock lasted s (≤, polled)": None if self.unlock_s is None else round(self.unlock_s, 3),
                "polls": self.polls, "poll interval s": self.poll_s}


def judge_brute_force(interface: str, attempts: list[Attempt], budget: int, *, silent: SilentLock | None = None,
                      known_good: bool = True) -> CheckResult:
    rows = [{"attempt": a.n, "outcome": a.outcome, "seconds": round(a.seconds, 3), "detail": a.detail[:80]}
            for a in attempts]
    ev = [Evidence("table", f"wrong-password attempts on {interface}", rows)]
    locked = next((a for a in attempts if a.outcome == "locked"), None)
    if locked is not None:
        ev.append(Evidence("measurement", "attempts until lockout", locked.n))
        return CheckResult.passed(f"{interface}: locked out after {locked.n - 1} wrong password(s) "
                                  f"({locked.detail or 'lockout shown'})", *ev)
    accepted = [a for a in attempts if a.outcome == "ok"]
    if accepted:
        return CheckResult.inconclusive(f"{interface}: a password meant to be wrong was accepted (attempt "
                                        f"{accepted[0].n}); the brute-force test needs a refused password", *ev)
    bad = [a for a in attempts if a.outcome not in ("rejected",)]
    if bad:
        return CheckResult.inconclusive(f"{interface}: attempt {bad[0].n} ended {bad[0].outcome} "
                                        f"({bad[0].detail or 'no answer'}), so the mechanism cannot be judged", *ev)
    if any(a.alive is False for a in attempts):
        return CheckResult.inconclusive(f"{interface}: the device did not answer after a refusal", *ev)
    if silent is not None:
        ev.append(Evidence("table", f"right password after the run ({interface})", [silent.row()]))
        if silent.locked is None:
            return CheckResult.inconclusive(f"{interface}: the login with the right password after "
                                            f"{silent.refusals} wrong ones could not be judged "
                                            f"({silent.probe_outcome}: {silent.detail[:80]})", *ev)
        if silent.locked:
            ev.append(Evidence("measurement", "attempts until lockout (at most)", silent.refusals))
            if silent.unlocked:
                ev.append(Evidence("measurement", "silent lockout duration", {
                    "value": round(silent.unlock_s or 0.0, 3), "unit": "s",
                    "resolution s": silent.poll_s}))
                after = f"accepted again after {silent.unlock_s or 0.0:.1f} s"
            else:
                after = f"still refused after {silent.unlock_s or 0.0:.0f} s of polling"
            return CheckResult.passed(f"{interface}: locked silently within {silent.refusals} wrong passwords "
                                      f"(the right password was refused right after the run; {after})", *ev)
    if len(attempts) >= 6:
        k = max(2, len(attempts) // 5)
        first = sorted(a.seconds for a in attempts[:k])[k // 2]
        last = max(a.seconds for a in attempts[-k:])
        ev.append(Evidence("measurement", "delay growth (last / first attempts)", {
            "first median s": round(first, 3), "last max s": round(last, 3)}))
        if last >= first * _GROWTH_FACTOR and last - first >= _GROWTH_FLOOR_S:
            return CheckResult.passed(f"{interface}: answers slow down from {first:.2f} s to {last:.2f} s "
                                      f"over {len(attempts)} attempts (backoff)", *ev)
    if len(attempts) < budget:
        return CheckResult.inconclusive(f"{interface}: only {len(attempts)} of {budget} attempts were made", *ev)
    if silent is None or not silent.probed:
        why = ("no known-good password was available" if not known_good
               else "the right password was not tried after the run")
        return CheckResult.inconclusive(f"{interface}: {len(attempts)} wrong passwords were refused without an "
                                        f"announced lockout or growing delay, but {why}, so a silent lockout "
                                        f"cannot be ruled out", *ev)
    return CheckResult.failed(f"{interface}: {len(attempts)} wrong passwords in a row were refused without "
                              f"lockout or growing delay, and the right password logged in right after", *ev)
