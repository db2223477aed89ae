"""EN 303 645 provision 5.1-5: brute force over network interfaces is impracticable."""

from __future__ import annotations

import pytest

from harness.cases import bruteforce
from harness.pytest_plugin import conclude


@pytest.mark.conformance("5.1-5-2", scope="unit")
def test_5_1_5_2_brute_force_impracticable(tc, device) -> None:  # type: ignore[no-untyped-def]
    """Wrong passwords at concurrency 1 on each declared network login: the device locks out,
    throttles (HTTP 429) or slows down before the attempt budget of the profile is spent.
    Attempts until lockout and the delay growth are reported as measurements."""
    conclude(tc, bruteforce.brute_force_resistance(device))
