"""The assessor's questions (``harness/standard/data/ts103701-questions.yaml``) and the
PENDING_REVIEW item built from one of them for a profile.

``load_questions()`` checks the file against the catalogue (every test case once, nothing else) and
the IXIT names (documents of TS 103 701; field names of the typed documents), so a typo fails the
unit tests, not a run.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from harness.checks.conceptual._base import DOCUMENT_FIELDS, supplied
from harness.checks.conceptual.prejudge import prejudge
from harness.profile.ixit import IXIT_DOCUMENTS, Ixit
from harness.verdict import CheckResult, Evidence

QUESTIONS_FILE = "ts103701-questions.yaml"


class QuestionsError(ValueError):
    """The questions file disagrees with the catalogue or the IXIT model; lists every problem."""


@dataclass(frozen=True)
class Question:
    test_case: str
    question: str
    ixit: dict[str, tuple[str, ...]]  # document → fields ((): the whole document)
    pass_needs: str
    units: dict[str, str] = field(default_factory=dict)  # test unit letter → what to check (optional)


def typed_fields(document: str) -> set[str] | None:
    """Field names (and aliases) of a typed IXIT document's entries; None for an untyped one."""
    attr = DOCUMENT_FIELDS.get(document)
    if attr is None:
        return None
    annotation = Ixit.model_fields[attr].annotation
    model = _entry_model(annotation)
    if model is None:
        return None
    names = set(model.model_fields)
    names |= {f.alias for f in model.model_fields.values() if f.alias}
    return names


def _entry_model(annotation: Any) -> Any:
    from typing import get_args

    from pydantic import BaseModel
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _entry_model(arg)
        if found is not None:
            return found
    return None


def parse(doc: Any, test_cases: set[str] | None = None, unit_counts: dict[str, int] | None = None) -> dict[str, Question]:
    issues: list[str] = []
    if not isinstance(doc, dict) or not isinstance(doc.get("questions"), dict):
        raise QuestionsError(f"{QUESTIONS_FILE}: needs a `questions:` mapping")
    out: dict[str, Question] = {}
    for tid, entry in doc["questions"].items():
        where = f"{QUESTIONS_FILE}: {tid}"
        if not isinstance(entry, dict):
            issues.append(f"{where}: expected a mapping")
            continue
        for key in ("question", "pass_needs"):
            if not isinstance(entry.get(key), str) or not entry[key].strip():
                issues.append(f"{where}: needs `{key}`")
        ixit: dict[str, tuple[str, ...]] = {}
        for item in entry.get("ixit") or []:
            name = item.get("document") if isinstance(item, dict) else None
            if name not in IXIT_DOCUMENTS:
                issues.append(f"{where}: {name!r} is not an IXIT document of TS 103 701")
                continue
            fields = tuple(str(f) for f in item.get("fields") or [])
            known = typed_fields(name)
            unknown = [f for f in fields if known is not None and f not in known]
            if unknown:
                issues.append(f"{where}: IXIT {name} has no field {unknown} (typed fields: {sorted(known or [])})")
            ixit[name] = fields
        units = {str(k): str(v).strip() for k, v in (entry.get("units") or {}).items()}
        expected = (unit_counts or {}).get(str(tid))
        if units and expected is not None and sorted(units) != [chr(ord("a") + i) for i in range(expected)]:
            issues.append(f"{where}: units {sorted(units)} do not match the test case's {expected} test units (a..)")
        out[str(tid)] = Question(str(tid), str(entry.get("question", "")).strip(), ixit,
                                 str(entry.get("pass_needs", "")).strip(), units)
    if test_cases is not None:
        missing = sorted(test_cases - set(out))
        extra = sorted(set(out) - test_cases)
        if missing:
            issues.append(f"{QUESTIONS_FILE}: no question for {missing}")
        if extra:
            issues.append(f"{QUESTIONS_FILE}: questions for test cases the catalogue does not have: {extra}")
    if issues:
        raise QuestionsError("; ".join(issues))
    return out


@functools.cache
def load_questions() -> dict[str, Question]:
    """Every test case's question, checked against the catalogue (loaded once per process)."""
    from harness.standard import load_catalogue
    from harness.standard.loader import load_data

    text = (resources.files("harness.standard") / "data" / QUESTIONS_FILE).read_text(encoding="utf-8")
    catalogue = load_catalogue()
    return parse(load_data(text), set(catalogue.test_cases),
                 {tc.id: tc.units for tc in catalogue.test_cases.values()})


def _values(ixit: Ixit, document: str, fields: tuple[str, ...]) -> Any:
    attr = DOCUMENT_FIELDS.get(document)
    if attr is None:
        return ixit.other.get(document)
    value = getattr(ixit, attr)

    def pick(item: Any) -> Any:
        data = item.model_dump(by_alias=True, exclude_none=True, mode="json")
        return {k: v for k, v in data.items() if not fields or k in fields or k in ("id", "name", "data", "target")}
    if isinstance(value, list):
        return [pick(v) for v in value]
    return pick(value) if value is not None else None


def assessor_item(test_case: str, ixit: Ixit | None) -> CheckResult:
    """PENDING_REVIEW for a test case an assessor decides: the question, what a PASS needs, the IXIT
    entries to read (with the profile's values) and pre-judged hints. Never PASS or FAIL."""
    q = load_questions()[test_case]
    evidence = [Evidence("text", "question", q.question), Evidence("text", "a PASS needs", q.pass_needs)]
    if q.units:
        evidence.append(Evidence("table", "test units", [{"unit": k, "check": v} for k, v in q.units.items()]))
    missing = [d for d in q.ixit if ixit is None or not supplied(ixit, d)]
    for document, fields in q.ixit.items():
        if document in missing:
            continue
        label = f"IXIT {document}" + (f" ({', '.join(fields)})" if fields else "")
        evidence.append(Evidence("observation", label, _values(ixit, document, fields)))  # type: ignore[arg-type]
    hints = prejudge(test_case, ixit) if ixit is not None else []
    if hints:
        evidence.append(Evidence("table", "pre-judged", [{"hint": h} for h in hints]))
    if missing:
        return CheckResult.pending(f"ask the supplier for IXIT {', '.join(missing)}; then: {q.question}", *evidence)
    return CheckResult.pending(f"awaiting assessor: {q.question}", *evidence)
