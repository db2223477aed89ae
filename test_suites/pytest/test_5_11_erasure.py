"""EN 303 645 clause 5.11 — Make it easy for users to delete user data (TS 103 701 group 5.11)."""

from __future__ import annotations

import pytest

from harness.cases.erasure import user_data_erasure
from harness.device import Device
from harness.pytest_plugin import conclude
from harness.testcase import TestCaseContext


@pytest.mark.conformance("5.11-1-2", state="logged_in")
def test_5_11_1_2_factory_reset_erases_user_data(tc: TestCaseContext, device: Device) -> None:
    """Typical user data (Wi-Fi credentials) planted on the unit is gone after the documented
    erasure function (factory reset), and the absence is read back from the live unit."""
    conclude(tc, user_data_erasure(tc, device))
