"""EN 303 645 clauses 5.3 (software updates) and 5.7-1 (secure boot): update test cases."""

from __future__ import annotations

import pytest

from harness.cases import updates
from harness.pytest_plugin import conclude


@pytest.mark.conformance("5.3-2-2", scope="unit")
def test_5_3_2_2_valid_update_installs(tc, device) -> None:  # type: ignore[no-untyped-def]
    """Updates install securely: a newer, correctly signed package offered on the delivered
    firmware installs (the version read afterwards is the package's), and no tampered, unsigned,
    foreign-signed or re-labelled package installs (docs/updates.md)."""
    conclude(tc, updates.valid_update(device))


@pytest.mark.conformance("5.3-7-1", scope="unit")
def test_5_3_7_1_update_cryptography(tc, device) -> None:  # type: ignore[no-untyped-def]
    """Packages carry a best-practice signature (e.g. Ed25519) that the device verifies; the
    transport of each round is in the evidence."""
    conclude(tc, updates.update_crypto(device))


@pytest.mark.conformance("5.3-9-1", scope="unit")
def test_5_3_9_1_genuine_and_unmodified(tc, device) -> None:  # type: ignore[no-untyped-def]
    """Tampered, unsigned, foreign-signed and re-labelled packages are refused by a live device
    and the version stays."""
    conclude(tc, updates.genuine_and_unmodified(device))


@pytest.mark.conformance("5.3-10-1", scope="unit")
def test_5_3_10_1_trust_anchored_network_updates(tc, device) -> None:  # type: ignore[no-untyped-def]
    """Updates delivered over the network are verified against the manufacturer's trust anchor:
    every manipulated package and an older, correctly signed one (rollback) are refused."""
    conclude(tc, updates.trust_anchored(device))


@pytest.mark.conformance("5.3-16-2", scope="unit")
def test_5_3_16_2_model_designation(tc, device) -> None:  # type: ignore[no-untyped-def]
    """The device tells its model designation on an interface, and it is the profile's product."""
    conclude(tc, updates.model_designation(device))


@pytest.mark.conformance("5.7-1-2", scope="unit")
def test_5_7_1_2_tampered_image_never_boots(tc, device) -> None:  # type: ignore[no-untyped-def]
    """Where observable: an image with one changed byte is not booted; the unit keeps running its
    firmware."""
    conclude(tc, updates.secure_boot(device))
