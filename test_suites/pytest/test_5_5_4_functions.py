"""EN 303 645 provision 5.5-4 — device functions over the network need authentication (TS 103 701 5.5-4-2)."""

from __future__ import annotations

import pytest

from harness.cases.functions import functions_need_auth
from harness.device import Device
from harness.pytest_plugin import conclude
from harness.testcase import TestCaseContext


@pytest.mark.conformance("5.5-4-2", scope="unit")
def test_5_5_4_2_network_functions_need_authentication(tc: TestCaseContext, device: Device) -> None:
    """Every device function the IXIT 13-SoftServ declares as authenticated refuses a call that
    carries no credentials, and the unit answers right after the refusal."""
    conclude(tc, functions_need_auth(tc, device))
