"""EN 303 645 clause 5.12 — guidance on a secure set-up and on checking it (TS 103 701 5.12-2-1,
5.12-3-1)."""

from __future__ import annotations

import pytest

from harness.cases.guidance import setup_check_guide, setup_guide
from harness.profile.resolve import Bench
from harness.pytest_plugin import conclude
from harness.scope import Scope
from harness.testcase import TestCaseContext


@pytest.mark.conformance("5.12-2-1", scope="profile")
def test_5_12_2_1_secure_setup_guide_published(tc: TestCaseContext, bench: Bench, fetch_scope: Scope,
                                               fetch_ca: str | None) -> None:
    """The set-up guide IXIT 2-UserInfo names can be read without an account and gives at least
    one step on a security topic (passwords, updates, encryption, Wi-Fi security, accounts,
    pairing, switching a service off). Whether the steps lead to a secure set-up stays with the
    assessor."""
    conclude(tc, setup_guide(bench, fetch_scope, fetch_ca))


@pytest.mark.conformance("5.12-3-1", scope="profile")
def test_5_12_3_1_setup_check_guide_published(tc: TestCaseContext, bench: Bench, fetch_scope: Scope,
                                              fetch_ca: str | None) -> None:
    """The guide IXIT 2-UserInfo names for checking the set-up can be read without an account and
    has at least one step telling the user to check, verify or confirm a security setting."""
    conclude(tc, setup_check_guide(bench, fetch_scope, fetch_ca))
