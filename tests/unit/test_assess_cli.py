"""`harness assess RUN_DIR`: listing the open items, recording decisions from a file or from
answers (bounded, end-of-input safe), the template, and the rebuilt reports."""

from __future__ import annotations

import argparse
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from test_report_support import record, write_run  # tests/unit is on sys.path

from harness.assess.cli import cmd_assess
from harness.assess.decisions import load_decisions_file
from harness.cli import main
from harness.report.model import build_report_model
from harness.results import decision_records
from harness.verdict import Evidence

SHA = "ab" * 32


def args(run_dir: Path, **kw: object) -> argparse.Namespace:
    base = {"run_dir": str(run_dir), "decisions": None, "list": False, "interactive": False, "template": None,
            "assessor": None, "lab": None, "no_report": False, "edition": None}
    return argparse.Namespace(**{**base, **kw})


def answers(*lines: str) -> Iterator[str]:
    yield from (line + "\n" for line in lines)
    while True:
        yield ""  # end of input, for ever


@pytest.fixture
def run(tmp_path: Path) -> Path:
    q = "Does the IXIT give per-unit passwords?"
    return write_run(tmp_path / "run", [
        record("5.1-1-1", "PENDING_REVIEW", f"awaiting assessor: {q}", evidence=[
            Evidence("question", "question", q), Evidence("observation", "IXIT 1-AuthMech", [{"id": "console"}])]),
        record("5.1-1-2", "PASS", unit="U1"), record("5.1-1-2", "PASS", unit="U2"),
        record("5.2-1-2", "FAIL", "no policy"),
    ])


def test_list_shows_question_and_ixit_and_records_nothing(run: Path) -> None:
    out = io.StringIO()
    assert cmd_assess(args(run, list=True), out=out) == 0
    text = out.getvalue()
    assert "[1/" in text and "5.1-1-1 [profile] (PENDING_REVIEW)" in text
    assert "Question: Does the IXIT give per-unit passwords?" in text
    assert 'IXIT 1-AuthMech: [{"id": "console"}]' in text
    assert decision_records(run) == []


def test_decisions_from_a_file_are_appended_and_the_reports_rebuilt(run: Path, tmp_path: Path) -> None:
    path = tmp_path / "decisions.yaml"
    path.write_text(yaml.safe_dump({
        "schema": "harness-decisions/1", "assessor": "A. Assessor", "date": "2026-12-06", "profile_sha256": SHA,
        "firmware": "1.2.3", "decisions": [
            {"test_case": "5.1-1-1", "verdict": "PASS", "rationale": "label passwords per unit"},
            {"test_case": "5.2-1-2", "verdict": "PASS", "rationale": "looks fine"}]}))
    out = io.StringIO()
    assert cmd_assess(args(run, decisions=str(path)), out=out) == 0
    text = out.getvalue()
    assert "5.1-1-1 [profile]: PASS" in text
    assert "5.2-1-2 [profile]: not applied: the recorded verdict is FAIL" in text
    assert "2 decision(s) recorded" in text and (run / "conformance.html").is_file()
    assert "PSTI 1:" in text
    model = build_report_model(run)
    assert model.provision("5.1-1").verdict == "PASS" and model.provision("5.2-1").verdict == "FAIL"
    # The same file again appends nothing.
    again = io.StringIO()
    assert cmd_assess(args(run, decisions=str(path)), out=again) == 0
    assert "already recorded" in again.getvalue() and len(decision_records(run)) == 2


