"""EN 303 645 clause 5.11 — deleting user data: the published instructions and the confirmation
(TS 103 701 5.11-3-1, 5.11-4-1)."""

from __future__ import annotations

import pytest

from harness.cases.guidance import deletion_confirmation, deletion_instructions
from harness.device import Device
from harness.profile.resolve import Bench
from harness.pytest_plugin import conclude
from harness.scope import Scope
from harness.testcase import TestCaseContext


@pytest.mark.conformance("5.11-3-1", scope="profile")
def test_5_11_3_1_deletion_instructions_published(tc: TestCaseContext, bench: Bench, fetch_scope: Scope,
                                                  fetch_ca: str | None) -> None:
    """The page IXIT 2-UserInfo names for deleting personal data can be read without an account,
    and for every deletion function of IXIT 25-DelFunc it says how to start it (the command-like
    words of its initiation, e.g. `factory-reset`) and what it deletes (its target, or a keyword of
    the IXIT 21-PersData item of that name). Whether following the steps deletes the data is
    5.11-1-2's functional test."""
    conclude(tc, deletion_instructions(bench, fetch_scope, fetch_ca))


@pytest.mark.conformance("5.11-4-1", state="logged_in")
def test_5_11_4_1_deletion_is_confirmed(tc: TestCaseContext, device: Device) -> None:
    """With user data on the unit, each deletion function of IXIT 25-DelFunc is run, and the unit
    must show the confirmation its entry declares (a regular expression) once the deletion is
    done; a deletion that completes without it fails."""
    conclude(tc, deletion_confirmation(tc, device))
