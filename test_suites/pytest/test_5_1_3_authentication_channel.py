"""EN 303 645 provision 5.1-3: authentication mechanisms use best-practice cryptography (the
channel part, judged from a passive capture of the unit's traffic)."""

from __future__ import annotations

import pytest

from harness.cases import traffic
from harness.pytest_plugin import conclude

# The lab broker (or the observed one) watches these test cases: started ahead, in the background.
pytestmark = pytest.mark.lab_broker


@pytest.mark.conformance("5.1-3-2", scope="unit")
def test_5_1_3_2_authentication_over_protected_channel(tc, device) -> None:  # type: ignore[no-untyped-def]
    """Authentication to and by the unit crosses the network only over TLS or SSH.

    Under a capture of the unit's packets (filtered to its declared address), the harness logs in
    again on every interface that has a login and the unit connects to its broker: no credential
    crosses the network in clear (an MQTT CONNECT user name or password, an HTTP Authorization
    header, a password in a query string or form, a cookie, a telnet login) and no login reaches the
    lab broker's plaintext listener. PASS only when authentication was seen over TLS or SSH;
    without a capture INCONCLUSIVE."""
    conclude(tc, traffic.authentication_channel(device))
