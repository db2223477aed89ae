"""harness.sim.updates.check_factory_image — what the hub's service mode installs: the
manufacturer-signed factory image of this model and nothing else (no rollback path, no defect
switch opens it)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.firmware import build_package, derive
from harness.sim.updates import check_factory_image

MODEL = "SimIoT Hub H1"
KEY = Ed25519PrivateKey.generate()
FACTORY = build_package(b"\x00factory image\xff" * 200, model=MODEL, version="1.4.2", private_key=KEY)


def check(data: bytes) -> tuple[bool, str]:
    decision = check_factory_image(data, [KEY.public_key()], MODEL, "1.4.2")
    return decision.accepted, decision.reason


def test_the_signed_factory_image_is_installed() -> None:
    assert check(FACTORY) == (True, "accepted")


@pytest.mark.parametrize("version", ["1.5.0", "1.4.1", "1.4.2.1"])
def test_another_signed_version_is_refused(version: str) -> None:
    other = build_package(b"\x00image\xff" * 200, model=MODEL, version=version, private_key=KEY)
    accepted, reason = check(other)
    assert not accepted and reason.startswith(f"not the factory image (version {version}")


@pytest.mark.parametrize("kind, reason", [("flip_byte", "signature invalid"), ("strip_signature", "unsigned package"),
                                          ("foreign_signature", "signature invalid"),
                                          ("relabel_version", "signature invalid")])
def test_a_manipulated_factory_image_is_refused(kind: str, reason: str) -> None:
    assert check(derive(FACTORY, kind)) == (False, reason)


def test_another_model_or_garbage_is_refused() -> None:
    camera = build_package(b"\x00image\xff" * 200, model="SimIoT Cam C1", version="1.4.2", private_key=KEY)
    assert check(camera) == (False, "model mismatch")
    assert check(b"not a package") == (False, "malformed package")
