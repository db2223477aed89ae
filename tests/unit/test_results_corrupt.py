"""A line in the middle of a results segment that cannot be read is reported, and a readable
verdict never stands over an unreadable later record of the same test case."""

from __future__ import annotations

import json
from pathlib import Path

from harness.report import EXIT_INCONCLUSIVE, EXIT_OK, exit_code, summary_lines
from harness.report.model import build_report_model
from harness.results import ResultsLog
from harness.verdict import Verdict

try:
    from test_report_support import fake_catalogue, record, session
except ImportError:  # tests/unit became a package
    from tests.unit.test_report_support import fake_catalogue, record, session


def _run(run_dir: Path, *records) -> Path:
    log = ResultsLog(run_dir, writer="pytest")
    session(log, units=["U1"])
    for r in records:
        log.write(r)
    return log.path


def _corrupt_line(segment: Path, number: int, damage) -> None:
    lines = segment.read_bytes().split(b"\n")
    lines[number - 1] = damage(lines[number - 1])
    segment.write_bytes(b"\n".join(lines))


def _all_pass(tmp_path: Path) -> tuple[Path, Path]:
    run = tmp_path / "run"
    seg = _run(run,
               record("5.1-1-1", Verdict.PASS, unit="U1", minute=1),
               record("5.1-1-1", Verdict.FAIL, reason="default password admin works", unit="U1", minute=5),
               record("5.2-1-1", Verdict.PASS, minute=6))
    return run, seg


def test_corrupt_superseding_fail_does_not_let_the_older_pass_stand(tmp_path: Path) -> None:
    run, seg = _all_pass(tmp_path)
    _corrupt_line(seg, 3, lambda raw: raw.replace(b'"verdict": "FAIL"', b'"verdict": FAIL\x00'))
    model = build_report_model(run, fake_catalogue())
    case = next(c for c in model.cases if c.test_case == "5.1-1-1" and c.unit == "U1")
    assert case.verdict == "INCONCLUSIVE"
    assert case.reason.startswith("a later record of this test case is unreadable")
    assert f"{seg.name}:3" in case.reason
    assert [s.verdict for s in case.superseded] == ["PASS"]
    assert model.run.corrupt_lines == [f"{seg.name}:3"]
    assert any(f"{seg.name}:3" in w and "5.1-1-1 [U1]" in w for w in model.run.warnings)
    assert model.provision("5.1-1").verdict == "INCONCLUSIVE"
    # The case after the damage is read as before.
    assert next(c for c in model.cases if c.test_case == "5.2-1-1").verdict == "PASS"
    assert any(f"{seg.name}:3" in line for line in summary_lines(model))


def test_corrupt_older_record_does_not_override_a_readable_newer_one(tmp_path: Path) -> None:
    run, seg = _all_pass(tmp_path)
    # Line 2 is the PASS (minute 1); the FAIL at minute 5 still stands.
    _corrupt_line(seg, 2, lambda raw: raw.replace(b'"verdict": "PASS"', b'"verdict": "PA'))
    model = build_report_model(run, fake_catalogue())
    case = next(c for c in model.cases if c.test_case == "5.1-1-1")
    assert case.verdict == "FAIL"
    assert any(f"{seg.name}:2" in w for w in model.run.warnings)


def test_the_only_record_unreadable_is_inconclusive(tmp_path: Path) -> None:
    run = tmp_path / "run"
    seg = _run(run, record("5.2-1-1", Verdict.PASS, minute=1), record("5.1-1-1", Verdict.PASS, unit="U1", minute=2))
    _corrupt_line(seg, 3, lambda raw: raw[:-40] + b"\x01")
    model = build_report_model(run, fake_catalogue())
    case = next(c for c in model.cases if c.test_case == "5.1-1-1")
    assert case.verdict == "INCONCLUSIVE" and "unreadable" in case.reason


def test_unattributed_corrupt_line_warns_and_exits_3(tmp_path: Path) -> None:
    run = tmp_path / "run"
    seg = _run(run, record("5.2-1-1", Verdict.PASS, minute=1))
    clean = build_report_model(run, fake_catalogue())
    assert exit_code(clean) == EXIT_OK
    with open(seg, "ab") as fh:
        fh.write(b"\x00\x00garbage that names nothing\n")
        fh.write((json.dumps({"record": "note", "text": "after the damage"}) + "\n").encode())
    model = build_report_model(run, fake_catalogue())
    assert model.run.unattributed_corrupt_lines == 1
    assert model.run.corrupt_lines == [f"{seg.name}:3"]
    assert any(f"{seg.name}:3" in w and "names no test case" in w for w in model.run.warnings)
    assert exit_code(model) == EXIT_INCONCLUSIVE
    assert model.run.record_counts["corrupt_lines"] == 1


def test_torn_last_line_is_still_only_a_warning(tmp_path: Path) -> None:
    run = tmp_path / "run"
    seg = _run(run, record("5.2-1-1", Verdict.PASS, minute=1))
    with open(seg, "ab") as fh:
        fh.write(b'{"record": "test_case", "test_case": "5.2-1-1", "verdict": "FA')
    model = build_report_model(run, fake_catalogue())
    assert model.run.corrupt_lines == []
    assert next(c for c in model.cases if c.test_case == "5.2-1-1").verdict == "PASS"
    assert exit_code(model) == EXIT_OK
