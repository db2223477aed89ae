"""EN 303 645 clause 5.3 — Keep software updated: the defined support period (TS 103 701 5.3-13)."""

from __future__ import annotations

import pytest
from harness.checks.support import judge_support_declared, judge_support_published

from harness.documents import fetch_document, user_info
from harness.profile.resolve import Bench
from harness.pytest_plugin import conclude
from harness.scope import Scope
from harness.testcase import TestCaseContext
from harness.verdict import CheckResult


@pytest.mark.conformance("5.3-13-1", scope="profile")
def test_5_3_13_1_support_period_declared(tc: TestCaseContext, bench: Bench) -> None:
    """IXIT 2-UserInfo declares the support period with an end date and where it is published."""
    conclude(tc, judge_support_declared(user_info(bench)))


@pytest.mark.conformance("5.3-13-2", scope="profile")
def test_5_3_13_2_support_period_published(tc: TestCaseContext, bench: Bench, fetch_scope: Scope,
                                           fetch_ca: str | None) -> None:
    """The support period is published where declared, readable without registration, and
    states the same end date as the IXIT."""
    support = bench.profile.ixit.user_info.support_period
    url = user_info(bench).get("support_period", {}) or {}
    url = url.get("published_at")
    if not url:
        conclude(tc, CheckResult.failed("IXIT 2-UserInfo declares no publication location of the support period"))
    conclude(tc, judge_support_published(fetch_document(url, fetch_scope, fetch_ca), support.until if support else None))
