"""EN 303 645 provision 5.9-3: the device connects to networks in an expected, operational and stable way."""

from __future__ import annotations

import pytest

from harness.cases import connection
from harness.pytest_plugin import conclude

# The lab broker (or the observed one) watches these test cases: started ahead, in the background.
pytestmark = pytest.mark.lab_broker


@pytest.mark.conformance("5.9-3-2", scope="unit")
def test_5_9_3_2_orderly_reconnection(tc, device) -> None:  # type: ignore[no-untyped-def]
    """The broker the unit is connected to goes away for the declared window while a packet
    capture counts the unit's connection attempts: no more than IXIT 23-ResMech allows in any
    minute (a steady pace above it, or that many attempts within a minute, is a FAIL; a burst that
    slows down within a shorter watch is INCONCLUSIVE), and the unit connects again once the
    broker is back."""
    conclude(tc, connection.orderly_reconnection(device))
