"""EN 303 645 provision 5.5-6: critical security parameters are encrypted in transit."""

from __future__ import annotations

import pytest

from harness.cases import connection
from harness.pytest_plugin import conclude

# The lab broker (or the observed one) watches these test cases: started ahead, in the background.
pytestmark = pytest.mark.lab_broker


@pytest.mark.conformance("5.5-6-2", scope="unit")
def test_5_5_6_2_security_parameters_in_transit(tc, device) -> None:  # type: ignore[no-untyped-def]
    """The critical security parameters IXIT 10-SecParam declares (passwords, keys, tokens, a
    planted Wi-Fi key) never cross the network readable: the unit is offered a plaintext and a TLS
    broker listener under a packet capture, and every credential or secret seen in clear is a
    finding. The same observation as 5.5-7-2, judged for every interface, not only remote ones."""
    conclude(tc, connection.security_parameters_in_transit(device))
