"""EN 303 645 clause 5.8: ensure that personal data is secure (network-side test case)."""

from __future__ import annotations

import pytest

from harness.cases import traffic
from harness.pytest_plugin import conclude


@pytest.mark.conformance("5.8-2-2", scope="unit")
def test_5_8_2_2_personal_data_confidential(tc, device) -> None:  # type: ignore[no-untyped-def]
    """What the unit publishes through the lab broker carries personal data (the planted Wi-Fi
    name) only over TLS."""
    conclude(tc, traffic.personal_data_protected(device))
