"""Test isolation and runs that end early: update campaigns run last on their unit, a planned
test case without a record stands as INCONCLUSIVE, and a run that judged nothing is never clean."""

from __future__ import annotations

from pathlib import Path

from harness.isolation import LEAVES, leaves, phase
from harness.report import EXIT_FAIL, EXIT_INCONCLUSIVE, exit_code
from harness.report.model import build_report_model
from harness.results import ResultsLog, TestCaseRecord
from harness.verdict import Verdict


def test_firmware_changing_cases_run_after_every_other_case_of_the_unit() -> None:
    standard_order = ["5.1-1-2", "5.1-4-2", "5.3-2-2", "5.3-16-2", "5.5-5-2", "5.11-1-2", "5.13-1-2"]
    ordered = sorted(standard_order, key=lambda tc: (phase(tc), standard_order.index(tc)))
    assert ordered == ["5.1-1-2", "5.1-4-2", "5.5-5-2", "5.11-1-2", "5.13-1-2", "5.3-2-2", "5.3-16-2"]


def test_what_test_cases_may_leave_is_declared() -> None:
    assert leaves("5.1-4-2") == {"password"}
    assert "lockout" in leaves("5.1-5-2")
    assert leaves("5.6-1-2") == frozenset()  # a scan leaves nothing
    assert all(v <= {"password", "lockout", "firmware", "settings", "broker", "power"} for v in LEAVES.values())


def _record(log: ResultsLog, tc: str, unit: str | None, verdict: Verdict) -> None:
    log.write(TestCaseRecord(test_case=tc, provision=tc.rsplit("-", 1)[0], verdict=verdict, reason="r",
                             unit=unit, finished="2026-01-01T00:00:01"))


def test_a_planned_case_without_record_is_inconclusive(tmp_path: Path) -> None:
    log = ResultsLog(tmp_path)
    log.write_plan("pytest", [{"test_case": "5.1-1-2", "unit": "U1", "name": "a"},
                              {"test_case": "5.6-1-2", "unit": "U1", "name": "b"}])
    _record(log, "5.1-1-2", "U1", Verdict.PASS)  # the run was killed before 5.6-1-2
    model = build_report_model(tmp_path)
    missing = [c for c in model.cases if c.test_case == "5.6-1-2"]
    assert len(missing) == 1 and missing[0].verdict == "INCONCLUSIVE" and "no record" in missing[0].reason
    assert exit_code(model) == EXIT_INCONCLUSIVE
    assert any("planned test case" in w for w in model.run.warnings)


def test_a_fail_stands_beside_unjudged_cases(tmp_path: Path) -> None:
    log = ResultsLog(tmp_path)
    log.write_plan("pytest", [{"test_case": "5.1-1-2", "unit": "U1"}, {"test_case": "5.6-1-2", "unit": "U1"}])
    _record(log, "5.1-1-2", "U1", Verdict.FAIL)
    assert exit_code(build_report_model(tmp_path)) == EXIT_FAIL


def test_a_run_that_judged_nothing_is_not_clean(tmp_path: Path) -> None:
    ResultsLog(tmp_path).write_session(run_id="x", runner="pytest")
    assert exit_code(build_report_model(tmp_path)) == EXIT_INCONCLUSIVE


def test_the_docs_table_names_what_each_case_may_leave() -> None:
    """docs/suites.md's isolation table and harness.isolation.LEAVES say the same."""
    import re

    root = Path(__file__).resolve().parents[2]
    text = (root / "docs" / "suites.md").read_text(encoding="utf-8")
    table = text[text.index("## Test isolation"):]
    documented: dict[str, frozenset[str]] = {}
    for line in table.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 5 or not re.match(r"\d", cells[0]):
            continue
        left = frozenset() if cells[3] == "—" else frozenset(x.strip() for x in cells[3].split(","))
        for tc in cells[0].split(","):
            documented[tc.strip()] = left
    for tc, left in documented.items():
        assert leaves(tc) == left, tc
    assert set(LEAVES) <= set(documented)
