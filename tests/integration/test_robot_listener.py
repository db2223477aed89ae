"""The Robot listener against the simulator: one record per conformance test, verdict → Robot
status and Allure status, lab faults INCONCLUSIVE, N/A without running, and the same records
whether the listener is given with --listener (as `harness run` does) or only attached by the
library (a plain `robot` run)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from robot.api import ExecutionResult

from harness.results import case_records
from harness.simctl import SimulatorProcess

ROOT = Path(__file__).resolve().parents[2]

SUITE = """\
*** Settings ***
Library    harness.robot.HarnessLibrary

*** Test Cases ***
5.2-1-1 Pass decided by the suite
    [Tags]    5.2-1-1    scope:profile
    Add Evidence    note    hello    kind=observation
    Measure    waited    1.5    s
    Record Verdict    PASS    decided

5.3-13-1 Fail decided by the suite
    [Tags]    5.3-13-1    scope:profile
    Record Verdict    FAIL    the device did it wrong

4-1-1 Inconclusive decided by the suite
    [Tags]    4-1-1    scope:profile
    Record Verdict    INCONCLUSIVE    the bench broke

5.1-1-2 Lab fault before any verdict
    [Tags]    5.1-1-2
    Open Unit    U9

5.1-4-2 Ended without a verdict
    [Tags]    5.1-4-2
    Open Unit    state=logged_in

5.2-1-2 Robot assertion without a verdict
    [Tags]    5.2-1-2    scope:profile
    Should Be Equal    1    2

5.11-1-2 Skipped by Robot itself
    [Tags]    5.11-1-2
    Skip    not today

5.3-14-1 Not applicable by the ICS
    [Tags]    5.3-14-1    scope:profile
    Fail    the body of a test of a provision that does not apply must not run

5.1-2-1 First verdict wins
    [Tags]    5.1-2-1    scope:profile
    Add Evidence    note    seen    kind=observation
    Record Verdict    PASS    first
    Record Verdict    FAIL    second

Plain test using a unit
    Open Unit    U2    state=logged_in
    ${version}=    Run Procedure    read_version
    Should Be Equal    ${version}[outcome]    ok
    Log    a keyword printed ${LEAK}
