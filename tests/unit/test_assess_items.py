"""Assessor items: which test cases they are, the question (file or catalogue fallback), the IXIT
values they carry, and the pytest statuses that show them as themselves."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

from harness import pytest_plugin
from harness.assess.items import item_result, ixit_values, open_test_cases, write_items
from harness.assess.questions import _question, fallback_question, question_for
from harness.cli import SUITE_PLUGIN_OPTIONS
from harness.profile import load_profile
from harness.results import ResultsLog, case_records
from harness.standard import load_catalogue

ROOT = Path(__file__).resolve().parents[2]


def test_items_are_exactly_the_test_cases_no_suite_automates() -> None:
    cat = load_catalogue()
    items = open_test_cases(cat)
    assert set(items) | {tc.id for tc in cat.automated} == set(cat.test_cases)
    assert not set(items) & {tc.id for tc in cat.automated}
    assert items == [tid for tid in cat.test_cases if tid in set(items)]  # document order


def test_every_open_test_case_has_a_question_naming_what_to_read() -> None:
    cat = load_catalogue()
    for tid in open_test_cases(cat):
        q = question_for(cat, tid)
        assert q.question, tid
        assert set(q.documents) >= set(cat.test_cases[tid].ixit) or q.source == "questions file", tid
        assert all(d in cat.ixit_documents for d in q.documents), (tid, q.documents)


def test_the_catalogue_fallback_names_summary_units_and_ixit() -> None:
    cat = load_catalogue()
    q = fallback_question(cat, "5.3-1-1")
    assert "5.3-1" in q.question and "2 test units" in q.question and "IXIT 6-SoftComp" in q.question
    assert q.source == "catalogue" and q.documents == ["6-SoftComp"]


def test_question_entries_in_the_agreed_shape_and_shorthands() -> None:
    q = _question("5.1-1-1", {"question": "Does  every\n password differ?", "pass_needs": "all per-unit",
                              "ixit": [{"document": "1-AuthMech", "fields": ["generation"]}, "2-UserInfo"],
                              "units": ["first", "second"], "hints": ["none"]})
    assert q is not None and q.question == "Does every password differ?"
    assert [(r.document, r.fields) for r in q.ixit] == [("1-AuthMech", ("generation",)), ("2-UserInfo", ())]
    assert q.units == {"a": "first", "b": "second"} and q.hints == ("none",)
    assert _question("5.1-1-1", {"pass_needs": "no question"}) is None


def test_an_item_is_pending_with_the_question_and_the_profiles_ixit_values() -> None:
    cat = load_catalogue()
    profile = load_profile(ROOT / "device_profiles" / "sim-compliant.yaml")
    tid = next(t for t in open_test_cases(cat) if "1-AuthMech" in cat.test_cases[t].ixit)
    result = item_result(cat, tid, profile)
    assert result.verdict.value == "PENDING_REVIEW"
    assert result.reason.startswith("awaiting assessor: ")
    by_name = {e.name: e for e in result.evidence}
    assert by_name["question"].kind == "question"
    q = question_for(cat, tid)
    ref = next(r for r in q.ixit if r.document == "1-AuthMech")
    name = "IXIT 1-AuthMech" + (f" ({', '.join(ref.fields)})" if ref.fields else "")
    assert by_name[name].kind == "observation"
    declared = ixit_values(profile)["1-AuthMech"]
    expected = [{k: v for k, v in entry.items() if k in ref.fields} for entry in declared] if ref.fields else declared
    assert by_name[name].data == expected


def test_a_missing_ixit_document_is_named_not_guessed() -> None:
    cat = load_catalogue()
    profile = SimpleNamespace(ixit=None)
    tid = next(t for t in open_test_cases(cat) if cat.test_cases[t].ixit)
    names = {e.name: e.data for e in item_result(cat, tid, profile).evidence}
    assert "ask the supplier" in names["IXIT not supplied"]


def test_write_items_records_one_profile_level_record_per_item(tmp_path: Path) -> None:
    cat = load_catalogue()
    profile = load_profile(ROOT / "device_profiles" / "sim-compliant.yaml")
    bench = SimpleNamespace(profile=profile, fingerprint=lambda: {"sha256": "ab" * 32})
    n = write_items(ResultsLog(tmp_path, writer="robot"), bench, cat, runner="robot", run_id="r1")
    records = case_records(tmp_path)
    assert n == len(records) == len(open_test_cases(cat))
    assert {r["unit"] for r in records} == {None} and {r["runner"] for r in records} == {"robot"}
    assert {r["verdict"] for r in records} <= {"PENDING_REVIEW", "NOT_APPLICABLE"}
    na = [r for r in records if r["verdict"] == "NOT_APPLICABLE"]
    assert all("does not apply because" in r["reason"] for r in na)


def test_pytest_shows_inconclusive_pending_and_not_applicable_as_themselves() -> None:
    status = pytest_plugin.pytest_report_teststatus
    assert status(SimpleNamespace(conformance_verdict="INCONCLUSIVE", outcome="failed"), None)[:2] == ("inconclusive", "I")
    assert status(SimpleNamespace(conformance_verdict="PENDING_REVIEW", outcome="skipped"), None)[:2] == ("pending_review", "P")
    assert status(SimpleNamespace(conformance_verdict="NOT_APPLICABLE", outcome="skipped"), None)[:2] == ("not_applicable", "N")
    assert status(SimpleNamespace(conformance_verdict="FAIL", outcome="failed"), None) is None  # pytest's own
    assert status(SimpleNamespace(outcome="passed"), None) is None


def test_runtime_facts_are_filled_in_and_secret_references_stay_references() -> None:
    profile = SimpleNamespace(ixit={"2-UserInfo": {"disclosure_policy": {"url": {"runtime": "https.security_txt"}},
                                                   "key": {"secret": "api_token"}, "gone": {"runtime": "nope"}}})
    values = ixit_values(profile, {"https": {"security_txt": "https://127.0.0.1:8443/.well-known/security.txt"}})
    assert values["2-UserInfo"] == {"disclosure_policy": {"url": "https://127.0.0.1:8443/.well-known/security.txt"},
                                    "key": {"secret": "api_token"}, "gone": {"runtime": "nope"}}


def test_pytest_terminal_shows_the_verdicts_and_a_verdict_changed_in_teardown(tmp_path: Path) -> None:
    """A real pytest session (its own process, the conformance plugin loaded by its entry point)."""
    import subprocess
    import sys

    (tmp_path / "conftest.py").write_text('''
import pytest
from harness import pytest_plugin
from harness.testcase import TestCaseContext
from harness.verdict import CheckResult, Evidence

@pytest.fixture
def ctx(request):
    c = TestCaseContext(test_case="5.1-1-1", unit=None)
    request.node.stash[pytest_plugin._TC] = c
    yield c
    if request.node.name == "test_voided_in_teardown":
        c.result = CheckResult.inconclusive("the unit stopped answering")
''')
    (tmp_path / "test_x.py").write_text('''
from harness.pytest_plugin import conclude
from harness.verdict import CheckResult, Evidence

def test_pending(ctx):
    conclude(ctx, CheckResult.pending("awaiting assessor: is it so?"))

def test_inconclusive(ctx):
    conclude(ctx, CheckResult.inconclusive("broker gone"))

def test_passes(ctx):
    conclude(ctx, CheckResult.passed("seen", Evidence("observation", "x", "y")))

def test_voided_in_teardown(ctx):
    ctx.conclude(CheckResult.passed("seen", Evidence("observation", "x", "y")))
''')
    out = subprocess.run([sys.executable, "-m", "pytest", *SUITE_PLUGIN_OPTIONS, "-rA", str(tmp_path)],
                         cwd=tmp_path, capture_output=True, text=True, timeout=120).stdout
    assert "test_x.py PI..I" in out  # the teardown of the voided PASS reports INCONCLUSIVE
    last = out.strip().splitlines()[-1]
    assert "1 pending_review" in last and "2 inconclusive" in last and "failed" not in last
    assert "conformance verdicts (test case records): 1 PASS, 2 INCONCLUSIVE, 1 PENDING_REVIEW" in out
    assert "INCONCLUSIVE (the lab could not judge)" in out
    assert "test_x.py::test_inconclusive: broker gone" in out
    assert "test_x.py::test_voided_in_teardown: the unit stopped answering" in out
