"""EN 303 645 clause 6 — information on personal data and telemetry (TS 103 701 6-1-2, 6-5-2)."""

from __future__ import annotations

import pytest

from harness.cases.guidance import privacy_notice, telemetry_notice
from harness.profile.resolve import Bench
from harness.pytest_plugin import conclude
from harness.scope import Scope
from harness.testcase import TestCaseContext


@pytest.mark.conformance("6-1-2", scope="profile")
def test_6_1_2_privacy_notice_describes_personal_data(tc: TestCaseContext, bench: Bench, fetch_scope: Scope,
                                                      fetch_ca: str | None) -> None:
    """The privacy notice IXIT 2-UserInfo names can be read without an account and, for every
    kind of personal data in IXIT 21-PersData, names it (its keywords, else its name) in a passage
    that states the declared purpose, and names who processes it (processed_by)."""
    conclude(tc, privacy_notice(bench, fetch_scope, fetch_ca))


@pytest.mark.conformance("6-5-2", scope="profile")
def test_6_5_2_telemetry_notice_describes_telemetry(tc: TestCaseContext, bench: Bench, fetch_scope: Scope,
                                                    fetch_ca: str | None) -> None:
    """The telemetry notice (IXIT 2-UserInfo telemetry_notice, else the privacy notice) can be read
    without an account and names every IXIT 24-TelData item in a passage that states its declared
    purpose."""
    conclude(tc, telemetry_notice(bench, fetch_scope, fetch_ca))
