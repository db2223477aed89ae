"""EN 303 645 clause 5.5: communicate securely (network-side test cases)."""

from __future__ import annotations

import pytest

from harness.cases import communication, traffic
from harness.pytest_plugin import conclude

# The lab broker (or the observed one) watches these test cases: started ahead, in the background.
pytestmark = pytest.mark.lab_broker


@pytest.mark.conformance("5.5-1-2", scope="unit")
def test_5_5_1_2_best_practice_cryptography(tc, device, lab_services) -> None:  # type: ignore[no-untyped-def]
    """Every declared TLS service (sslyze: versions, cipher suites, certificate key and signature,
    Heartbleed, ROBOT) and SSH service (key exchange, host key, ciphers, MACs) meets the profile's
    policy (Mozilla intermediate and RFC 8996 by default); with a lab broker, the unit refuses a
    broker whose certificate comes from an unknown CA (man in the middle)."""
    extra = [traffic.rogue_broker(device)] if "broker" in lab_services else []
    conclude(tc, communication.best_practice_crypto(device, extra=extra))


@pytest.mark.conformance("5.5-5-2", scope="unit", state="logged_out")
def test_5_5_5_2_no_change_without_authentication(tc, device) -> None:  # type: ignore[no-untyped-def]
    """A security-relevant setting sent without credentials is refused by a live device, and an
    authenticated read afterwards shows the old value."""
    conclude(tc, communication.unauthenticated_change(device))


@pytest.mark.conformance("5.5-7-2", scope="unit")
def test_5_5_7_2_security_parameters_confidential(tc, device) -> None:  # type: ignore[no-untyped-def]
    """Offered a plaintext broker listener and then a TLS one, the unit never publishes a
    credential, key or planted Wi-Fi key in plaintext."""
    conclude(tc, traffic.security_parameters_protected(device))
