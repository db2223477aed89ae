"""The question an assessor answers for a test case, and the IXIT entries to read for it.

Questions come from ``harness/standard/data/ts103701-questions.yaml`` (or ``<assessment>-questions.yaml``
when an assessment spec has its own; one entry per TS 103 701
test case: ``question``, ``ixit`` documents and fields, ``pass_needs``, optional ``units`` and
``hints``). A test case the file does not cover yet gets a question built from the catalogue (the
provision's summary, the number of test units and the IXIT documents), so no item is ever without
one.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import yaml

from harness.standard.loader import load_data

QUESTIONS_SUFFIX = "-questions.yaml"
QUESTIONS_FILE = "ts103701-questions.yaml"  # the file of the one assessment spec the catalogue has today
FROM_FILE = "questions file"
FROM_CATALOGUE = "catalogue"


@dataclass(frozen=True)
class IxitRef:
    document: str  # TS IXIT name, e.g. "1-AuthMech"
    fields: tuple[str, ...] = ()  # empty: the whole document


@dataclass(frozen=True)
class Question:
    test_case: str
    question: str
    ixit: tuple[IxitRef, ...] = ()
    pass_needs: str = ""
    units: dict[str, str] = field(default_factory=dict)
    hints: tuple[str, ...] = ()
    source: str = FROM_FILE

    @property
    def documents(self) -> list[str]:
        return [r.document for r in self.ixit]


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _ixit_refs(raw: Any) -> tuple[IxitRef, ...]:
    """``[{document, fields}]``, ``["1-AuthMech", …]`` or ``{"1-AuthMech": [fields]}``."""
    out: list[IxitRef] = []
    if isinstance(raw, dict):
        raw = [{"document": k, "fields": v} for k, v in raw.items()]
    for entry in raw if isinstance(raw, list) else []:
        if isinstance(entry, str) and entry.strip():
            out.append(IxitRef(entry.strip()))
        elif isinstance(entry, dict) and isinstance(entry.get("document") or entry.get("id"), str):
            fields = entry.get("fields") or []
            fields = [fields] if isinstance(fields, str) else fields
            out.append(IxitRef(str(entry.get("document") or entry.get("id")).strip(),
                               tuple(str(f) for f in fields if isinstance(f, str | int))))
    return tuple(out)


def _question(tid: str, entry: Any) -> Question | None:
    if isinstance(entry, str):
        entry = {"question": entry}
    if not isinstance(entry, dict) or not _text(entry.get("question")):
        return None
    units = entry.get("units") or {}
    if isinstance(units, list):
        units = {chr(ord("a") + i): u for i, u in enumerate(units)}
    hints = entry.get("hints") or []
    return Question(
        test_case=tid, question=_text(entry["question"]), ixit=_ixit_refs(entry.get("ixit")),
        pass_needs=_text(entry.get("pass_needs")),
        units={str(k): _text(v) for k, v in units.items()} if isinstance(units, dict) else {},
        hints=tuple(_text(h) for h in (hints if isinstance(hints, list) else [hints]) if _text(h)))


@functools.cache
def load_questions(assessment: str = "ts103701-v1.1.1") -> dict[str, Question]:
    """The questions file of an assessment spec; empty when there is none (yet). Entries that
    carry no question are left out: the catalogue's fallback covers them."""
    doc: Any = None
    for name in (f"{assessment}{QUESTIONS_SUFFIX}", QUESTIONS_FILE):
        try:
            text = (resources.files("harness.standard") / "data" / name).read_text("utf-8")
        except (FileNotFoundError, OSError):
            continue
        try:
            doc = load_data(text) or {}
        except yaml.YAMLError:
            return {}  # the questions file's own unit test reports the error; items fall back
        if isinstance(doc, dict) and doc.get("assessment", assessment) != assessment:
            doc = None  # the questions of another assessment spec
            continue
        break
    if doc is None:
        return {}
    raw = doc.get("questions", doc) if isinstance(doc, dict) else {}
    if isinstance(raw, list):
        raw = {str(e.get("test_case") or e.get("id")): e for e in raw if isinstance(e, dict)}
    out: dict[str, Question] = {}
    for tid, entry in (raw.items() if isinstance(raw, dict) else []):
        q = _question(str(tid), entry)
        if q is not None:
            out[str(tid)] = q
    return out


def fallback_question(catalogue: Any, test_case: str) -> Question:
    """A question built from the catalogue for a test case the questions file does not cover."""
    tc = catalogue.test_cases[test_case]
    prov = catalogue.provisions[tc.provision]
    kind = {"conceptual": "the declared design (ICS/IXIT)",
            "functional": "the device and its published material",
            }.get(tc.kind, "the declared design and the device")
    docs = ", ".join(f"IXIT {d}" for d in tc.ixit)
    read = f" Read {docs}." if docs else " Read the ICS."
    units = "test unit" if tc.units == 1 else "test units"
    question = (f"Judge {kind} against {tc.provision}: {prov.summary.rstrip('.')}. "
                f"Apply the {tc.units} {units} of TS 103 701 test case {test_case}.{read}")
    return Question(test_case=test_case, question=question, ixit=tuple(IxitRef(d) for d in tc.ixit),
                    pass_needs=f"every test unit of {test_case} is met", source=FROM_CATALOGUE)


def question_for(catalogue: Any, test_case: str) -> Question:
    assessment = _assessment_of(catalogue)
    q = load_questions(assessment).get(test_case)
    if q is None:
        return fallback_question(catalogue, test_case)
    if not q.ixit:
        # The file names no document: the catalogue's references still tell the assessor what to read.
        tc = catalogue.test_cases.get(test_case)
        if tc is not None and tc.ixit:
            q = Question(test_case=q.test_case, question=q.question, ixit=tuple(IxitRef(d) for d in tc.ixit),
                         pass_needs=q.pass_needs, units=q.units, hints=q.hints, source=q.source)
    return q


def _assessment_of(catalogue: Any) -> str:
    ref = str(getattr(catalogue, "assessment", "") or "")
    # Catalogue.assessment holds the TS reference text; the data files use the short name.
    if ref.startswith("ts103701-"):
        return ref
    return "ts103701-v1.1.1"
