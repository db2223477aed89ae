"""EN 303 645 clause 5.8: ensure that personal data is secure (network-side test case)."""

from __future__ import annotations

import pytest

from harness.cases import traffic
from harness.pytest_plugin import conclude

# The lab broker (or the observed one) watches these test cases: started ahead, in the background.
pytestmark = pytest.mark.lab_broker


@pytest.mark.conformance("5.8-2-2", scope="unit")
def test_5_8_2_2_personal_data_confidential(tc, device) -> None:  # type: ignore[no-untyped-def]
    """Personal data (the planted Wi-Fi name) crosses the network only over TLS.

    Judged on what the lab broker (or the observer of the broker fixed in the unit's firmware)
    received and on a capture of the unit's packets, over a whole publishing cycle."""
    conclude(tc, traffic.personal_data_protected(device))
