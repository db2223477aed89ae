"""EN 303 645 clause 5.1 — No universal default passwords (TS 103 701 test group 5.1)."""

from __future__ import annotations

import pytest

from harness.cases import passwords as cases
from harness.checks import passwords as pw
from harness.device import Device
from harness.profile.resolve import Bench
from harness.pytest_plugin import conclude
from harness.results import Observations
from harness.testcase import TestCaseContext


@pytest.mark.conformance("5.1-1-2", state="factory_default")
def test_5_1_1_2_no_universal_default_password(tc: TestCaseContext, device: Device, bench: Bench, unit_id: str,
                                               dictionary: list[pw.Credential], observations: Observations) -> None:
    """Public default credentials never log in, before or after a factory reset, and the unit's
    label password is its own.

    At factory default the unit's label password must work (it is what the user gets) and must
    differ from every other unit's; then every dictionary credential is tried on the login. The
    unit is factory reset and both are repeated: a reset must not bring back a universal default.
    A refusal counts only when the unit printed it and answered right after.
    """
    conclude(tc, cases.no_universal_default_password(tc, device, dictionary, observations))


@pytest.mark.conformance("5.1-2-1", scope="profile")
def test_5_1_2_1_label_password_generation_declared(tc: TestCaseContext, bench: Bench, wordlist: set[str]) -> None:
    """The declared generation mechanism and the label passwords of every unit on the bench show
    no counters, no derivation from public identifiers, no dictionary words and enough entropy."""
    conclude(tc, cases.label_password_generation(bench, wordlist))


@pytest.mark.conformance("5.1-2-2", scope="cross_unit")
def test_5_1_2_2_label_passwords_resist_automated_attack(tc: TestCaseContext, bench: Bench, observations: Observations,
                                                         wordlist: set[str]) -> None:
    """The label passwords the units actually accept (observed by 5.1-1-2 on each unit, possibly in
    other processes) show no regularity an automated attack on the product class could exploit."""
    conclude(tc, cases.label_passwords_resist_attack(tc, bench, observations, wordlist))


@pytest.mark.conformance("5.1-4-2", state="logged_in")
def test_5_1_4_2_user_can_change_password(tc: TestCaseContext, device: Device, unit_id: str,
                                          observations: Observations) -> None:
    """The user can change every password with the documented procedure: each account of IXIT
    1-AuthMech and each credential 5.1-1-2 found working. Afterwards the new password logs in and
    the old one is refused, on the console and on the mechanism's own interface; an account with
    no way to change it fails, named. The delivered passwords are restored at the end."""
    conclude(tc, cases.user_can_change_password(tc, device, observations))
