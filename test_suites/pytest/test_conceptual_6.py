"""EN 303 645 clause 6 — conceptual test cases judged from IXIT 21-PersData.

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


@pytest.mark.conformance("6-2-1", scope="conceptual")
def test_6_2_1_consent_is_opt_in(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """Every processing that rests on consent waits for the user's explicit opt-in."""
    conclude(tc, judge("6-2-1", bench.profile.ixit, functional_results(run_dir)))


@pytest.mark.conformance("6-3-1", scope="conceptual")
def test_6_3_1_consent_can_be_withdrawn(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """Every processing that rests on consent declares how the user withdraws consent at any time."""
    conclude(tc, judge("6-3-1", bench.profile.ixit, functional_results(run_dir)))
