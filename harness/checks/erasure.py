"""5.11-1-2: user data erasure. Absence must be observed on a live device, not assumed.

The planted values are test data the harness made up (never real user data or a label password),
so the evidence shows them.
"""

from __future__ import annotations

from typing import Any

from harness.verdict import CheckResult, Evidence


def _still_there(value: Any, field_value: Any, after: dict[str, Any]) -> bool:
    if field_value is not None and str(field_value) == str(value):
        return True
    # A value moved to another field is still on the device; only distinctive values are looked
    # for inside other fields, so a short one cannot match by chance.
    text = str(value)
    return len(text) >= 6 and any(text in str(v) for v in after.values() if v is not None)


def judge_user_data_erasure(set_outcome: str, before: dict[str, Any] | None, reset_outcome: str,
                            after: dict[str, Any] | None, planted: dict[str, Any]) -> CheckResult:
    """Planted user data was read back before the erasure function, the function completed, the
    data was read again on the live device afterwards, and none of the planted values remains."""
    rows = [{"field": k, "planted": v, "read before": (before or {}).get(k),
             "read after": (after or {}).get(k) if after is not None else None} for k, v in planted.items()]
    steps = Evidence("table", "user data erasure steps", [{
        "plant": set_outcome, "read before": "ok" if before is not None else "failed",
        "erasure function": reset_outcome, "read after": "ok" if after is not None else "failed"}])
    table = Evidence("table", "user data (harness test values)", rows)

    if not planted:
        return CheckResult.inconclusive("no user data was planted, so erasure cannot be shown", steps)
    if set_outcome != "ok":
        return CheckResult.inconclusive(f"the harness could not plant user data (the set procedure ended "
                                        f"{set_outcome!r}), so it cannot show the data was present", steps, table)
    if before is None:
        return CheckResult.inconclusive("the planted user data could not be read back before the erasure, so the "
                                        "harness cannot show it was present", steps, table)
    not_read = [k for k, v in planted.items() if before.get(k) is None or str(before.get(k)) != str(v)]
    if not_read:
        return CheckResult.inconclusive(f"the planted value of {', '.join(not_read)} did not read back before the "
                                        f"erasure, so the harness cannot show it was present", steps, table)
    if reset_outcome != "ok":
        return CheckResult.inconclusive(f"the erasure function did not complete (it ended {reset_outcome!r})",
                                        steps, table)
    if after is None:
        return CheckResult.inconclusive("user data could not be read after the erasure: absence was not observed",
                                        steps, table)
    survived = [k for k, v in planted.items() if _still_there(v, after.get(k), after)]
    if survived:
        return CheckResult.failed(f"user data survived the erasure function: {', '.join(survived)} still "
                                  f"read{'s' if len(survived) == 1 else ''} back", steps, table)
    unreported = [k for k in planted if k not in after]
    if unreported:
        return CheckResult.inconclusive(f"the read after the erasure did not report {', '.join(unreported)}, so its "
                                        f"absence was not observed", steps, table)
    return CheckResult.passed("the planted user data was present before the erasure function and is gone after it",
                              steps, table)
