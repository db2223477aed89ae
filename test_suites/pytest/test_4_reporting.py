"""EN 303 645 clause 4 — Reporting implementation (TS 103 701 test case 4-1-1)."""

from __future__ import annotations

import pytest

from harness.cases.reporting import ics_justifications
from harness.profile.resolve import Bench
from harness.pytest_plugin import conclude
from harness.testcase import TestCaseContext


@pytest.mark.conformance("4-1-1", scope="profile")
def test_4_1_1_justification_for_every_recommendation_not_met(tc: TestCaseContext, bench: Bench) -> None:
    """The ICS gives a justification for every recommendation the product does not implement
    and for every provision it declares not applicable."""
    conclude(tc, ics_justifications(bench))
