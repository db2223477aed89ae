"""EN 303 645 clause 5.11 — conceptual test case judged from IXIT 25-DelFunc.

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


@pytest.mark.conformance("5.11-1-1", scope="conceptual")
def test_5_11_1_1_erasure_covers_user_data(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """The declared deletion functions together erase personal data, user configuration and
    user credentials from the device."""
    conclude(tc, judge("5.11-1-1", bench.profile.ixit, functional_results(run_dir)))
