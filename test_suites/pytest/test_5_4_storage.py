"""EN 303 645 clause 5.4 — Securely store sensitive security parameters (TS 103 701 group 5.4)."""

from __future__ import annotations

import pytest

from harness.cases.identity import identity_tamper
from harness.cases.storage import hardcoded_secrets, secrets_at_rest
from harness.checks.passwords import Credential
from harness.device import Device
from harness.profile.resolve import Bench
from harness.pytest_plugin import conclude
from harness.testcase import TestCaseContext


@pytest.mark.conformance("5.4-1-2", state="logged_in")
def test_5_4_1_2_secrets_stored_securely(tc: TestCaseContext, device: Device) -> None:
    """Secrets the harness knows (a Wi-Fi key it stores on the unit, the account's current password)
    must not be readable, in clear or merely re-encoded, at any storage location the IXIT
    10-SecParam declares and the unit shows."""
    conclude(tc, secrets_at_rest(tc, device))


@pytest.mark.conformance("5.4-2-2", state="logged_in")
def test_5_4_2_2_identity_resists_tampering(tc: TestCaseContext, device: Device) -> None:
    """The unit's hard-coded per-device identity stays what it was after a rewrite is attempted
    through every interface the profile declares for it; the device shows the refusal."""
    conclude(tc, identity_tamper(tc, device))


@pytest.mark.conformance("5.4-3-2", scope="profile")
def test_5_4_3_2_no_hardcoded_secrets_in_firmware(tc: TestCaseContext, bench: Bench,
                                                   dictionary: list[Credential]) -> None:
    """The firmware image the manufacturer ships carries no private key, no default password in a
    credential setting, no high-entropy secret in a credential setting and no unit's label password."""
    conclude(tc, hardcoded_secrets(tc, bench, dictionary))
