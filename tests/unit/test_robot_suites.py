"""The Robot suites: identity tags, the test cases they cover, and that every keyword they use
exists with the arguments given (Robot's dry run, in its own process)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from robot.api import TestSuiteBuilder as RobotSuiteBuilder

from harness.robot.identity import identity_from_tags
from harness.testcase import provision_of

ROOT = Path(__file__).resolve().parents[2]
SUITES = ROOT / "test_suites" / "robot"
REQUIRED = {"5.1-1-2", "5.1-4-2", "5.2-1-1", "5.2-1-2", "5.3-13-1", "5.3-13-2", "5.11-1-2"}


def test_every_test_names_its_test_case_and_provision() -> None:
    suite = RobotSuiteBuilder().build(str(SUITES))
    seen = set()
    for test in suite.all_tests:
        identity = identity_from_tags(test.tags)
        assert identity is not None, test.full_name
        assert test.name.startswith(identity.test_case), test.full_name
        assert f"allure.label.provision:{provision_of(identity.test_case)}" in test.tags, test.full_name
        assert test.doc, test.full_name
        seen.add(identity.test_case)
    assert REQUIRED <= seen
    assert all("Libdoc" not in t.full_name for t in suite.all_tests)  # _examples is not a conformance suite


def test_suites_pass_a_dry_run() -> None:
    for path in (SUITES, SUITES / "_examples"):
        proc = subprocess.run([sys.executable, "-m", "robot", "--dryrun", "--output", "NONE", "--report", "NONE",
                               "--log", "NONE", "--console", "quiet", str(path)],
                              cwd=ROOT, capture_output=True, text=True, timeout=120)
        assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
