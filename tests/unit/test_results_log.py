"""The results log: one fsync'd line per test case, several writers, torn lines, redaction."""

from __future__ import annotations

import json
import multiprocessing
from pathlib import Path

from harness.redact import MASK, Redactor
from harness.results import Observations, ResultsLog, TestCaseRecord, case_records, latest_by_case
from harness.verdict import CheckResult, Evidence, Verdict, combine, worst


def _record(tc: str, verdict: Verdict, unit: str | None = "U1", finished: str = "") -> TestCaseRecord:
    return TestCaseRecord(test_case=tc, provision=tc.rsplit("-", 1)[0], verdict=verdict, reason="r",
                          unit=unit, finished=finished)


def _writer(run_dir: str, n: int) -> None:
    log = ResultsLog(run_dir)
    for i in range(n):
        log.write(_record(f"5.1-1-{i}", Verdict.PASS))


def test_several_processes_write_segments_that_merge(tmp_path: Path) -> None:
    procs = [multiprocessing.Process(target=_writer, args=(str(tmp_path), 20)) for _ in range(3)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert len(list((tmp_path / "results").glob("segment-*.jsonl"))) == 3
    assert len(case_records(tmp_path)) == 60


def test_torn_last_line_is_skipped(tmp_path: Path) -> None:
    log = ResultsLog(tmp_path)
    log.write(_record("5.1-1-2", Verdict.FAIL))
    with open(log.path, "a") as fh:
        fh.write('{"record": "test_case", "test_ca')
    assert [r["verdict"] for r in case_records(tmp_path)] == ["FAIL"]


def test_rerun_supersedes(tmp_path: Path) -> None:
    log = ResultsLog(tmp_path)
    log.write(_record("5.1-1-2", Verdict.INCONCLUSIVE, finished="2026-01-01T00:00:00"))
    log.write(_record("5.1-1-2", Verdict.PASS, finished="2026-01-01T00:01:00"))
    assert latest_by_case(tmp_path)[("5.1-1-2", "U1")]["verdict"] == "PASS"


def test_secrets_are_redacted_in_records_and_attachments(tmp_path: Path) -> None:
    red = Redactor()
    red.add("S3cretLabel!", "U1_LABEL")
    log = ResultsLog(tmp_path, redactor=red)
    rec = _record("5.1-1-2", Verdict.PASS)
    rec.evidence.append(Evidence("text", "oops", "the password is S3cretLabel!"))
    rec.attachments.append(log.attach(rec.id, "t.txt", "> S3cretLabel!\n"))
    log.write(rec)
    text = "".join(p.read_text() for p in tmp_path.rglob("*") if p.is_file())
    assert "S3cretLabel!" not in text and MASK in text


def test_public_words_can_be_declassified() -> None:
    red = Redactor()
    red.add("admin", "L1_LABEL")
    assert red.redact("admin/admin") == f"{MASK}/{MASK}"
    red.declassify("admin")
    assert red.redact("admin/admin") == "admin/admin"


def test_short_secret_masked_only_as_token() -> None:
    red = Redactor()
    red.add("42", "PIN")
    assert red.redact("pin 42 at 1420") == f"pin {MASK} at 1420"


def test_observations_roundtrip(tmp_path: Path) -> None:
    obs = Observations(tmp_path)
    obs.record("U1", "label_password_accepted", True)
    obs.record("U2", "label_password_accepted", False)
    assert Observations(tmp_path).read() == {"U1": {"label_password_accepted": True},
                                            "U2": {"label_password_accepted": False}}


def test_worst_and_combine() -> None:
    assert worst(Verdict.PASS, Verdict.INCONCLUSIVE, Verdict.FAIL) == Verdict.FAIL
    assert worst(Verdict.NOT_APPLICABLE, Verdict.PASS) == Verdict.PASS
    r = combine([CheckResult.passed("a", Evidence("observation", "a", 1)),
                 CheckResult.inconclusive("b", Evidence("text", "x", 1))])
    assert r.verdict == Verdict.INCONCLUSIVE and r.reason == "b" and len(r.evidence) == 2
    assert json.loads(json.dumps(r.evidence[1].to_dict()))["name"] == "x"
