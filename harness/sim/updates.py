"""The simulated device's update verifier: may this package be installed?

This is *device firmware*, written from the SIMFW1 layout in docs/firmware.md, and deliberately
does not import harness.firmware (the harness's own parser and derivation code). A real device's
verifier is never the tester's code; sharing one parser would make the update tests circular — a
parser bug would be agreed on by the tool that derives the negative packages and by the device that
should refuse them, and no test would notice. Two readers of one documented format check each
other instead (tests/unit/test_sim_updates.py feeds this verifier what harness.firmware builds).

No I/O here: the simulator hands in the bytes it received by HTTP upload, URL fetch or serial, and
prints the decision's reason the way a device would.
"""

from __future__ import annotations

import hashlib
import json
import struct
from collections.abc import Iterable
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from packaging.version import InvalidVersion, Version

_MAGIC = b"SIMFW1\0\0"
_HEAD = struct.Struct(">8sI")
_SLEN = struct.Struct(">H")
_MAX_HEADER = 1 << 16
MAX_PACKAGE = 32 << 20  # what the device's update partition holds


@dataclass(frozen=True)
class UpdateDecision:
    accepted: bool
    reason: str  # the words the device prints: "signature invalid", "unsigned package", …
    version: str | None
    code: str = ""  # accepted | unsigned | signature_invalid | digest_mismatch | model_mismatch |
    #                 rollback | malformed — for the simulator's logic, not for printing
    detail: str = ""


class UpdateParserCrash(RuntimeError):
    """The defect ``crashes_on_malformed``: the parser fell over instead of refusing.

    The simulator decides what the crash looks like (update service gone, an oops on the console).
    """


class _Malformed(Exception):
    pass


@dataclass(frozen=True)
class _Parsed:
    model: str
    version: str
    payload_sha256: str
    payload: bytes
    signed: bytes
    signature: bytes | None


def load_trusted_key(data: bytes) -> Ed25519PublicKey:
    """A trusted key from PEM (text before the PEM block is allowed) or 32 raw bytes."""
    if len(data) == 32:
        return Ed25519PublicKey.from_public_bytes(data)
    key = serialization.load_pem_public_key(data)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("the device trusts Ed25519 keys only")
    return key


def _parse(data: bytes) -> _Parsed:
    if len(data) > MAX_PACKAGE:
        raise _Malformed(f"{len(data)} bytes exceeds the {MAX_PACKAGE}-byte update partition")
    if len(data) < _HEAD.size or data[:len(_MAGIC)] != _MAGIC:
        raise _Malformed("bad magic")
    _, hlen = _HEAD.unpack_from(data)
    if not 0 < hlen <= _MAX_HEADER or _HEAD.size + hlen > len(data):
        raise _Malformed(f"header length {hlen}")
    try:
        header = json.loads(data[_HEAD.size:_HEAD.size + hlen])
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _Malformed(f"header: {exc}") from None
    if not isinstance(header, dict):
        raise _Malformed("header is not an object")
    model, version, digest, size = (header.get(k) for k in ("model", "version", "payload_sha256", "payload_size"))
    if not (isinstance(model, str) and isinstance(version, str) and isinstance(digest, str)
            and isinstance(size, int) and not isinstance(size, bool) and size >= 0):
        raise _Malformed("header fields")
    start = _HEAD.size + hlen
    sig_at = start + size
    if sig_at + _SLEN.size > len(data):
        raise _Malformed("payload runs past the end")
    (slen,) = _SLEN.unpack_from(data, sig_at)
    if slen not in (0, 64) or sig_at + _SLEN.size + slen != len(data):
        raise _Malformed("signature block")
    signature = data[sig_at + _SLEN.size:] if slen else None
    return _Parsed(model, version, digest.lower(), data[start:sig_at], data[:sig_at], signature)


class UpdateVerifier:
    """Decides on one package. ``current_version`` is updated by the simulator after an install."""

    def __init__(self, trusted_public_keys: Iterable[Ed25519PublicKey | bytes], current_version: str, model: str,
                 *, accepts_unsigned: bool = False, accepts_tampered: bool = False, accepts_rollback: bool = False,
                 crashes_on_malformed: bool = False) -> None:
        self.trusted = [k if isinstance(k, Ed25519PublicKey) else load_trusted_key(k) for k in trusted_public_keys]
        self.current_version = current_version
        self.model = model
        self.accepts_unsigned = accepts_unsigned
        self.accepts_tampered = accepts_tampered
        self.accepts_rollback = accepts_rollback
        self.crashes_on_malformed = crashes_on_malformed

    def check(self, data: bytes) -> UpdateDecision:
        try:
            pkg = _parse(data)
        except _Malformed as exc:
            if self.crashes_on_malformed:
                raise UpdateParserCrash(f"update parser crashed on malformed input ({exc})") from exc
            return UpdateDecision(False, "malformed package", None, "malformed", str(exc))
        try:
            offered = Version(pkg.version)
            installed = Version(self.current_version)
        except InvalidVersion:
            return UpdateDecision(False, "malformed package", None, "malformed", f"version {pkg.version!r}")

        if pkg.signature is None:
            if not self.accepts_unsigned:
                return UpdateDecision(False, "unsigned package", pkg.version, "unsigned")
        elif not self._signature_ok(pkg) and not self.accepts_tampered:
            return UpdateDecision(False, "signature invalid", pkg.version, "signature_invalid")
        if hashlib.sha256(pkg.payload).hexdigest() != pkg.payload_sha256 and not self.accepts_tampered:
            return UpdateDecision(False, "payload digest mismatch", pkg.version, "digest_mismatch")
        if pkg.model != self.model:
            return UpdateDecision(False, "model mismatch", pkg.version, "model_mismatch",
                                  f"package for {pkg.model!r}, device is {self.model!r}")
        if offered < installed and not self.accepts_rollback:
            return UpdateDecision(False, f"version {pkg.version} older than installed {self.current_version}",
                                  pkg.version, "rollback")
        return UpdateDecision(True, "accepted", pkg.version, "accepted")

    def _signature_ok(self, pkg: _Parsed) -> bool:
        assert pkg.signature is not None
        for key in self.trusted:
            try:
                key.verify(pkg.signature, pkg.signed)
                return True
            except InvalidSignature:
                continue
        return False


def check_factory_image(data: bytes, trusted: Iterable[Ed25519PublicKey | bytes], model: str,
                        factory_version: str) -> UpdateDecision:
    """The bootloader's service mode (harness.sim.recovery): it installs the manufacturer-signed
    *factory* image of this model and nothing else — no newer or older version, no unsigned or
    tampered package, whatever the update service's defect switches say (the bootloader is its own,
    strict program). That keeps the recovery path from being a rollback path: it only goes back to
    what the unit was delivered with, and only with physical access (the button at power-on)."""
    decision = UpdateVerifier(trusted, "0", model).check(data)  # installed "0": no version is older
    if not decision.accepted:
        return decision
    if decision.version != factory_version:
        return UpdateDecision(False, f"not the factory image (version {decision.version}; this unit ships "
                                     f"{factory_version})", decision.version, "not_factory")
    return decision