"""

EXPECTED = {  # (test case, unit): (verdict, reason starts with, Robot status, Allure status)
    ("5.2-1-1", None): ("PASS", "decided", "PASS", "passed"),
    ("5.3-13-1", None): ("FAIL", "the device did it wrong", "FAIL", "failed"),
    ("4-1-1", None): ("INCONCLUSIVE", "the bench broke", "FAIL", "broken"),
    ("5.1-1-2", "U1"): ("INCONCLUSIVE", "lab fault: unit 'U9' is not selected", "FAIL", "broken"),
    ("5.1-4-2", "U1"): ("INCONCLUSIVE", "the test ended without a verdict", None, "broken"),
    ("5.2-1-2", None): ("INCONCLUSIVE", "test error: 1 != 2", "FAIL", "broken"),
    ("5.3-14-1", None): ("NOT_APPLICABLE", "5.3-14 (RC) does not apply", "SKIP", "skipped"),
    ("5.1-2-1", None): ("PASS", "first", "PASS", "passed"),
}


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    with SimulatorProcess("compliant", tmp_path_factory.mktemp("sim"), units=2, time_scale=0.0) as proc:
        yield proc


def label_password(sim: SimulatorProcess, unit: str) -> str:
    return json.loads((sim.run_dir / "secrets.json").read_text())[f"SIM_{unit}_LABEL"]


def run_robot(sim: SimulatorProcess, tmp: Path, *, global_listener: bool) -> Path:
    suite = tmp / "listener_behaviour.robot"
    suite.write_text(SUITE)
    run_dir = tmp / "run"
    cmd = [sys.executable, "-m", "robot", "--outputdir", str(tmp / "out"), "--console", "quiet",
           "--variable", f"HARNESS_PROFILE:{ROOT / 'device_profiles' / 'sim-compliant.yaml'}",
           "--variable", f"HARNESS_LAB:{sim.lab_path}", "--variable", f"HARNESS_RUN_DIR:{run_dir}",
           "--variable", "HARNESS_UNITS:U1,U2", "--variable", f"LEAK:{label_password(sim, 'U2')}"]
    if global_listener:
        cmd += ["--listener", "harness.robot.listener.ResultsListener"]
    cmd += ["--listener", f"allure_robotframework:{run_dir / 'allure-results'}", str(suite)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode < 251, proc.stdout[-3000:] + proc.stderr[-3000:]
    return run_dir


@pytest.mark.parametrize("global_listener", [True, False], ids=["with --listener", "library only"])
def test_records_statuses_and_allure(sim: SimulatorProcess, tmp_path: Path, global_listener: bool) -> None:
    run_dir = run_robot(sim, tmp_path, global_listener=global_listener)
    records = case_records(run_dir)
    by_key = {(r["test_case"], r["unit"]): r for r in records}
    assert len(by_key) == len(records) == len(EXPECTED)  # exactly one record each; none for skip/plain
    robot = {t.name.split()[0]: t for t in ExecutionResult(str(tmp_path / "out" / "output.xml")).suite.all_tests}
    allure = {}
    for f in (run_dir / "allure-results").glob("*-result.json"):
        data = json.loads(f.read_text())
        allure[data["name"].split()[0]] = data
    for key, (verdict, reason, robot_status, allure_status) in EXPECTED.items():
        rec = by_key[key]
        assert (rec["verdict"], rec["runner"]) == (verdict, "robot"), rec
        assert rec["reason"].startswith(reason), rec["reason"]
        assert rec["name"].startswith("Listener Behaviour.") and rec["profile"]["sha256"]
        test = robot[key[0]]
        # The library's own listener ends a test after Robot decided its status; given with
        # --listener it can still say INCONCLUSIVE for a test that passed without a verdict.
        if robot_status is not None or global_listener:
            assert test.status == (robot_status or "FAIL"), (key, test.status, test.message)
        if verdict == "INCONCLUSIVE" and global_listener:
            assert test.message.startswith("INCONCLUSIVE:"), test.message
        assert allure[key[0]]["status"] == allure_status, (key, allure[key[0]]["status"])  # either way
    assert robot["5.11-1-2"].status == "SKIP" and robot["Plain"].status == "PASS"
    na = robot["5.3-14-1"]
    assert na.message.startswith("NOT_APPLICABLE:") and not na.body.filter(keywords=True)  # the body never ran
    passed = by_key[("5.2-1-1", None)]
    assert {"kind": "observation", "name": "note", "data": "hello"} in passed["evidence"]
    assert passed["measurements"] == {"waited": {"value": 1.5, "unit": "s"}}
    lab_fault = by_key[("5.1-4-2", "U1")]
    assert any(a["name"].startswith("U1-console") for a in lab_fault["attachments"])  # the transcript is evidence
    secret = label_password(sim, "U2")
    robot_log = (tmp_path / "out" / "output.xml").read_text()
    assert "a keyword printed «redacted»" in robot_log and secret not in robot_log
    for path in run_dir.rglob("*"):
        # Library only, Allure's listener logs a keyword before the harness can redact it (the
        # library warns about that order); given with --listener first, nothing leaks anywhere.
        if path.is_file() and (global_listener or "allure-results" not in path.parts):
            assert secret.encode() not in path.read_bytes(), path
    assert ("is not given with --listener" in robot_log) is not global_listener
    sessions = [json.loads(line) for seg in (run_dir / "results").glob("segment-robot-*.jsonl")
                for line in seg.read_text().splitlines() if '"record": "session"' in line]
    assert len(sessions) == 1 and sessions[0]["runner"] == "robot" and sessions[0]["units"] == ["U1", "U2"]
    if global_listener:
        labels = {(lbl["name"], lbl["value"]) for lbl in allure["5.2-1-1"]["labels"]}
        assert {("epic", "EN 303 645"), ("provision", "5.2-1"), ("ts103701", "5.2-1-1")} <= labels
        assert any(a["name"] == "verdict and evidence" for a in allure["5.2-1-1"].get("attachments", []))
