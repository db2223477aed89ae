"""harness.firmware: the SIMFW1 container, keys and signature verification."""

from __future__ import annotations

import hashlib
import json
import struct
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.firmware import (
    FirmwareError,
    PackageError,
    build_package,
    generate_keypair,
    key_id,
    load_private_key,
    load_public_key,
    parse_package,
    verify,
)
from harness.firmware.simfw1 import MAGIC
from harness.redact import REDACTOR

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "firmware"
MODEL = "SimIoT Hub H1"


@pytest.fixture(scope="module")
def key() -> Ed25519PrivateKey:
    return Ed25519PrivateKey.generate()


def test_build_parse_roundtrip(key: Ed25519PrivateKey) -> None:
    payload = b"rootfs" * 100
    data = build_package(payload, model=MODEL, version="1.5.0", private_key=key, build_date="2025-01-01T00:00:00Z")
    assert data.startswith(MAGIC)
    pkg = parse_package(data)
    assert pkg.model == MODEL and pkg.version == "1.5.0" and pkg.payload == payload
    assert pkg.header["payload_sha256"] == hashlib.sha256(payload).hexdigest()
    assert pkg.header["payload_size"] == len(payload) and pkg.header["build_date"] == "2025-01-01T00:00:00Z"
    assert pkg.key_id == key_id(key) and len(pkg.signature or b"") == 64
    assert pkg.digest_ok
    assert data == build_package(payload, model=MODEL, version="1.5.0", private_key=key,
                                 build_date="2025-01-01T00:00:00Z")  # Ed25519 is deterministic


def test_verify_both_ways(key: Ed25519PrivateKey) -> None:
    data = build_package(b"x" * 64, model=MODEL, version="1.5.0", private_key=key)
    other = Ed25519PrivateKey.generate()
    good = verify(parse_package(data), [key.public_key()])
    assert good.valid and good.reason == "ok" and good.key_id == key_id(key)
    assert verify(parse_package(data), [other.public_key(), key.public_key()]).valid
    bad = verify(parse_package(data), [other.public_key()])
    assert not bad.valid and bad.reason == "signature invalid"
    unsigned = build_package(b"x", model=MODEL, version="1.5.0", private_key=None)
    assert parse_package(unsigned).signature is None and parse_package(unsigned).key_id is None
    assert verify(parse_package(unsigned), [key.public_key()]).reason == "unsigned package"


def test_signature_covers_header(key: Ed25519PrivateKey) -> None:
    data = build_package(b"payload", model=MODEL, version="1.5.0", private_key=key)
    tampered = data.replace(b'"version":"1.5.0"', b'"version":"9.5.0"')
    assert tampered != data and parse_package(tampered).version == "9.5.0"
    assert verify(parse_package(tampered), [key]).reason == "signature invalid"


def test_signed_wrong_digest_is_reported(key: Ed25519PrivateKey) -> None:
    from harness.firmware.simfw1 import assemble, make_header
    header = make_header(b"one payload", model=MODEL, version="1.0", key=key)
    data = assemble(header, b"a longer payload", key)
    with pytest.raises(PackageError):  # size differs: layout check
        parse_package(data)
    header = make_header(b"same length", model=MODEL, version="1.0", key=key)
    data = assemble(header, b"SAME LENGTH", key)
    assert verify(parse_package(data), [key]).reason == "payload digest mismatch"


@pytest.mark.parametrize("mangle, message", [
    (lambda d: d[:5], "too short"),
    (lambda d: b"NOTFW1\0\0" + d[8:], "magic"),
    (lambda d: d[:8] + struct.pack(">I", 1 << 20) + d[12:], "header length"),
    (lambda d: d[:-10], "bytes against|does not fit|signature length"),
    (lambda d: d + b"extra", "bytes against"),
    (lambda d: d.replace(b'"payload_size":4', b'"payload_size":9'), "does not fit|signature length"),
    (lambda d: d.replace(b'"format":"SIMFW1"', b'"format":"OTHER1"'), "format"),
    (lambda d: d.replace(b'"model":', b'"modem":'), "'model'"),
    (lambda d: d.replace(b'{"', b'["'), "JSON"),
])
def test_parse_rejects_malformed(mangle: object, message: str, key: Ed25519PrivateKey) -> None:
    data = build_package(b"abcd", model=MODEL, version="1.0", private_key=key)
    with pytest.raises(PackageError, match=message):
        parse_package(mangle(data))  # type: ignore[operator]


@settings(max_examples=150, deadline=None)
@given(st.binary(max_size=600))
def test_parse_never_crashes(data: bytes) -> None:
    try:
        parse_package(MAGIC + data)
    except PackageError:
        pass


def test_keypair_files(tmp_path: Path) -> None:
    private_path, public_path = generate_keypair(tmp_path, "lab")
    assert private_path.stat().st_mode & 0o777 == 0o600
    private, public = load_private_key(private_path), load_public_key(public_path)
    assert key_id(private) == key_id(public) and len(key_id(public)) == 16
    assert any("PRIVATE KEY" in s for s in REDACTOR.secrets())  # a loaded signing key is never echoed
    with pytest.raises(FirmwareError, match="never overwritten"):
        generate_keypair(tmp_path, "lab")
    with pytest.raises(FirmwareError, match="not an Ed25519 public key|not a PEM public key"):
        load_public_key(private_path)
    with pytest.raises(FirmwareError, match="cannot read"):
        load_private_key(tmp_path / "missing.key")


def test_committed_fixture_package_is_valid_for_the_simulator() -> None:
    from harness.sim.catalog import FIRMWARE
    from harness.sim.catalog import MODEL as SIM_MODEL
    data = (FIXTURES / "simiot-h1-1.5.0.simfw").read_bytes()
    pkg = parse_package(data)
    public = load_public_key(FIXTURES / "manufacturer-test.pub")
    assert verify(pkg, [public]).valid
    assert pkg.model == SIM_MODEL and pkg.version == "1.5.0" and FIRMWARE == "1.4.2"
    assert pkg.payload == (FIXTURES / "payload-1.5.0.bin").read_bytes()
    assert key_id(load_private_key(FIXTURES / "manufacturer-test.key")) == key_id(public) == pkg.key_id
    assert json.loads(pkg.header_bytes)["sig_alg"] == "ed25519"
