"""EN 303 645 provision 5.8-3 — external sensing capabilities are documented (TS 103 701 5.8-3-1)."""

from __future__ import annotations

import pytest

from harness.cases.sensors import sensors_documented
from harness.device import Device
from harness.pytest_plugin import conclude
from harness.scope import Scope
from harness.testcase import TestCaseContext


@pytest.mark.conformance("5.8-3-1", state="logged_in")
def test_5_8_3_1_sensors_documented(tc: TestCaseContext, device: Device, fetch_scope: Scope,
                                    fetch_ca: str | None) -> None:
    """Every sensor the unit reports is declared in the IXIT 22-ExtSens and named on the
    documentation page the entry points to."""
    conclude(tc, sensors_documented(tc, device, fetch_scope, fetch_ca))
