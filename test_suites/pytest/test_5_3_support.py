"""EN 303 645 clause 5.3 — Keep software updated: the defined support period (TS 103 701 5.3-13)."""

from __future__ import annotations

import pytest

from harness.cases.support import support_declared, support_published
from harness.profile.resolve import Bench
from harness.pytest_plugin import conclude
from harness.scope import Scope
from harness.testcase import TestCaseContext


@pytest.mark.conformance("5.3-13-1", scope="profile")
def test_5_3_13_1_support_period_declared(tc: TestCaseContext, bench: Bench) -> None:
    """IXIT 2-UserInfo declares the support period with an end date and where it is published."""
    conclude(tc, support_declared(bench))


@pytest.mark.conformance("5.3-13-2", scope="profile")
def test_5_3_13_2_support_period_published(tc: TestCaseContext, bench: Bench, fetch_scope: Scope,
                                           fetch_ca: str | None) -> None:
    """The support period is published where declared, readable without registration, and
    states the same end date as the IXIT."""
    conclude(tc, support_published(bench, fetch_scope, fetch_ca))
