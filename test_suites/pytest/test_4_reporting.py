"""EN 303 645 clause 4 — Reporting implementation (TS 103 701 test case 4-1-1)."""

from __future__ import annotations

import pytest
from harness.checks.ics import judge_justifications

from harness.profile.resolve import Bench
from harness.pytest_plugin import conclude
from harness.standard import load_catalogue
from harness.testcase import TestCaseContext


@pytest.mark.conformance("4-1-1", scope="profile")
def test_4_1_1_justification_for_every_recommendation_not_met(tc: TestCaseContext, bench: Bench) -> None:
    """The ICS gives a justification for every recommendation the product does not implement
    and for every provision it declares not applicable."""
    cat = load_catalogue()
    statuses = {pid: p.status for pid, p in cat.provisions.items()}
    ics = {pid: entry.model_dump() for pid, entry in bench.profile.ics.provisions.items()}
    conclude(tc, judge_justifications(statuses, ics))
