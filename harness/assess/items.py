"""Assessor items: the test cases no suite automates, each a profile-level record of its own.

Every catalogue test case that no coverage file declares automated gets, in every run, one record:
NOT_APPLICABLE with the Table B.1 reason when the ICS says its provision does not apply, else
PENDING_REVIEW carrying the exact question for the assessor and the profile's values of the IXIT
documents to read (redacted by the results log like every record). An assessor's decision
(``harness assess``) later turns a PENDING_REVIEW item into a verdict.

Both runners write them: the pytest suite ``test_assessor_items.py`` (one test per item, so they
show in Allure and JUnit like every other case) and the Robot listener (``write_items``, once in
the process that runs the product-level test cases).
"""

from __future__ import annotations

from typing import Any

from harness.assess.questions import Question, question_for
from harness.verdict import CheckResult, Evidence

QUESTION_KIND = "question"  # evidence kind of the assessor's question (the report shows it as such)


def open_test_cases(catalogue: Any) -> list[str]:
    """Test cases of the catalogue that no suite automates, in document order."""
    return [tc.id for tc in catalogue.test_cases.values() if not tc.automated]


def _runtime_facts(value: Any, runtime: dict[str, Any]) -> Any:
    """{runtime: KEY} references replaced by the bench's fact (a URL the assessor can open); secret
    and environment references stay references."""
    if isinstance(value, dict):
        if set(value) == {"runtime"} and isinstance(value["runtime"], str):
            cur: Any = runtime
            for part in value["runtime"].split("."):
                if not isinstance(cur, dict) or part not in cur:
                    return value
                cur = cur[part]
            return cur if isinstance(cur, str | int | float) else value
        return {k: _runtime_facts(v, runtime) for k, v in value.items()}
    if isinstance(value, list):
        return [_runtime_facts(v, runtime) for v in value]
    return value


def ixit_values(profile: Any, runtime: dict[str, Any] | None = None) -> dict[str, Any]:
    """The profile's IXIT documents by TS name ("1-AuthMech" …), as plain data. References to
    secrets stay references ({secret: NAME}); runtime facts are filled in when ``runtime`` has them;
    the log redacts whatever else is secret."""
    ixit = getattr(profile, "ixit", None)
    if ixit is None:
        return {}
    if hasattr(ixit, "model_dump"):
        data = ixit.model_dump(by_alias=True, mode="json", exclude_none=True)
    else:
        data = dict(ixit)
    other = data.pop("other", {}) or {}
    out = {k: v for k, v in data.items() if v not in (None, [], {}, "")}
    out.update({str(k): v for k, v in other.items()})
    return _runtime_facts(out, runtime) if runtime else out


def _only(value: Any, fields: tuple[str, ...]) -> Any:
    if not fields:
        return value
    if isinstance(value, dict):
        return {k: v for k, v in value.items() if k in fields}
    if isinstance(value, list):
        return [_only(v, fields) for v in value]
    return value


def ixit_evidence(profile: Any, question: Question, runtime: dict[str, Any] | None = None) -> list[Evidence]:
    """One evidence item per IXIT document the assessor reads; one sentence naming the missing ones."""
    values = ixit_values(profile, runtime)
    out: list[Evidence] = []
    missing: list[str] = []
    for ref in question.ixit:
        if ref.document not in values:
            missing.append(ref.document)
            continue
        name = f"IXIT {ref.document}" + (f" ({', '.join(ref.fields)})" if ref.fields else "")
        out.append(Evidence("observation", name, _only(values[ref.document], ref.fields)))
    if missing:
        out.append(Evidence("text", "IXIT not supplied",
                            f"the profile gives no IXIT {', '.join(missing)}: ask the supplier for it"))
    return out


def _prejudged(test_case: str, profile: Any) -> list[str]:
    """Mechanical remarks on the profile's IXIT for this item (harness.checks.conceptual.prejudge),
    e.g. a document the supplier has not given. None when that module is not there."""
    try:
        from harness.checks.conceptual.prejudge import prejudge
    except ImportError:
        return []
    ixit = getattr(profile, "ixit", None)
    if ixit is None:
        return []
    try:
        return [str(h) for h in prejudge(test_case, ixit) or []]
    except Exception as exc:  # noqa: BLE001 - a remark must not cost the item its question
        return [f"pre-judging failed ({type(exc).__name__}: {exc}); judge from the IXIT values"]


def item_result(catalogue: Any, test_case: str, profile: Any, runtime: dict[str, Any] | None = None) -> CheckResult:
    """The PENDING_REVIEW result of one assessor item: the question, what a PASS needs, the IXIT."""
    q = question_for(catalogue, test_case)
    evidence = [Evidence(QUESTION_KIND, "question", q.question)]
    if q.pass_needs:
        evidence.append(Evidence("text", "a PASS needs", q.pass_needs))
    if q.units:
        evidence.append(Evidence("table", "test units",
                                 [{"unit": k, "assess": v} for k, v in q.units.items()]))
    evidence += [Evidence("text", "hint", h) for h in q.hints]
    evidence += [Evidence("text", "pre-judged", h) for h in _prejudged(test_case, profile)]
    evidence += ixit_evidence(profile, q, runtime)
    if q.documents:
        evidence.append(Evidence("text", "IXIT to read", ", ".join(q.documents)))
    return CheckResult.pending(f"awaiting assessor: {q.question}", *evidence)


def item_title(catalogue: Any, test_case: str) -> str:
    tc = catalogue.test_cases[test_case]
    return f"Assessor item: {catalogue.provisions[tc.provision].summary}"


def write_items(log: Any, bench: Any, catalogue: Any, *, runner: str, run_id: str = "") -> int:
    """Record every assessor item into ``log`` (for runners without a test per item: Robot).
    Returns how many were written."""
    from harness.testcase import TestCaseContext

    n = 0
    for tid in open_test_cases(catalogue):
        tc = catalogue.test_cases[tid]
        ctx = TestCaseContext(test_case=tid, unit=None, title=item_title(catalogue, tid), runner=runner,
                              name=f"assessor items.{tid}", run_id=run_id, profile=bench.fingerprint())
        applicability = catalogue.applicability(tc.provision, bench.profile.ics)
        if not applicability.applicable:
            ctx.conclude(CheckResult.not_applicable(applicability.reason))
        else:
            ctx.conclude(item_result(catalogue, tid, bench.profile, getattr(bench, "runtime", None)))
        ctx.record(log)
        n += 1
    return n
