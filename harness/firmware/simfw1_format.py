"""The SIMFW1 format plugin: inspection and format-aware negative packages."""

from __future__ import annotations

import re
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.firmware import raw, simfw1
from harness.firmware.errors import FirmwareError, PackageError
from harness.firmware.keys import key_id

_NUMERIC = re.compile(r"^(\d+)(\.\d+)*$")


def _parts(version: str) -> list[int]:
    if not _NUMERIC.match(version):
        raise FirmwareError(f"version {version!r} is not dotted numbers; give the version to use explicitly")
    return [int(p) for p in version.split(".")]


def older_version(version: str) -> str:
    """Just below in the last non-zero place, later places zeroed: 1.5.0 → 1.4.0, 1.4.2 → 1.4.1."""
    parts = _parts(version)
    for i in range(len(parts) - 1, -1, -1):
        if parts[i] > 0:
            parts[i] -= 1
            parts[i + 1:] = [0] * (len(parts) - i - 1)
            return ".".join(map(str, parts))
    raise FirmwareError(f"no version is older than {version!r}")


def newer_version(version: str) -> str:
    parts = _parts(version)
    parts[-1] += 1
    return ".".join(map(str, parts))


def _key(kw: dict[str, Any]) -> Ed25519PrivateKey | None:
    key = kw.get("key")
    if key is not None and not isinstance(key, Ed25519PrivateKey):
        raise FirmwareError("key must be an Ed25519 private key (load it with harness.firmware.load_private_key)")
    return key


class Simfw1Format:
    name = "simfw1"
    kinds = ("flip_byte", "strip_signature", "foreign_signature", "relabel_version", "rollback", "truncate")

    def detect(self, data: bytes) -> bool:
        return simfw1.looks_like(data)

    def inspect(self, data: bytes) -> dict[str, Any]:
        pkg = simfw1.parse_package(data)
        return {
            "format": self.name,
            "size": len(data),
            "header": dict(pkg.header),
            "payload_offset": pkg.payload_offset,
            "payload_size": pkg.payload_size,
            "payload_digest_ok": pkg.digest_ok,
            "signed": pkg.signature is not None,
            "signature_hex": pkg.signature.hex() if pkg.signature else None,
        }

    def derive(self, data: bytes, kind: str, **kw: Any) -> bytes:
        pkg = simfw1.parse_package(data)
        if kind == "flip_byte":
            # In the payload, never the header: the package must still parse, so that only the
            # signature (or the digest) check can catch the change.
            if pkg.payload_size == 0:
                raise PackageError("the payload is empty: no payload byte to flip")
            offset = kw.get("offset")
            offset = pkg.payload_size // 2 if offset is None else int(offset)
            if not 0 <= offset < pkg.payload_size:
                raise FirmwareError(f"offset {offset} outside the payload (0..{pkg.payload_size - 1})")
            return raw.flip(data, pkg.payload_offset + offset, int(kw.get("xor") or 0x01))
        if kind == "strip_signature":
            if pkg.signature is None:
                raise PackageError("the package is already unsigned")
            return simfw1.assemble(pkg.header_bytes, pkg.payload, None)
        if kind == "foreign_signature":
            foreign = _key(kw) or Ed25519PrivateKey.generate()
            header = dict(pkg.header)
            if not kw.get("keep_key_id"):
                header["key_id"] = key_id(foreign)
            return simfw1.assemble(header, pkg.payload, foreign)
        if kind == "relabel_version":
            version = kw.get("version") or newer_version(pkg.version)
            header = {**pkg.header, "version": str(version)}
            key = _key(kw)
            if key is not None:
                header["key_id"] = key_id(key)
                return simfw1.assemble(header, pkg.payload, key)
            # The old signature stays: it no longer matches the header it is attached to.
            return simfw1.assemble(header, pkg.payload, None, signature=pkg.signature)
        if kind == "rollback":
            key = _key(kw)
            if key is None:
                raise FirmwareError("rollback needs the manufacturer's private key (--key): an older version "
                                    "must be properly signed, or the test proves nothing about rollback")
            version = str(kw.get("version") or older_version(pkg.version))
            header = {**pkg.header, "version": version, "key_id": key_id(key)}
            return simfw1.assemble(header, pkg.payload, key)
        if kind == "truncate":
            length = kw.get("length")
            return raw.truncate(data, None if length is None else int(length))
        raise FirmwareError(f"unknown kind {kind!r} for {self.name} (supported: {', '.join(self.kinds)})")

    def verify(self, data: bytes, public_keys: list[Any]) -> dict[str, Any]:
        result = simfw1.verify(simfw1.parse_package(data), public_keys)
        return {"valid": result.valid, "reason": result.reason, "key_id": result.key_id}
