"""The generic container format: a tar or zip archive with a manifest and a detached signature,
described in YAML instead of code.

Many vendor update packages are exactly that: an archive holding the firmware image(s), a JSON or
YAML manifest naming the version (and often the images' SHA-256), and a signature file over the
manifest (or over manifest and images) made with Ed25519, ECDSA or RSA. A profile describes where
each piece is (``updates.container``), and the harness derives the negative packages for it:

    updates:
      valid: fw/cam-2.1.0.tar.gz
      format: container
      container:
        archive: tar                      # tar (plain or compressed) or zip
        manifest: manifest.json
        version_field: version            # dotted path inside the manifest
        payload: [rootfs.img]
        digests: {rootfs.img: files.rootfs.sha256}
        signature: {member: manifest.sig, algorithm: ecdsa-p256-sha256, signs: [manifest.json]}

Every derived package keeps the archive's member order, names and metadata, so that only the
change under test differs from the valid package.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import BaseModel, ConfigDict, Field

from harness.firmware import raw
from harness.firmware.errors import FirmwareError, PackageError
from harness.firmware.simfw1_format import newer_version, older_version

ALGORITHMS = ("ed25519", "ecdsa-p256-sha256", "ecdsa-p384-sha384", "rsa-pss-sha256", "rsa-pkcs1v15-sha256")
Algorithm = Literal["ed25519", "ecdsa-p256-sha256", "ecdsa-p384-sha384", "rsa-pss-sha256", "rsa-pkcs1v15-sha256"]


class SignatureSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    member: str = Field(description="Archive member holding the detached signature.")
    algorithm: Algorithm = Field(description="Signature algorithm: " + ", ".join(ALGORITHMS) + ".")
    signs: list[str] = Field(default_factory=list, description=(
        "Members whose bytes, concatenated in this order, are signed (default: the manifest)."))
    encoding: Literal["raw", "base64", "hex"] = Field("raw", description="How the signature file stores it.")


class ContainerSpec(BaseModel):
    """Where the version, images and signature of a tar/zip update package are."""

    model_config = ConfigDict(extra="forbid")

    archive: Literal["tar", "zip"] = Field(description="tar (plain, gzip, bzip2 or xz) or zip.")
    manifest: str = Field(description="Archive member holding the manifest.")
    manifest_format: Literal["json", "yaml"] = "json"
    version_field: str = Field("version", description="Dotted path of the version inside the manifest.")
    payload: list[str] = Field(min_length=1, description="Firmware image members (a changed byte goes in the first).")
    digests: dict[str, str] = Field(default_factory=dict, description=(
        "Image member → dotted manifest path of its SHA-256 (hex), when the manifest lists digests."))
    signature: SignatureSpec | None = None


@dataclass
class _Member:
    name: str
    data: bytes
    info: Any  # tarfile.TarInfo | zipfile.ZipInfo, kept so a rebuilt archive differs only where meant


_TAR_MAGIC = {b"\x1f\x8b": "gz", b"BZh": "bz2", b"\xfd7zXZ\x00": "xz"}


class _Archive:
    def __init__(self, kind: str, members: list[_Member], compression: str = "") -> None:
        self.kind, self.members, self.compression = kind, members, compression

    @classmethod
    def read(cls, data: bytes, kind: str) -> _Archive:
        try:
            if kind == "zip":
                with zipfile.ZipFile(io.BytesIO(data)) as zf:
                    return cls("zip", [_Member(i.filename, zf.read(i), i) for i in zf.infolist() if not i.is_dir()])
            compression = next((c for magic, c in _TAR_MAGIC.items() if data.startswith(magic)), "")
            members = []
            with tarfile.open(fileobj=io.BytesIO(data), mode="r:*") as tf:
                for info in tf.getmembers():
                    if info.isfile():
                        fh = tf.extractfile(info)
                        members.append(_Member(info.name, fh.read() if fh else b"", info))
            return cls("tar", members, compression)
        except (tarfile.TarError, zipfile.BadZipFile, EOFError, OSError) as exc:
            raise PackageError(f"not a readable {kind} archive: {exc}") from None

    def get(self, name: str) -> bytes | None:
        return next((m.data for m in self.members if m.name == name), None)

    def put(self, name: str, data: bytes) -> None:
        for m in self.members:
            if m.name == name:
                m.data = data
                return
        info: Any = zipfile.ZipInfo(name) if self.kind == "zip" else tarfile.TarInfo(name)
        self.members.append(_Member(name, data, info))

    def drop(self, name: str) -> None:
        self.members = [m for m in self.members if m.name != name]

    def write(self) -> bytes:
        out = io.BytesIO()
        if self.kind == "zip":
            with zipfile.ZipFile(out, "w") as zf:
                for m in self.members:
                    zf.writestr(m.info, m.data)
            return out.getvalue()
        mode = f"w:{self.compression}" if self.compression else "w"
        with tarfile.open(fileobj=out, mode=mode) as tf:  # type: ignore[call-overload]
            for m in self.members:
                info = m.info
                info.size = len(m.data)
                tf.addfile(info, io.BytesIO(m.data))
        return out.getvalue()


def _get_path(doc: Any, path: str) -> Any:
    cur = doc
    for part in path.split("."):
        if not isinstance(cur, dict) or part not in cur:
            return None
        cur = cur[part]
    return cur


def _set_path(doc: dict[str, Any], path: str, value: Any) -> None:
    parts = path.split(".")
    cur = doc
    for part in parts[:-1]:
        cur = cur.setdefault(part, {})
        if not isinstance(cur, dict):
            raise PackageError(f"manifest field {path!r}: {part!r} is not a mapping")
    cur[parts[-1]] = value


def _load_public(path: str | Path) -> Any:
    from cryptography.hazmat.primitives import serialization
    try:
        return serialization.load_pem_public_key(Path(path).read_bytes())
    except (OSError, ValueError, TypeError) as exc:
        raise FirmwareError(f"{path}: not a readable PEM public key ({exc})") from None


def _new_key(algorithm: str) -> Any:
    if algorithm == "ed25519":
        return Ed25519PrivateKey.generate()
    if algorithm.startswith("ecdsa-p256"):
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm.startswith("ecdsa-p384"):
        return ec.generate_private_key(ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _hash(algorithm: str) -> hashes.HashAlgorithm:
    return hashes.SHA384() if algorithm.endswith("sha384") else hashes.SHA256()


def sign(algorithm: str, key: Any, data: bytes) -> bytes:
    """A signature of ``data`` with ``key`` (a cryptography private key) by ``algorithm``."""
    try:
        if algorithm == "ed25519":
            return key.sign(data)
        if algorithm.startswith("ecdsa"):
            return key.sign(data, ec.ECDSA(_hash(algorithm)))
        if algorithm == "rsa-pss-sha256":
            return key.sign(data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
                            hashes.SHA256())
        return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
    except (TypeError, AttributeError) as exc:
        raise FirmwareError(f"the key ({type(key).__name__}) cannot make an {algorithm} signature") from exc


def verify_signature(algorithm: str, public_key: Any, signature: bytes, data: bytes) -> bool:
    try:
        if algorithm == "ed25519" and isinstance(public_key, Ed25519PublicKey):
            public_key.verify(signature, data)
        elif algorithm.startswith("ecdsa") and isinstance(public_key, ec.EllipticCurvePublicKey):
            public_key.verify(signature, data, ec.ECDSA(_hash(algorithm)))
        elif algorithm == "rsa-pss-sha256" and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                                           salt_length=padding.PSS.AUTO), hashes.SHA256())
        elif algorithm == "rsa-pkcs1v15-sha256" and isinstance(public_key, rsa.RSAPublicKey):
            public_key.verify(signature, data, padding.PKCS1v15(), hashes.SHA256())
        else:
            return False
    except InvalidSignature:
        return False
    return True


class ContainerFormat:
    """A PackageFormat for one described container (``ContainerSpec``)."""

    kinds = ("flip_byte", "strip_signature", "foreign_signature", "relabel_version", "tamper_manifest", "rollback",
             "truncate")

    def __init__(self, spec: ContainerSpec | dict[str, Any], name: str = "container") -> None:
        self.spec = spec if isinstance(spec, ContainerSpec) else ContainerSpec.model_validate(spec)
        self.name = name
        sig = self.spec.signature
        if sig is None:
            self.kinds = tuple(k for k in self.kinds if k not in ("strip_signature", "foreign_signature", "rollback",
                                                                  "tamper_manifest"))
        elif sig.signs and self.spec.manifest not in sig.signs:
            # An unsigned manifest may change by design: a device installing it shows nothing.
            self.kinds = tuple(k for k in self.kinds if k != "tamper_manifest")

    # -- reading ----------------------------------------------------------------------------------
    def detect(self, data: bytes) -> bool:
        try:
            return _Archive.read(data, self.spec.archive).get(self.spec.manifest) is not None
        except PackageError:
            return False

    def _open(self, data: bytes) -> tuple[_Archive, dict[str, Any]]:
        archive = _Archive.read(data, self.spec.archive)
        text = archive.get(self.spec.manifest)
        if text is None:
            raise PackageError(f"the archive has no manifest member {self.spec.manifest!r}")
        try:
            doc = json.loads(text) if self.spec.manifest_format == "json" else yaml.safe_load(text)
        except (ValueError, yaml.YAMLError) as exc:
            raise PackageError(f"manifest {self.spec.manifest}: not {self.spec.manifest_format}: {exc}") from None
        if not isinstance(doc, dict):
            raise PackageError(f"manifest {self.spec.manifest}: not a mapping")
        for name in self.spec.payload:
            if archive.get(name) is None:
                raise PackageError(f"the archive has no image member {name!r}")
        return archive, doc

    def _dump(self, doc: dict[str, Any], original: bytes) -> bytes:
        if self.spec.manifest_format == "yaml":
            return yaml.safe_dump(doc, sort_keys=False).encode()
        indent = 2 if original.lstrip().startswith(b"{\n") else None
        return (json.dumps(doc, indent=indent) + ("\n" if original.endswith(b"\n") else "")).encode()

    def _signature(self, archive: _Archive) -> bytes | None:
        sig = self.spec.signature
        stored = archive.get(sig.member) if sig else None
        if stored is None or sig is None:
            return None
        try:
            if sig.encoding == "base64":
                return base64.b64decode(stored.strip(), validate=True)
            if sig.encoding == "hex":
                return bytes.fromhex(stored.strip().decode("ascii"))
        except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
            raise PackageError(f"signature member {sig.member}: not {sig.encoding}: {exc}") from None
        return stored

    def _signed_bytes(self, archive: _Archive) -> bytes:
        assert self.spec.signature is not None
        names = self.spec.signature.signs or [self.spec.manifest]
        parts = []
        for name in names:
            data = archive.get(name)
            if data is None:
                raise PackageError(f"the signed member {name!r} is missing")
            parts.append(data)
        return b"".join(parts)

    def inspect(self, data: bytes) -> dict[str, Any]:
        archive, doc = self._open(data)
        version = _get_path(doc, self.spec.version_field)
        digests = {}
        for member, path in self.spec.digests.items():
            image = archive.get(member) or b""
            digests[member] = str(_get_path(doc, path) or "").lower() == hashlib.sha256(image).hexdigest()
        sig = self.spec.signature
        signed = self._signature(archive) is not None
        return {
            "format": self.name,
            "size": len(data),
            "archive": self.spec.archive + (f"+{archive.compression}" if archive.compression else ""),
            "members": [m.name for m in archive.members],
            "manifest": doc,
            "header": {"version": None if version is None else str(version),
                       "sig_alg": sig.algorithm if sig and signed else None},
            "signed": signed,
            "payload_digest_ok": all(digests.values()) if digests else None,
        }

    def verify(self, data: bytes, public_keys: list[Any]) -> dict[str, Any]:
        archive, _ = self._open(data)
        if self.spec.signature is None:
            return {"valid": False, "reason": "the container declares no signature"}
        signature = self._signature(archive)
        if signature is None:
            return {"valid": False, "reason": "unsigned package"}
        signed = self._signed_bytes(archive)
        for key in public_keys:
            if isinstance(key, str | Path):
                key = _load_public(key)
            public = key.public_key() if hasattr(key, "public_key") else key
            if verify_signature(self.spec.signature.algorithm, public, signature, signed):
                break
        else:
            return {"valid": False, "reason": "signature invalid"}
        _, doc = self._open(data)
        for member, path in self.spec.digests.items():
            if str(_get_path(doc, path) or "").lower() != hashlib.sha256(archive.get(member) or b"").hexdigest():
                return {"valid": False, "reason": f"digest mismatch for {member}"}
        return {"valid": True, "reason": "ok"}

    # -- deriving ---------------------------------------------------------------------------------
    def _resign(self, archive: _Archive, key: Any) -> None:
        sig = self.spec.signature
        assert sig is not None
        value = sign(sig.algorithm, key, self._signed_bytes(archive))
        if sig.encoding == "base64":
            value = base64.b64encode(value) + b"\n"
        elif sig.encoding == "hex":
            value = value.hex().encode() + b"\n"
        archive.put(sig.member, value)

    def _with_manifest(self, archive: _Archive, doc: dict[str, Any]) -> None:
        archive.put(self.spec.manifest, self._dump(doc, archive.get(self.spec.manifest) or b""))

    def derive(self, data: bytes, kind: str, **kw: Any) -> bytes:
        if kind not in self.kinds:
            raise FirmwareError(f"format {self.name} cannot derive {kind!r} (it supports {', '.join(self.kinds)})")
        if kind == "truncate":
            length = kw.get("length")
            return raw.truncate(data, None if length is None else int(length))
        archive, doc = self._open(data)
        key = kw.get("key")
        if kind == "flip_byte":
            # One byte of the first image; manifest, digests and signature untouched.
            image = archive.get(self.spec.payload[0]) or b""
            if not image:
                raise PackageError(f"image {self.spec.payload[0]} is empty: no byte to flip")
            offset = kw.get("offset")
            offset = len(image) // 2 if offset is None else int(offset)
            archive.put(self.spec.payload[0], raw.flip(image, offset, int(kw.get("xor") or 0x01)))
        elif kind == "strip_signature":
            if self._signature(archive) is None:
                raise PackageError("the package is already unsigned")
            assert self.spec.signature is not None
            archive.drop(self.spec.signature.member)
        elif kind == "foreign_signature":
            assert self.spec.signature is not None
            self._resign(archive, key or _new_key(self.spec.signature.algorithm))
        elif kind in ("relabel_version", "rollback"):
            current = _get_path(doc, self.spec.version_field)
            if current is None:
                raise PackageError(f"the manifest has no {self.spec.version_field!r}")
            if kind == "rollback" and key is None:
                raise FirmwareError("rollback needs the manufacturer's private key: an older version must be "
                                    "properly signed, or the test proves nothing about rollback")
            version = kw.get("version") or (newer_version(str(current)) if kind == "relabel_version"
                                            else older_version(str(current)))
            _set_path(doc, self.spec.version_field, str(version))
            self._with_manifest(archive, doc)
            if key is not None and self.spec.signature is not None:
                self._resign(archive, key)
        elif kind == "tamper_manifest":
            # A field the harness adds; version, digests and the old signature unchanged.
            doc = {**doc, "x-harness-tampered": True}
            self._with_manifest(archive, doc)
        return archive.write()


def build_container(spec: ContainerSpec | dict[str, Any], images: dict[str, bytes], manifest: dict[str, Any],
                    key: Any | None) -> bytes:
    """A container package (for tests and for labs that want one): images, the manifest with the
    declared digests filled in, and the signature when ``key`` is given."""
    fmt = ContainerFormat(spec)
    doc = json.loads(json.dumps(manifest))
    for member, path in fmt.spec.digests.items():
        _set_path(doc, path, hashlib.sha256(images[member]).hexdigest())
    archive = _Archive(fmt.spec.archive, [])
    archive.put(fmt.spec.manifest, fmt._dump(doc, b"{\n}\n"))
    for name, data in images.items():
        archive.put(name, data)
    for m in archive.members:  # fixed metadata: the same inputs give the same bytes
        if isinstance(m.info, tarfile.TarInfo):
            m.info.mtime, m.info.mode = 1_700_000_000, 0o644
        else:
            m.info.date_time = (2023, 11, 14, 22, 13, 20)
    if key is not None and fmt.spec.signature is not None:
        fmt._resign(archive, key)
        for m in archive.members:
            if isinstance(m.info, tarfile.TarInfo):
                m.info.mtime, m.info.mode = 1_700_000_000, 0o644
    return archive.write()
