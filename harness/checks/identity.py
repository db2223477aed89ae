"""5.4-2 — a hard-coded unique per-device identity resists tampering (TS 103 701 5.4-2-2).

The identity is read, a rewrite is attempted through each interface the profile declares for it,
and the identity is read again from the live unit. Changed: FAIL. Unchanged after a refusal the
device showed: PASS. Unchanged after a write the device claimed to have done: INCONCLUSIVE (it may
take effect at the next boot), as is anything that could not be read."""

from __future__ import annotations

from dataclasses import dataclass

from harness.verdict import CheckResult, Evidence, combine


@dataclass(frozen=True)
class IdentityWrite:
    procedure: str  # the procedure that tried the rewrite
    before: str | None  # the identity read before (None: unreadable)
    attempted: str  # the value written
    outcome: str  # the write procedure's outcome: rejected (shown), ok, timeout ...
    after: str | None  # read back from the live unit (None: unreadable)


def _one(w: IdentityWrite) -> CheckResult:
    row = Evidence("observation", f"identity rewrite through {w.procedure}",
                   {"before": w.before, "attempted": w.attempted, "write outcome": w.outcome, "after": w.after})
    if w.before is None or w.after is None:
        return CheckResult.inconclusive(f"{w.procedure}: the identity could not be read "
                                        f"{'before' if w.before is None else 'back after'} the rewrite", row)
    if w.after != w.before:
        return CheckResult.failed(f"{w.procedure}: the per-device identity changed from {w.before!r} to "
                                  f"{w.after!r}", row)
    if w.outcome == "rejected":
        return CheckResult.passed(f"{w.procedure}: the device refused the rewrite and kept {w.before!r}", row)
    if w.outcome == "ok":
        return CheckResult.inconclusive(f"{w.procedure}: the device claimed the rewrite succeeded but still "
                                        f"reports {w.before!r}; it may apply at the next boot", row)
    return CheckResult.inconclusive(f"{w.procedure}: the device showed no answer to the rewrite "
                                    f"({w.outcome}); the identity is unchanged", row)


def judge_identity_tamper(writes: list[IdentityWrite]) -> CheckResult:
    if not writes:
        return CheckResult.inconclusive("no rewrite of the identity was attempted (the profile declares no "
                                        "`write_identity` procedure)")
    return combine([_one(w) for w in writes],
                   all_passed_reason="the per-device identity resisted every rewrite the declared interfaces allow")
