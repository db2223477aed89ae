"""SIMFW1: the project's own firmware container (documented in docs/firmware.md).

All integers are big-endian::

    offset      size  field
    0           8     magic  b"SIMFW1\\0\\0"
    8           4     H: header length (1 .. 65536)
    12          H     header: a UTF-8 JSON object (format, model, version, payload_sha256,
                      payload_size, build_date, key_id, sig_alg)
    12+H        P     payload, P = header.payload_size
    12+H+P      2     S: signature length, 0 (unsigned) or 64 (Ed25519)
    14+H+P      S     Ed25519 signature over bytes [0, 12+H+P): magic, length, header, payload
    14+H+P+S    -     end: nothing may follow

The signature covers the header, so the version and model cannot be changed without the
manufacturer's key; the header's payload digest lets a reader tell a damaged payload from a
damaged signature.
"""

from __future__ import annotations

import hashlib
import json
import struct
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.firmware.errors import PackageError
from harness.firmware.keys import PublicKeyLike, as_public_keys, key_id

MAGIC = b"SIMFW1\0\0"
FORMAT = "SIMFW1"
SIG_ALG = "ed25519"
SIG_LEN = 64
MAX_HEADER = 1 << 16
_PREFIX = struct.Struct(">8sI")
_SIGLEN = struct.Struct(">H")
REQUIRED = {"format": str, "model": str, "version": str, "payload_sha256": str, "payload_size": int}


@dataclass(frozen=True)
class Package:
    """A parsed SIMFW1 package. ``raw`` is the file as read; offsets point into it."""

    raw: bytes
    header: dict[str, Any]
    payload_offset: int
    payload_size: int
    signature: bytes | None

    @property
    def model(self) -> str:
        return str(self.header["model"])

    @property
    def version(self) -> str:
        return str(self.header["version"])

    @property
    def key_id(self) -> str | None:
        kid = self.header.get("key_id")
        return str(kid) if kid else None

    @property
    def payload(self) -> bytes:
        return self.raw[self.payload_offset:self.payload_offset + self.payload_size]

    @property
    def header_bytes(self) -> bytes:
        return self.raw[_PREFIX.size:self.payload_offset]

    @property
    def signed_bytes(self) -> bytes:
        """What the signature covers: everything before the signature length field."""
        return self.raw[:self.payload_offset + self.payload_size]

    @property
    def digest_ok(self) -> bool:
        return hashlib.sha256(self.payload).hexdigest() == str(self.header["payload_sha256"]).lower()


@dataclass(frozen=True)
class VerifyResult:
    valid: bool
    reason: str
    key_id: str | None = None  # the trusted key that verified, when valid


def make_header(payload: bytes, *, model: str, version: str, key: Ed25519PrivateKey | None,
                build_date: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
    header: dict[str, Any] = {
        "format": FORMAT,
        "model": model,
        "version": version,
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
        "payload_size": len(payload),
        "build_date": build_date or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "key_id": key_id(key) if key is not None else None,
        "sig_alg": SIG_ALG,
    }
    header.update(extra or {})
    return header


def assemble(header: dict[str, Any] | bytes, payload: bytes, key: Ed25519PrivateKey | None,
             *, signature: bytes | None = None) -> bytes:
    """Lay out a package. With ``key`` it is signed; with ``signature`` those bytes are used as
    they are (the derivations that must carry a signature that no longer fits)."""
    header_bytes = header if isinstance(header, bytes) else json.dumps(
        header, sort_keys=True, separators=(",", ":")).encode()
    if not 0 < len(header_bytes) <= MAX_HEADER:
        raise PackageError(f"header of {len(header_bytes)} bytes (1..{MAX_HEADER} allowed)")
    signed = _PREFIX.pack(MAGIC, len(header_bytes)) + header_bytes + payload
    if key is not None:
        signature = key.sign(signed)
    sig = signature or b""
    return signed + _SIGLEN.pack(len(sig)) + sig


def build_package(payload: bytes, *, model: str, version: str, private_key: Ed25519PrivateKey | None,
                  build_date: str | None = None) -> bytes:
    """A package of ``payload`` for ``model`` at ``version``; unsigned when the key is None."""
    if not model or not version:
        raise PackageError("a package needs a model and a version")
    header = make_header(payload, model=model, version=version, key=private_key, build_date=build_date)
    return assemble(header, payload, private_key)


def looks_like(data: bytes) -> bool:
    return data[:len(MAGIC)] == MAGIC


def parse_package(data: bytes) -> Package:
    """Parse strictly; raises PackageError naming the first thing that is wrong."""
    if len(data) < _PREFIX.size:
        raise PackageError(f"{len(data)} bytes: too short for a SIMFW1 package")
    magic, hlen = _PREFIX.unpack_from(data)
    if magic != MAGIC:
        raise PackageError(f"not a SIMFW1 package (magic {magic!r})")
    if not 0 < hlen <= MAX_HEADER or _PREFIX.size + hlen > len(data):
        raise PackageError(f"header length {hlen} does not fit a {len(data)}-byte file")
    try:
        header = json.loads(data[_PREFIX.size:_PREFIX.size + hlen].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise PackageError(f"header is not UTF-8 JSON: {exc}") from exc
    if not isinstance(header, dict):
        raise PackageError("header is not a JSON object")
    for field, kind in REQUIRED.items():
        if not isinstance(header.get(field), kind) or isinstance(header.get(field), bool):
            raise PackageError(f"header field {field!r} missing or not a {kind.__name__}")
    if header["format"] != FORMAT:
        raise PackageError(f"header says format {header['format']!r}, not {FORMAT}")
    size = header["payload_size"]
    payload_offset = _PREFIX.size + hlen
    sig_field = payload_offset + size
    if size < 0 or sig_field + _SIGLEN.size > len(data):
        raise PackageError(f"payload of {size} bytes does not fit a {len(data)}-byte file")
    (slen,) = _SIGLEN.unpack_from(data, sig_field)
    if slen not in (0, SIG_LEN):
        raise PackageError(f"signature length {slen} (0 or {SIG_LEN} allowed)")
    end = sig_field + _SIGLEN.size + slen
    if end != len(data):
        raise PackageError(f"{len(data) - end:+d} bytes against the declared layout "
                           f"(file {len(data)}, layout {end})")
    signature = data[sig_field + _SIGLEN.size:end] if slen else None
    return Package(data, header, payload_offset, size, signature)


def verify(package: Package, public_keys: list[PublicKeyLike] | tuple[PublicKeyLike, ...]) -> VerifyResult:
    """Check the signature against trusted keys, then the payload digest.

    Every trusted key is tried, whatever ``key_id`` the header names: the header is attacker
    data until the signature has been checked.
    """
    if package.signature is None:
        return VerifyResult(False, "unsigned package")
    signed = package.signed_bytes
    for key in as_public_keys(public_keys):
        try:
            key.verify(package.signature, signed)
        except InvalidSignature:
            continue
        if not package.digest_ok:
            # Only a signer that signed a wrong header can get here.
            return VerifyResult(False, "payload digest mismatch", key_id(key))
        return VerifyResult(True, "ok", key_id(key))
    return VerifyResult(False, "signature invalid")
