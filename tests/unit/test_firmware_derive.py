"""harness.firmware: negative test packages, the format plugin interface and the byte-level fallback."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import harness.firmware.formats as registry
from harness.firmware import (
    FirmwareError,
    PackageFormat,
    build_package,
    derive,
    detect_format,
    get_format,
    inspect_package,
    key_id,
    list_formats,
    parse_package,
    register_format,
    verify,
)
from harness.firmware.simfw1_format import newer_version, older_version

MODEL = "SimIoT Hub H1"
KEY = Ed25519PrivateKey.generate()
PAYLOAD = bytes(range(256)) * 8
VALID = build_package(PAYLOAD, model=MODEL, version="1.5.0", private_key=KEY)


def differing_offsets(a: bytes, b: bytes) -> list[int]:
    return [i for i, (x, y) in enumerate(zip(a, b, strict=True)) if x != y]


def test_flip_byte_changes_one_payload_byte_and_only_the_signature_catches_it() -> None:
    bad = derive(VALID, "flip_byte")
    pkg = parse_package(bad)  # still parses
    [offset] = differing_offsets(VALID, bad)
    assert pkg.payload_offset <= offset < pkg.payload_offset + pkg.payload_size
    assert offset == pkg.payload_offset + len(PAYLOAD) // 2
    assert pkg.header == parse_package(VALID).header and pkg.signature == parse_package(VALID).signature
    assert verify(pkg, [KEY]).reason == "signature invalid"
    assert verify(parse_package(VALID), [KEY]).valid


def test_flip_byte_at_a_chosen_payload_offset() -> None:
    bad = derive(VALID, "flip_byte", offset=0, xor=0xFF)
    pkg = parse_package(bad)
    assert differing_offsets(VALID, bad) == [pkg.payload_offset] and pkg.payload[0] == 0xFF
    with pytest.raises(FirmwareError, match="outside the payload"):
        derive(VALID, "flip_byte", offset=len(PAYLOAD))


def test_strip_signature() -> None:
    pkg = parse_package(derive(VALID, "strip_signature"))
    assert pkg.signature is None and pkg.payload == PAYLOAD and pkg.header == parse_package(VALID).header
    assert verify(pkg, [KEY]).reason == "unsigned package"
    with pytest.raises(FirmwareError, match="already unsigned"):
        derive(derive(VALID, "strip_signature"), "strip_signature")


def test_foreign_signature_is_well_formed_but_untrusted() -> None:
    foreign = Ed25519PrivateKey.generate()
    pkg = parse_package(derive(VALID, "foreign_signature", key=foreign))
    assert pkg.key_id == key_id(foreign) and verify(pkg, [foreign]).valid  # a correct signature …
    assert verify(pkg, [KEY]).reason == "signature invalid"  # … by a key the device does not trust
    kept = parse_package(derive(VALID, "foreign_signature", keep_key_id=True))  # an ephemeral key
    assert kept.key_id == key_id(KEY) and verify(kept, [KEY]).reason == "signature invalid"


def test_relabel_version_without_and_with_key() -> None:
    unsigned_relabel = parse_package(derive(VALID, "relabel_version"))
    assert unsigned_relabel.version == "1.5.1" and unsigned_relabel.signature == parse_package(VALID).signature
    assert verify(unsigned_relabel, [KEY]).reason == "signature invalid"
    resigned = parse_package(derive(VALID, "relabel_version", version="3.0.0", key=KEY))
    assert resigned.version == "3.0.0" and verify(resigned, [KEY]).valid


def test_rollback_needs_the_key_and_is_properly_signed() -> None:
    with pytest.raises(FirmwareError, match="needs the manufacturer's private key"):
        derive(VALID, "rollback")
    pkg = parse_package(derive(VALID, "rollback", key=KEY))
    assert pkg.version == "1.4.0" and verify(pkg, [KEY]).valid and pkg.payload == PAYLOAD
    assert parse_package(derive(VALID, "rollback", key=KEY, version="1.4.1")).version == "1.4.1"


def test_truncate_is_malformed() -> None:
    cut = derive(VALID, "truncate")
    assert len(cut) == len(VALID) // 2
    with pytest.raises(FirmwareError):
        parse_package(cut)
    assert len(derive(VALID, "truncate", length=10)) == 10


@pytest.mark.parametrize("version, older, newer", [
    ("1.5.0", "1.4.0", "1.5.1"), ("1.4.2", "1.4.1", "1.4.3"), ("2.0.0", "1.0.0", "2.0.1"), ("10", "9", "11"),
])
def test_version_steps(version: str, older: str, newer: str) -> None:
    assert older_version(version) == older and newer_version(version) == newer


def test_version_steps_refuse_what_they_cannot_order() -> None:
    with pytest.raises(FirmwareError):
        older_version("0.0.0")
    with pytest.raises(FirmwareError, match="explicitly"):
        older_version("v1-beta")


def test_inspect_simfw1() -> None:
    info = inspect_package(VALID)
    assert info["format"] == "simfw1" and info["header"]["version"] == "1.5.0"
    assert info["signed"] and info["payload_digest_ok"] and info["payload_size"] == len(PAYLOAD)
    assert inspect_package(derive(VALID, "flip_byte"))["payload_digest_ok"] is False


def test_unknown_bytes_fall_back_to_byte_level() -> None:
    blob = b"\x1f\x8b" + bytes(range(200))
    fmt = detect_format(blob)
    assert fmt.name == "raw"
    info = inspect_package(blob)
    assert info["looks_like"] == "gzip" and info["size"] == 202 and 0 < info["entropy_bits_per_byte"] <= 8
    assert differing_offsets(blob, derive(blob, "flip_byte")) == [101]
    assert derive(blob, "flip_byte", offset=5, xor=0x80)[5] == blob[5] ^ 0x80
    assert derive(blob, "truncate", length=3) == blob[:3]
    with pytest.raises(FirmwareError, match="cannot derive.*add a format plugin"):
        derive(blob, "strip_signature")
    with pytest.raises(FirmwareError, match="cannot derive"):
        derive(blob, "rollback", key=KEY)
    # A SIMFW1 file can be treated byte-wise on request: the flip then lands wherever asked.
    assert differing_offsets(VALID, derive(VALID, "flip_byte", format="raw", offset=20)) == [20]


class ToyFormat:
    """A vendor format in a dozen lines: 'TOY1' + version byte + payload."""

    name = "toy"
    kinds = ("flip_byte", "relabel_version")

    def detect(self, data: bytes) -> bool:
        return data.startswith(b"TOY1")

    def inspect(self, data: bytes) -> dict[str, Any]:
        return {"format": self.name, "version": data[4]}

    def derive(self, data: bytes, kind: str, **kw: Any) -> bytes:
        if kind == "relabel_version":
            return data[:4] + bytes([int(kw.get("version") or data[4] + 1)]) + data[5:]
        return data[:5] + bytes([data[5] ^ 1]) + data[6:]


@pytest.fixture
def toy_registered() -> Any:
    saved = list(registry._REGISTRY)
    register_format(ToyFormat())
    yield
    registry._REGISTRY[:] = saved


def test_a_format_plugin_is_asked_first(toy_registered: None) -> None:
    toy = b"TOY1\x03payload"
    assert isinstance(get_format("toy"), PackageFormat)
    assert detect_format(toy).name == "toy" and detect_format(VALID).name == "simfw1"
    assert inspect_package(toy) == {"format": "toy", "version": 3}
    assert derive(toy, "relabel_version")[4] == 4
    assert [f.name for f in list_formats()][-1] == "raw"
    with pytest.raises(FirmwareError, match="cannot derive 'truncate'"):
        derive(toy, "truncate")


def test_plugin_loading_by_spec(toy_registered: None) -> None:
    fmt = registry.load_plugin("harness.firmware.raw:RawFormat")
    assert fmt.name == "raw"
    with pytest.raises(FirmwareError, match="module:attr"):
        registry.load_plugin("nocolon")
    with pytest.raises(FirmwareError, match="format plugin"):
        registry.load_plugin("no_such_module_xyz:Thing")
    with pytest.raises(FirmwareError, match="does not implement"):
        register_format(object())  # type: ignore[arg-type]
