"""5.11-1: user data erasure. Absence must be observed on a live device, not assumed."""

from __future__ import annotations

from typing import Any

from harness.verdict import CheckResult, Evidence


def judge_user_data_erasure(set_outcome: str, before: dict[str, Any] | None, reset_outcome: str,
                            after: dict[str, Any] | None, planted: dict[str, Any]) -> CheckResult:
    if set_outcome != "ok" or before is None:
        return CheckResult.inconclusive("the harness could not plant user data and read it back")
    missing = [k for k, v in planted.items() if before.get(k) != v]
    if missing:
        return CheckResult.inconclusive(f"planted user data did not read back before erasure ({', '.join(missing)})")
    if reset_outcome != "ok":
        return CheckResult.inconclusive(f"the erasure function did not complete ({reset_outcome})")
    if after is None:
        return CheckResult.inconclusive("user data could not be read after erasure: absence was not observed")
    survived = {k: v for k, v in planted.items() if after.get(k) == v}
    ev = Evidence("table", "user data", [{"field": k, "planted": v, "after erasure": after.get(k)}
                                          for k, v in planted.items()])
    if survived:
        return CheckResult.failed(f"user data survived the erasure function: {', '.join(survived)}", ev)
    return CheckResult.passed("the planted user data is gone after the erasure function", ev)
