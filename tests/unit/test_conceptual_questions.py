"""The assessor's questions: one per catalogue test case, valid IXIT names, and the PENDING_REVIEW
item built from them (never a PASS or FAIL)."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.checks.conceptual.prejudge import prejudge
from harness.checks.conceptual.questions import QuestionsError, assessor_item, load_questions, parse
from harness.profile.ixit import Ixit, _split_ixit
from harness.profile.loader import load_profile
from harness.standard import load_catalogue
from harness.verdict import Verdict

ROOT = Path(__file__).resolve().parents[2]


def test_every_test_case_has_one_question() -> None:
    questions = load_questions()
    assert set(questions) == set(load_catalogue().test_cases)
    assert len(questions) == 109
    assert all(q.question.endswith("?") and q.pass_needs for q in questions.values())


def test_each_question_reads_at_least_the_ixit_its_test_case_references() -> None:
    questions = load_questions()
    for tc in load_catalogue().test_cases.values():
        assert set(tc.ixit) <= set(questions[tc.id].ixit), tc.id


@pytest.mark.parametrize("entry,words", [
    ({"question": "q?", "pass_needs": "p", "ixit": [{"document": "99-Nothing"}]}, "not an IXIT document"),
    ({"question": "q?", "pass_needs": "p", "ixit": [{"document": "1-AuthMech", "fields": ["colour"]}]}, "no field"),
    ({"question": "", "pass_needs": "p"}, "needs `question`"),
])
def test_a_bad_entry_is_named(entry: dict, words: str) -> None:
    with pytest.raises(QuestionsError, match=words):
        parse({"questions": {"5.1-1-1": entry}})


def test_test_units_match_the_catalogue_count() -> None:
    questions = load_questions()
    cat = load_catalogue()
    with_units = [q for q in questions.values() if q.units]
    assert len(with_units) >= 30
    assert all(len(q.units) == cat.test_cases[q.test_case].units for q in with_units)
    with pytest.raises(QuestionsError, match="do not match"):
        parse({"questions": {"5.6-8-1": {"question": "q?", "pass_needs": "p", "units": {"a": "x"}}}}, None,
              {"5.6-8-1": 2})


def test_unknown_and_missing_ids_are_named() -> None:
    good = {"question": "q?", "pass_needs": "p", "ixit": []}
    with pytest.raises(QuestionsError) as err:
        parse({"questions": {"5.1-1-1": good, "9.9-9-9": good}}, {"5.1-1-1", "5.1-1-2"})
    assert "5.1-1-2" in str(err.value) and "9.9-9-9" in str(err.value)


def test_untyped_documents_take_the_ts_column_names() -> None:
    parse({"questions": {"5.2-2-1": {"question": "q?", "pass_needs": "p",
                                     "ixit": [{"document": "4-Conf", "fields": ["Confirmation of Vulnerability Actions"]}]}}})


def test_assessor_item_is_pending_with_question_ixit_values_and_hints() -> None:
    profile = load_profile(ROOT / "device_profiles" / "sim-legacy.yaml")
    r = assessor_item("5.1-2-1", profile.ixit)
    assert r.verdict == Verdict.PENDING_REVIEW
    assert r.reason.startswith("awaiting assessor: ")
    names = [e.name for e in r.evidence]
    assert names[:2] == ["question", "a PASS needs"]
    assert any(n.startswith("IXIT 1-AuthMech") for n in names)
    hints = next(e for e in r.evidence if e.name == "pre-judged").data
    assert any("shared by every unit" in h["hint"] for h in hints)


def test_a_missing_document_asks_the_supplier_first() -> None:
    r = assessor_item("5.6-6-1", Ixit.model_validate(_split_ixit({})))
    assert r.verdict == Verdict.PENDING_REVIEW
    assert r.reason.startswith("ask the supplier for IXIT 16-CodeMin")
    assert "IXIT 16-CodeMin not supplied: ask the supplier" in prejudge("5.6-6-1", Ixit.model_validate(_split_ixit({})))


def test_privilege_hint_names_root_services() -> None:
    legacy = load_profile(ROOT / "device_profiles" / "sim-legacy.yaml")
    assert any("running as root" in h for h in prejudge("5.6-7-1", legacy.ixit))


@pytest.mark.parametrize("test_case", sorted(load_catalogue().test_cases))
def test_every_assessor_item_builds_for_the_compliant_profile(test_case: str) -> None:
    profile = load_profile(ROOT / "device_profiles" / "sim-compliant.yaml")
    assert assessor_item(test_case, profile.ixit).verdict == Verdict.PENDING_REVIEW
