"""EN 303 645 clause 5.2 — Means to manage reports of vulnerabilities (TS 103 701 group 5.2)."""

from __future__ import annotations

import pytest

from harness.cases.disclosure import policy_declared, policy_published
from harness.profile.resolve import Bench
from harness.pytest_plugin import conclude
from harness.scope import Scope
from harness.testcase import TestCaseContext


@pytest.mark.conformance("5.2-1-1", scope="profile")
def test_5_2_1_1_disclosure_policy_declared(tc: TestCaseContext, bench: Bench) -> None:
    """IXIT 2-UserInfo says where the vulnerability disclosure policy is published, gives a
    contact, and states the acknowledgement and status-update timelines."""
    conclude(tc, policy_declared(bench))


@pytest.mark.conformance("5.2-1-2", scope="profile")
def test_5_2_1_2_disclosure_policy_published(tc: TestCaseContext, bench: Bench, fetch_scope: Scope,
                                             fetch_ca: str | None) -> None:
    """The published policy is reachable without an account and gives a contact plus the
    acknowledgement and status-update timelines (security.txt per RFC 9116 where declared)."""
    conclude(tc, policy_published(bench, fetch_scope, fetch_ca))
