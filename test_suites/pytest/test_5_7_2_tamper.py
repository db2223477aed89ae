"""EN 303 645 provision 5.7-2 — response to an unauthorised software change (TS 103 701 5.7-2-2)."""

from __future__ import annotations

import pytest

from harness.cases.tamper import tamper_response
from harness.device import Device
from harness.pytest_plugin import conclude
from harness.testcase import TestCaseContext


@pytest.mark.conformance("5.7-2-2", state="logged_in")
def test_5_7_2_2_tampering_alerts_and_restricts(tc: TestCaseContext, device: Device) -> None:
    """After the lab changes the installed software outside the update path, the unit shows the
    alert its IXIT 20-SecBoot describes and its network services stop answering while the unit
    stays alive; the change is undone afterwards."""
    conclude(tc, tamper_response(tc, device))
