"""EN 303 645 clause 5.8 — conceptual test cases judged from IXIT 21-PersData and 11-ComMech.

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


@pytest.mark.conformance("5.8-1-1", scope="conceptual")
def test_5_8_1_1_personal_data_confidential_in_transit(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """Mechanisms carrying personal data declare confidentiality with best-practice cryptography."""
    conclude(tc, judge("5.8-1-1", bench.profile.ixit, functional_results(run_dir)))


@pytest.mark.conformance("5.8-2-1", scope="conceptual")
def test_5_8_2_1_sensitive_data_to_services_confidential(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """Mechanisms carrying sensitive personal data to associated services declare confidentiality
    with best-practice cryptography."""
    conclude(tc, judge("5.8-2-1", bench.profile.ixit, functional_results(run_dir)))
