"""Ed25519 signing keys for firmware packages: generate, load, name.

The `cryptography` package does the cryptography; this module only fixes the file conventions:
``NAME.key`` (PKCS#8 PEM, unencrypted, mode 0600) and ``NAME.pub`` (SubjectPublicKeyInfo PEM).
A key is named in a package header by its *key id*: the first 16 hex digits of the SHA-256 of the
raw 32-byte public key (a hint for the verifier, never a reason to trust).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from harness.firmware.errors import FirmwareError
from harness.redact import REDACTOR

PublicKeyLike = Ed25519PublicKey | Ed25519PrivateKey | str | Path


def key_id(key: Ed25519PublicKey | Ed25519PrivateKey) -> str:
    public = key.public_key() if isinstance(key, Ed25519PrivateKey) else key
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def generate_keypair(directory: str | Path, name: str) -> tuple[Path, Path]:
    """Write ``NAME.key`` and ``NAME.pub`` into ``directory``; refuses to overwrite a key."""
    if not name or "/" in name or name.startswith("."):
        raise FirmwareError(f"key name {name!r}: use a plain file name such as 'manufacturer-test'")
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    private_path, public_path = folder / f"{name}.key", folder / f"{name}.pub"
    for path in (private_path, public_path):
        if path.exists():
            raise FirmwareError(f"{path} exists; a signing key is never overwritten")
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    # O_EXCL + 0600: the private key is never readable by others, not even for an instant.
    fd = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    public_path.write_bytes(key.public_key().public_bytes(serialization.Encoding.PEM,
                                                          serialization.PublicFormat.SubjectPublicKeyInfo))
    return private_path, public_path


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """The Ed25519 signing key of the built-in format (any other kind is refused)."""
    key = load_signing_key(path)
    if not isinstance(key, Ed25519PrivateKey):
        raise FirmwareError(f"{path}: not an Ed25519 private key")
    return key  # type: ignore[no-any-return]


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FirmwareError(f"cannot read public key {path}: {exc.strerror or exc}") from exc
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as exc:
        raise FirmwareError(f"{path}: not a PEM public key ({exc})") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise FirmwareError(f"{path}: not an Ed25519 public key")
    return key


def as_public_keys(keys: Iterable[PublicKeyLike]) -> list[Ed25519PublicKey]:
    """Public keys from key objects or PEM files (a private key stands for its public half)."""
    out: list[Ed25519PublicKey] = []
    for key in keys:
        if isinstance(key, Ed25519PrivateKey):
            out.append(key.public_key())
        elif isinstance(key, Ed25519PublicKey):
            out.append(key)
        else:
            out.append(load_public_key(key))
    return out


def load_signing_key(path: str | Path) -> Any:
    """A manufacturer signing key of any kind a package format may use (Ed25519, ECDSA, RSA):
    unencrypted PEM, registered with the redactor like every signing key."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise FirmwareError(f"cannot read private key {path}: {exc.strerror or exc}") from exc
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as exc:
        raise FirmwareError(f"{path}: not an unencrypted PEM private key ({exc})") from exc
    if not isinstance(key, Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey):
        raise FirmwareError(f"{path}: an {type(key).__name__} cannot sign update packages here")
    REDACTOR.add(data.decode("ascii", errors="replace").strip(), "firmware signing key")
    return key
