"""The lab's own certificate authority: server certificates for the lab broker (and the impostor).

A device under test is pointed at the lab broker and trusts the lab CA; the MITM test points it at
a listener whose certificate carries the same names but was signed by a CA the device never saw.
Keys are written with mode 0600 from the moment the file exists (no window with wider modes).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from harness.verdict import LabFault

CA_CERT = "ca.pem"
CA_KEY = "ca.key.pem"
# RSA-2048 by default: the oldest embedded TLS stacks (axTLS, early mbedTLS builds) speak RSA only;
# "ec" (P-256) is much faster to generate and suits tests and modern devices.
KEY_TYPES = ("rsa", "ec")
_BACKDATE = dt.timedelta(days=1)  # tolerate a device clock a little behind the lab's

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


class CAError(LabFault):
    """The lab CA cannot be created or read: the bench is not set up, not a device fault."""


def _new_key(key_type: str) -> PrivateKey:
    if key_type == "rsa":
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    if key_type == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    raise CAError(f"unknown key type {key_type!r}; use one of {KEY_TYPES}")


def write_private(path: Path, data: bytes) -> None:
    """Create (or replace) a file readable by its owner only, with no moment of wider modes."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # O_CREAT honours the umask only; an existing tmp keeps its mode
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


def _key_pem(key: PrivateKey) -> bytes:
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())


def _san(names: Sequence[str]) -> x509.SubjectAlternativeName:
    entries: list[x509.GeneralName] = []
    for name in names:
        try:
            entries.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            entries.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(entries)


@dataclass
class LabCA:
    directory: Path
    cert: x509.Certificate
    key: PrivateKey

    @property
    def ca_path(self) -> Path:
        return self.directory / CA_CERT

    @property
    def key_type(self) -> str:
        return "ec" if isinstance(self.key, ec.EllipticCurvePrivateKey) else "rsa"

    @property
    def fingerprint(self) -> str:
        return self.cert.fingerprint(hashes.SHA256()).hex(":")

    @classmethod
    def create(cls, directory: str | Path, *, common_name: str = "IoT conformance lab CA",
               key_type: str = "rsa", days: int = 3650) -> LabCA:
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        key = _new_key(key_type)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, "iot-conformance-harness lab")])
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder()
                .subject_name(name).issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - _BACKDATE).not_valid_after(now + dt.timedelta(days=days))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                             key_encipherment=False, data_encipherment=False,
                                             key_agreement=False, key_cert_sign=True, crl_sign=True,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .sign(key, hashes.SHA256()))
        write_private(directory / CA_KEY, _key_pem(key))
        (directory / CA_CERT).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(directory, cert, key)

    @classmethod
    def load(cls, directory: str | Path) -> LabCA:
        directory = Path(directory)
        try:
            cert = x509.load_pem_x509_certificate((directory / CA_CERT).read_bytes())
            key = serialization.load_pem_private_key((directory / CA_KEY).read_bytes(), password=None)
        except (OSError, ValueError) as exc:
            raise CAError(f"cannot load the lab CA from {directory}: {exc}") from exc
        if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey):
            raise CAError(f"{directory / CA_KEY}: unsupported key type {type(key).__name__}")
        return cls(directory, cert, key)

    @classmethod
    def load_or_create(cls, directory: str | Path, **kwargs: object) -> LabCA:
        if (Path(directory) / CA_CERT).exists():
            return cls.load(directory)
        return cls.create(directory, **kwargs)  # type: ignore[arg-type]

    def issue_server_cert(self, names: Sequence[str], directory: str | Path, name: str = "server", *,
                          days: int = 825) -> tuple[Path, Path]:
        """A TLS server certificate for ``names`` (host names and/or IP addresses, first one is the
        CN); returns (cert_path, key_path), the key with mode 0600."""
        if not names:
            raise CAError("a server certificate needs at least one host name or address")
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        key = _new_key(self.key_type)
        now = dt.datetime.now(dt.UTC)
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(self.cert.subject)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - _BACKDATE).not_valid_after(now + dt.timedelta(days=days))
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(_san(names), critical=False)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()),
                               critical=False)
                .sign(self.key, hashes.SHA256()))
        cert_path, key_path = directory / f"{name}.pem", directory / f"{name}.key.pem"
        write_private(key_path, _key_pem(key))
        cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cert_path, key_path
