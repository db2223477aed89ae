"""EN 303 645 clause 5.4 — conceptual test cases judged from IXIT 10-SecParam.

Scope `conceptual`: these run after the functional cases and read the profile's IXIT and the
functional verdicts this run recorded (a functional case not run changes nothing). Rules:
harness/checks/conceptual (docs/ics.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.checks.conceptual import judge
from harness.checks.conceptual.runlog import functional_results
from harness.profile.resolve import Bench
from harness.pytest_plugin import conclude
from harness.testcase import TestCaseContext


@pytest.mark.conformance("5.4-1-1", scope="conceptual")
def test_5_4_1_1_parameters_stored_securely(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """Every declared security parameter has a protection scheme at rest, and the parameters the
    other IXIT documents name (passwords, what 11-ComMech carries) are all listed."""
    conclude(tc, judge("5.4-1-1", bench.profile.ixit, functional_results(run_dir)))


@pytest.mark.conformance("5.4-3-1", scope="conceptual")
def test_5_4_3_1_no_hard_coded_critical_parameter(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """No critical security parameter is hard-coded in the device software and used in operation."""
    conclude(tc, judge("5.4-3-1", bench.profile.ixit, functional_results(run_dir)))


@pytest.mark.conformance("5.4-4-1", scope="conceptual")
def test_5_4_4_1_critical_parameters_unique_per_device(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """Critical parameters protecting updates or associated services are unique per device and
    their generation is declared."""
    conclude(tc, judge("5.4-4-1", bench.profile.ixit, functional_results(run_dir)))
