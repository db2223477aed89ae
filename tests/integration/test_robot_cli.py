"""`harness run --runner robot|both` against the simulator: one conformance report merges both
runners, a Robot rerun repeats exactly its INCONCLUSIVE cases, and a suite written only from the
libdoc (test_suites/robot/_examples/from_libdoc.robot) runs."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from robot.api import ExecutionResult

from harness.report.model import build_report_model
from harness.results import case_records, latest_by_case
from harness.simctl import SimulatorProcess

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "device_profiles" / "sim-compliant.yaml"
# Only the pytest test cases the Robot suites cover (other suites are not this test's business).
COVERED_K = ("test_4_1_1 or test_5_1_1_2 or test_5_1_2 or test_5_1_4_2 or test_5_2_1 or test_5_3_13 "
             "or test_5_11_1_2")


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with SimulatorProcess("compliant", tmp_path_factory.mktemp("sim"), time_scale=0.0) as proc:
        yield proc


def harness(sim: SimulatorProcess, run_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "harness.cli", "run", str(PROFILE), "--lab", str(sim.lab_path),
           "--run-dir", str(run_dir), "--no-allure", "--quiet", *args]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=600)


def test_both_runners_merge_into_one_report(sim: SimulatorProcess, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc = harness(sim, run_dir, "--runner", "both", "--", "-k", COVERED_K)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    records = case_records(run_dir)
    runners = {(r["test_case"], r["unit"]): set() for r in records}
    for r in records:
        runners[(r["test_case"], r["unit"])].add(r["runner"])
    assert len(runners) == 16 and all(v == {"pytest", "robot"} for v in runners.values()), runners
    model = build_report_model(run_dir)
    assert set(model.run.runners) == {"pytest", "robot"}
    assert len(model.cases) == 16 and all(c.verdict == "PASS" for c in model.cases)  # each counted once
    assert model.case_counts["PASS"] == 16
    for pid in ("4-1", "5.1-2", "5.2-1", "5.3-13"):  # every test case of these has a record
        assert model.provision(pid).verdict == "PASS", pid
    assert (run_dir / "conformance.html").is_file() and (run_dir / "robot" / "units" / "output.xml").is_file()
    # pabot: one writer per unit process, plus the product process, plus pytest.
    robot_segments = list((run_dir / "results").glob("segment-robot-*.jsonl"))
    assert len(robot_segments) == 4, robot_segments


def test_robot_rerun_repeats_exactly_its_inconclusive_cases(sim: SimulatorProcess, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    first = harness(sim, run_dir, "--runner", "robot", "--unit", "U1")
    assert first.returncode == 3, first.stdout[-3000:] + first.stderr[-3000:]  # 5.1-2-2 needs 2 units
    inconclusive = [k for k, r in latest_by_case(run_dir).items() if r["verdict"] == "INCONCLUSIVE"]
    assert inconclusive == [("5.1-2-2", "*")]
    before = len(case_records(run_dir))
    again = harness(sim, run_dir, "--runner", "robot", "--unit", "U1", "--rerun", "inconclusive")
    assert again.returncode == 3 and "rerunning 1 INCONCLUSIVE Robot test case(s)" in again.stdout, again.stdout
    after = case_records(run_dir)
    assert len(after) == before + 1 and after[-1]["test_case"] == "5.1-2-2"


def test_suite_written_from_the_libdoc_runs(sim: SimulatorProcess, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    proc = harness(sim, run_dir, "--runner", "robot", "--unit", "U2",
                   "--robot-suites", str(ROOT / "test_suites" / "robot" / "_examples"))
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = ExecutionResult(str(run_dir / "robot" / "all" / "output.xml"))
    assert {t.name: t.status for t in result.suite.all_tests} == {
        "Console reports the firmware version": "PASS",
        "5.11-4-1 Factory reset confirms the deletion of user data": "PASS",
        "5.1-4-2 Password change and erasure combined": "PASS"}
    verdicts = {(r["test_case"], r["unit"]): r["verdict"] for r in case_records(run_dir)}
    assert verdicts == {("5.11-4-1", "U2"): "PASS", ("5.1-4-2", "U2"): "PASS"}