def test_a_bad_file_is_refused_with_every_problem(run: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("decisions:\n  - {test_case: 5.1-1-1, verdict: OK}\n")
    assert main(["assess", str(run), "--decisions", str(path)]) == 2
    err = capsys.readouterr().err
    assert "verdict must be one of" in err and "needs a rationale" in err and "needs assessor" in err
    assert decision_records(run) == []


def test_interactive_answers_are_bounded_and_end_of_input_keeps_what_was_decided(run: Path) -> None:
    feed = answers("A. Assessor", "maybe", "p", "", "the IXIT names per-unit label passwords", "/no/such/file", "")
    out = io.StringIO()
    assert cmd_assess(args(run, interactive=True), read=lambda: next(feed), out=out) == 0
    text = out.getvalue()
    assert "answer p, f, n, s or q" in text and "a decision needs a rationale" in text
    assert "not a file here: /no/such/file" in text
    [rec] = decision_records(run)
    assert (rec["test_case"], rec["verdict"], rec["assessor"], rec["source"]) == ("5.1-1-1", "PASS", "A. Assessor",
                                                                                 "interactive")
    assert rec["profile_sha256"] == SHA and rec["firmware"] == "1.2.3"


def test_interactive_at_once_end_of_input_records_nothing(run: Path) -> None:
    feed = answers()
    assert cmd_assess(args(run, interactive=True), read=lambda: next(feed), out=io.StringIO()) == 0
    assert decision_records(run) == []


def test_the_template_lists_the_open_items_and_validates_once_filled(run: Path, tmp_path: Path) -> None:
    path = tmp_path / "t.yaml"
    assert cmd_assess(args(run, template=str(path)), out=io.StringIO()) == 0
    doc = yaml.safe_load(path.read_text())
    assert doc["profile_sha256"] == SHA and doc["firmware"] == "1.2.3"
    assert "# Does the IXIT give per-unit passwords?" in path.read_text()
    tcs = [d["test_case"] for d in doc["decisions"]]
    assert "5.1-1-1" in tcs and "5.1-1-2" not in tcs
    doc["assessor"] = "A. Assessor"
    for d in doc["decisions"]:
        d.update(verdict="PASS", rationale="judged")
    path.write_text(yaml.safe_dump(doc))
    assert len(load_decisions_file(path)) == len(tcs)


def test_a_secret_in_a_decision_never_reaches_the_log_or_the_reports(run: Path, tmp_path: Path) -> None:
    from harness.redact import REDACTOR

    secret = "assess-test-secret-7Q2xK"  # unique to this test: the global redactor keeps it
    REDACTOR.add(secret, "label_password")
    path = tmp_path / "decisions.yaml"
    path.write_text(yaml.safe_dump({
        "assessor": "A. Assessor", "date": "2026-12-06", "profile_sha256": SHA, "firmware": "1.2.3",
        "decisions": [{"test_case": "5.1-1-1", "verdict": "PASS",
                       "rationale": f"logged in with {secret} on the label"}]}))
    assert cmd_assess(args(run, decisions=str(path)), out=io.StringIO()) == 0
    for f in [*(run / "results").iterdir(), run / "conformance.json", run / "junit.xml", run / "conformance.html"]:
        assert secret not in f.read_text(encoding="utf-8"), f.name
    assert "logged in with" in (run / "conformance.json").read_text(encoding="utf-8")


def test_each_answer_is_on_disk_at_once_even_when_interrupted(run: Path) -> None:
    lines = iter(["A. Assessor\n", "f\n", "the IXIT names one password for all units\n", "\n"])

    def read() -> str:
        line = next(lines, None)
        if line is None:
            raise KeyboardInterrupt  # Ctrl-C at the next question
        return line

    out = io.StringIO()
    assert cmd_assess(args(run, interactive=True, no_report=True), read=read, out=out) == 0
    assert "interrupted: 1 decision(s) recorded so far" in out.getvalue()
    [rec] = decision_records(run)
    assert rec["verdict"] == "FAIL" and rec["rationale"] == "the IXIT names one password for all units"


def test_list_names_the_decisions_that_do_not_count(run: Path, tmp_path: Path) -> None:
    path = tmp_path / "old.yaml"
    path.write_text(yaml.safe_dump({
        "assessor": "A. Assessor", "date": "2026-12-01", "profile_sha256": "cd" * 32, "firmware": "1.2.3",
        "decisions": [{"test_case": "5.1-1-1", "verdict": "PASS", "rationale": "made for the old profile"}]}))
    assert cmd_assess(args(run, decisions=str(path), no_report=True), out=io.StringIO()) == 0
    out = io.StringIO()
    assert cmd_assess(args(run, list=True), out=out) == 0
    text = out.getvalue()
    assert "5.1-1-1 [profile] (PENDING_REVIEW)" in text  # still open
    assert "1 recorded decision(s) not applied:" in text and "5.1-1-1 [profile] PASS by A. Assessor (2026-12-01): STALE" in text
