"""Verdicts and the evidence that carries them.

A check returns a ``Finding``-free, I/O-free ``CheckResult``: the verdict, a one-line reason a lab
engineer can read, and the evidence items that let a certifier re-judge it without the device.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any


class Verdict(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    NOT_APPLICABLE = "NOT_APPLICABLE"
    INCONCLUSIVE = "INCONCLUSIVE"
    PENDING_REVIEW = "PENDING_REVIEW"

    @property
    def allure_status(self) -> str:
        return ALLURE_STATUS[self]


# ARCHITECTURE.md decision: INCONCLUSIVE is a lab-side problem, shown as "broken" so that a
# dashboard never counts it as a device defect.
ALLURE_STATUS = {
    Verdict.PASS: "passed",
    Verdict.FAIL: "failed",
    Verdict.INCONCLUSIVE: "broken",
    Verdict.NOT_APPLICABLE: "skipped",
    Verdict.PENDING_REVIEW: "skipped",
}

# When several partial results are combined (e.g. the same check before and after a factory
# reset), the worst one wins. A FAIL that was observed stays a FAIL even if another part could not
# be judged: the defect is real evidence.
_SEVERITY = {
    Verdict.NOT_APPLICABLE: 0,
    Verdict.PASS: 1,
    Verdict.PENDING_REVIEW: 2,
    Verdict.INCONCLUSIVE: 3,
    Verdict.FAIL: 4,
}


def worst(*verdicts: Verdict) -> Verdict:
    if not verdicts:
        raise ValueError("worst() needs at least one verdict")
    return max(verdicts, key=lambda v: _SEVERITY[v])


@dataclass
class Evidence:
    """One piece of evidence.

    kind: ``text`` (a sentence), ``table`` (list of row dicts), ``finding`` (a defect the device
    showed, e.g. a working default credential), ``observation`` (a fact read from the device),
    ``measurement`` (number with unit), ``document`` (fetched text), ``attachment`` (file on disk,
    ``data`` is the path relative to the run directory).
    """

    kind: str
    name: str
    data: Any = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def observed(self) -> bool:
        """Whether this item records something seen: data that is neither missing nor empty
        (a table needs at least one non-empty row)."""
        return _has_content(self.data)


def _has_content(data: Any) -> bool:
    if data is None:
        return False
    if isinstance(data, str | bytes):
        return bool(data.strip())
    if isinstance(data, dict):
        return any(_has_content(v) or v in (0, False) for v in data.values())
    if isinstance(data, list | tuple | set | frozenset):
        return any(_has_content(v) for v in data)
    return True


def observed(evidence: list[Evidence]) -> bool:
    """At least one evidence item records an observation (see ``Evidence.observed``)."""
    return any(e.observed for e in evidence)


# Fail closed (ARCHITECTURE.md): a PASS is a claim about what was observed. A PASS built without a
# single observed item is turned into INCONCLUSIVE here, at the one place every result is made,
# so no check (and no suite deciding its own verdict) can pass silently.
NO_OBSERVATION = "PASS claimed without any recorded observation (fail closed)"


@dataclass
class CheckResult:
    verdict: Verdict
    reason: str
    evidence: list[Evidence] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.evidence = list(self.evidence)
        if self.verdict == Verdict.PASS and not observed(self.evidence):
            self.verdict = Verdict.INCONCLUSIVE
            self.reason = f"{NO_OBSERVATION}: {self.reason}"

    @classmethod
    def passed(cls, reason: str, *evidence: Evidence) -> CheckResult:
        return cls(Verdict.PASS, reason, list(evidence))

    @classmethod
    def failed(cls, reason: str, *evidence: Evidence) -> CheckResult:
        return cls(Verdict.FAIL, reason, list(evidence))

    @classmethod
    def inconclusive(cls, reason: str, *evidence: Evidence) -> CheckResult:
        return cls(Verdict.INCONCLUSIVE, reason, list(evidence))

    @classmethod
    def not_applicable(cls, reason: str, *evidence: Evidence) -> CheckResult:
        return cls(Verdict.NOT_APPLICABLE, reason, list(evidence))

    @classmethod
    def pending(cls, reason: str, *evidence: Evidence) -> CheckResult:
        return cls(Verdict.PENDING_REVIEW, reason, list(evidence))


def combine(results: list[CheckResult], *, all_passed_reason: str | None = None) -> CheckResult:
    """Combine partial results: the worst verdict wins, every piece of evidence is kept."""
    if not results:
        return CheckResult.inconclusive("nothing was checked")
    verdict = worst(*(r.verdict for r in results))
    reasons = [r.reason for r in results if r.verdict == verdict]
    if verdict == Verdict.PASS and all_passed_reason:
        reason = all_passed_reason
    else:
        reason = "; ".join(dict.fromkeys(reasons))
    evidence = [e for r in results for e in r.evidence]
    return CheckResult(verdict, reason, evidence)


class LabFault(Exception):
    """The lab side failed (link down, instrument error, broker gone, harness bug).

    Raised anywhere below a suite; the plugin turns it into INCONCLUSIVE with this message as the
    cause. Never a FAIL: the device was not judged.
    """
