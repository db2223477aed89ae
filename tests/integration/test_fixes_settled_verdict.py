"""One source of truth for a test case's verdict: a unit that loses power after its test case
reached a PASS makes that PASS untrusted. The record says INCONCLUSIVE (the end-of-test liveness
probe, harness.cases.runs.settle_verdict), the bench brings the unit back, and the pytest outcome
must say the same as the record, not "passed"."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from harness.cli import SUITE_PLUGIN_OPTIONS

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]

SUITE = '''
import os
import socket

import pytest

from harness.pytest_plugin import conclude
from harness.verdict import CheckResult, Evidence


@pytest.mark.conformance("5.1-1-2")
def test_unit_loses_power_after_its_verdict(tc, device):
    """A verdict is reached, then the unit loses power before the test case ends."""
    host, port = os.environ["SUPPLY"].split("::")[1:3]
    with socket.create_connection((host, int(port)), timeout=5) as sock:
        sock.sendall(b"OUTP OFF\\nOUTP?\\n")
        assert sock.makefile("rb").readline().strip() == b"0"
    conclude(tc, CheckResult.passed("observed before the power went", Evidence("table", "seen", [{"x": 1}])))
'''


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from harness.results import latest_by_case
    from harness.simctl import SimulatorProcess

    tmp = tmp_path_factory.mktemp("final-verdict")
    suite = tmp / "test_goes_dark.py"
    suite.write_text(SUITE, encoding="utf-8")
    with SimulatorProcess("compliant", tmp / "sim", time_scale=0.0, units=1) as sim:
        cmd = [sys.executable, "-m", "pytest", str(suite), "-q", *SUITE_PLUGIN_OPTIONS, "--rootdir", str(tmp),
               "--profile", str(ROOT / "device_profiles" / "sim-compliant.yaml"), "--lab", str(sim.lab_path),
               "--run-dir", str(tmp / "run"), "--unit", "U1", "--junitxml", str(tmp / "junit.xml")]
        env = {**os.environ, "SUPPLY": sim.runtime["units"]["U1"]["supply"]}
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300, env=env)
    return {"proc": proc, "record": latest_by_case(tmp / "run")[("5.1-1-2", "U1")],
            "junit": (tmp / "junit.xml").read_text(encoding="utf-8")}


def test_the_record_is_inconclusive_and_the_unit_recovered(run: dict[str, Any]) -> None:
    record = run["record"]
    assert record["verdict"] == "INCONCLUSIVE", (record["reason"], run["proc"].stdout[-2000:])
    assert "not trusted" in record["reason"] and "PASS" in record["reason"]
    recovery = [e["data"] for e in record["evidence"] if e["name"] == "recovery"]
    assert recovery and "power cycle" in recovery[0], record["evidence"]


def test_the_pytest_outcome_is_the_records_verdict(run: dict[str, Any]) -> None:
    proc = run["proc"]
    assert proc.returncode != 0, proc.stdout[-2000:]
    assert not re.search(r"\b1 passed\b", proc.stdout), proc.stdout[-2000:]
    assert "<failure" in run["junit"] or "<error" in run["junit"], run["junit"][-2000:]
