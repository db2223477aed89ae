"""EN 303 645 provision 5.8-1: personal data in transit between the device and its services is protected."""

from __future__ import annotations

import pytest

from harness.cases import connection
from harness.pytest_plugin import conclude

# The lab broker (or the observed one) watches these test cases: started ahead, in the background.
pytestmark = pytest.mark.lab_broker


@pytest.mark.conformance("5.8-1-2", scope="unit")
def test_5_8_1_2_personal_data_in_transit(tc, device) -> None:  # type: ignore[no-untyped-def]
    """An owner name and location are written the way the companion app does and the unit's
    traffic is captured over a whole publishing cycle: every flow that carries personal data
    (the planted values or the keywords of IXIT 21-PersData) is encrypted."""
    conclude(tc, connection.personal_data_in_transit(device))
