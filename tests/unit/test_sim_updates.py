"""harness.sim.updates: the simulated device's verifier, fed what harness.firmware builds and derives.

Each defect switch is proven both ways: the package is refused without it, accepted with it, and a
switch never opens a door it is not named for.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.firmware import build_package, derive
from harness.sim.updates import UpdateParserCrash, UpdateVerifier

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "firmware"
MODEL = "SimIoT Hub H1"
KEY = Ed25519PrivateKey.generate()
VALID = build_package(b"\x00firmware image\xff" * 200, model=MODEL, version="1.5.0", private_key=KEY)

DEFECTS = ("accepts_unsigned", "accepts_tampered", "accepts_rollback")


def device(installed: str = "1.4.2", **defects: bool) -> UpdateVerifier:
    return UpdateVerifier([KEY.public_key()], installed, MODEL, **defects)


def test_valid_newer_package_is_accepted() -> None:
    decision = device().check(VALID)
    assert decision.accepted and decision.version == "1.5.0" and decision.code == "accepted"


@pytest.mark.parametrize("kind, kw, reason, defect", [
    ("flip_byte", {}, "signature invalid", "accepts_tampered"),
    ("foreign_signature", {}, "signature invalid", "accepts_tampered"),
    ("relabel_version", {"version": "2.0.0"}, "signature invalid", "accepts_tampered"),
    ("strip_signature", {}, "unsigned package", "accepts_unsigned"),
    ("rollback", {"key": KEY, "version": "1.4.1"}, "version 1.4.1 older than installed 1.4.2", "accepts_rollback"),
])
def test_each_negative_package_is_refused_and_only_its_defect_accepts_it(
        kind: str, kw: dict[str, object], reason: str, defect: str) -> None:
    bad = derive(VALID, kind, **kw)
    refused = device().check(bad)
    assert not refused.accepted and refused.reason == reason
    assert device(**{defect: True}).check(bad).accepted
    for other in DEFECTS:
        if other != defect:
            assert not device(**{other: True}).check(bad).accepted, other


def test_tampered_unsigned_package_needs_more_than_accepts_unsigned() -> None:
    stripped_and_flipped = derive(derive(VALID, "strip_signature"), "flip_byte")
    assert device(accepts_unsigned=True).check(stripped_and_flipped).reason == "payload digest mismatch"
    assert device(accepts_unsigned=True, accepts_tampered=True).check(stripped_and_flipped).accepted


def test_model_mismatch() -> None:
    other = build_package(b"x", model="SimIoT Plug P2", version="1.5.0", private_key=KEY)
    decision = device().check(other)
    assert not decision.accepted and decision.reason == "model mismatch" and "SimIoT Plug P2" in decision.detail


def test_malformed_is_refused_or_crashes_with_the_defect() -> None:
    truncated = derive(VALID, "truncate")
    decision = device().check(truncated)
    assert not decision.accepted and decision.reason == "malformed package" and decision.version is None
    with pytest.raises(UpdateParserCrash):
        device(crashes_on_malformed=True).check(truncated)
    assert device(crashes_on_malformed=True).check(VALID).accepted  # only malformed input crashes it


@pytest.mark.parametrize("installed, offered, accepted", [
    ("1.9.9", "1.10.0", True),
    ("1.10.0", "1.9.9", False),
    ("1.4.2", "1.4.2", True),  # re-installing the installed version is not a rollback
    ("2.0.0", "2.0.0rc1", False),
    ("1.4.2", "1.4.10", True),
])
def test_versions_compare_semantically(installed: str, offered: str, accepted: bool) -> None:
    pkg = build_package(b"p", model=MODEL, version=offered, private_key=KEY)
    decision = device(installed).check(pkg)
    assert decision.accepted is accepted
    if not accepted:
        assert decision.reason == f"version {offered} older than installed {installed}"


def test_unparseable_version_is_malformed() -> None:
    pkg = build_package(b"p", model=MODEL, version="banana", private_key=KEY)
    assert device().check(pkg).reason == "malformed package"


def test_trusted_keys_from_pem_and_raw_bytes() -> None:
    fixture_pub = (FIXTURES / "manufacturer-test.pub").read_bytes()
    package = (FIXTURES / "simiot-h1-1.5.0.simfw").read_bytes()
    assert UpdateVerifier([fixture_pub], "1.4.2", MODEL).check(package).accepted
    raw = KEY.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    assert UpdateVerifier([raw], "1.4.2", MODEL).check(VALID).accepted
    assert UpdateVerifier([fixture_pub], "1.4.2", MODEL).check(VALID).reason == "signature invalid"


def test_current_version_follows_installs() -> None:
    dev = device()
    decision = dev.check(VALID)
    dev.current_version = decision.version or dev.current_version
    older = build_package(b"p", model=MODEL, version="1.4.2", private_key=KEY)
    assert dev.check(older).reason == "version 1.4.2 older than installed 1.5.0"


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=len(VALID) - 1), st.integers(min_value=1, max_value=255))
def test_no_single_byte_change_anywhere_is_accepted(offset: int, xor: int) -> None:
    mutated = bytearray(VALID)
    mutated[offset] ^= xor
    decision = device().check(bytes(mutated))
    assert not decision.accepted


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=400))
def test_arbitrary_bytes_never_crash_the_guarded_parser(data: bytes) -> None:
    for blob in (data, VALID[:12] + data):
        assert not device().check(blob).accepted
