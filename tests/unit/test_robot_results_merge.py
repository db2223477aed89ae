"""The results-log rule for test cases judged by more than one runner (harness.results.reconcile)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.report import model as report_model
from harness.results import ResultsLog, TestCaseRecord, latest_by_case, latest_by_runner, reconcile
from harness.verdict import Evidence, Verdict


def rec(runner: str, verdict: str, finished: str, tc: str = "5.1-1-2", unit: str | None = "U1", **kw) -> dict:
    return {"record": "test_case", "id": f"{runner}-{finished}", "test_case": tc, "provision": tc.rsplit("-", 1)[0],
            "unit": unit, "verdict": verdict, "reason": f"{runner} said {verdict}", "runner": runner,
            "name": f"{runner}::{tc}", "started": finished, "finished": finished, "duration_s": 1.0,
            "evidence": [{"kind": "text", "name": "e", "data": runner}], "attachments": [], **kw}


def test_one_runner_newest_wins() -> None:
    old, new = rec("pytest", "INCONCLUSIVE", "2025-01-01T00:00:01"), rec("pytest", "PASS", "2025-01-01T00:00:02")
    chosen, replaced = reconcile([new, old])
    assert chosen is new and replaced == [old]


def test_runners_that_agree_count_once() -> None:
    p, r = rec("pytest", "FAIL", "2025-01-01T00:00:01"), rec("robot", "FAIL", "2025-01-01T00:00:02")
    chosen, replaced = reconcile([p, r])
    assert chosen is r and replaced == [p]


def test_runners_that_disagree_give_inconclusive_naming_both() -> None:
    p, r = rec("pytest", "PASS", "2025-01-01T00:00:01"), rec("robot", "FAIL", "2025-01-01T00:00:02")
    chosen, replaced = reconcile([p, r])
    assert chosen["verdict"] == "INCONCLUSIVE"
    assert "pytest PASS" in chosen["reason"] and "robot FAIL" in chosen["reason"]
    assert chosen["derived_from"] == [p["id"], r["id"]] and replaced == [p, r]
    table = chosen["evidence"][0]
    assert table["name"] == "verdict of each runner" and [row["verdict"] for row in table["data"]] == ["PASS", "FAIL"]
    assert {e["name"] for e in chosen["evidence"][1:]} == {"[pytest] e", "[robot] e"}
    assert reconcile([r, p])[0]["id"] == chosen["id"]  # stable: a rebuilt report gives the same record


def test_an_inconclusive_runner_neither_confirms_nor_contradicts() -> None:
    p1 = rec("pytest", "INCONCLUSIVE", "2025-01-01T00:00:01")
    r1 = rec("robot", "PASS", "2025-01-01T00:00:02")
    assert reconcile([p1, r1])[0] is r1  # the lab fault judged nothing


def test_a_rerun_that_agrees_resolves_the_disagreement() -> None:
    p1 = rec("pytest", "FAIL", "2025-01-01T00:00:01")
    r1 = rec("robot", "PASS", "2025-01-01T00:00:02")
    assert reconcile([p1, r1])[0]["verdict"] == "INCONCLUSIVE"
    p2 = rec("pytest", "PASS", "2025-01-01T00:00:03")
    chosen, replaced = reconcile([p1, r1, p2])
    assert chosen is p2 and set(map(id, replaced)) == {id(p1), id(r1)}


def _write(run_dir: Path, records: list[dict]) -> None:
    (run_dir / "results").mkdir(parents=True, exist_ok=True)
    with open(run_dir / "results" / "segment-test.jsonl", "w") as fh:
        for r in records:
            fh.write(json.dumps(r) + "\n")


def test_latest_by_case_and_by_runner_read_the_log(tmp_path: Path) -> None:
    _write(tmp_path, [rec("pytest", "PASS", "2025-01-01T00:00:01"), rec("robot", "FAIL", "2025-01-01T00:00:02"),
                      rec("pytest", "PASS", "2025-01-01T00:00:03", tc="4-1-1", unit=None),
                      rec("robot", "PASS", "2025-01-01T00:00:04", tc="4-1-1", unit=None)])
    merged = latest_by_case(tmp_path)
    assert merged[("5.1-1-2", "U1")]["verdict"] == "INCONCLUSIVE"
    assert merged[("4-1-1", None)]["verdict"] == "PASS"
    per_runner = latest_by_runner(tmp_path)
    assert per_runner[("5.1-1-2", "U1", "pytest")]["verdict"] == "PASS"
    assert per_runner[("5.1-1-2", "U1", "robot")]["verdict"] == "FAIL"


def test_robot_records_are_the_pytest_record_format(tmp_path: Path) -> None:
    log = ResultsLog(tmp_path, writer="robot")
    log.write(TestCaseRecord(test_case="5.1-1-2", provision="5.1-1", verdict=Verdict.PASS, reason="ok", unit="U1",
                             evidence=[Evidence("text", "t", "x")], runner="robot", name="Conformance.T"))
    assert log.path.name.startswith("segment-robot-")
    (line,) = log.path.read_text().splitlines()
    assert json.loads(line)["runner"] == "robot"


@pytest.mark.skipif(not hasattr(report_model, "reconcile"),
                    reason="harness/report/model.py does not apply harness.results.reconcile yet")
def test_report_counts_a_disagreement_once_as_inconclusive(tmp_path: Path) -> None:
    _write(tmp_path, [rec("pytest", "PASS", "2025-01-01T00:00:01"), rec("robot", "FAIL", "2025-01-01T00:00:02")])
    model = report_model.build_report_model(tmp_path)
    (case,) = [c for c in model.cases if c.test_case == "5.1-1-2"]
    assert case.verdict == "INCONCLUSIVE" and case.runner == "pytest+robot"
    assert len(case.superseded) == 2
