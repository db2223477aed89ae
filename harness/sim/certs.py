"""The simulator's throw-away CA (new at every start, its key never leaves the process) and the
server certificates it signs: the manufacturer's web site on 127.0.0.1/localhost and each unit's
HTTPS API on the unit's own address."""

from __future__ import annotations

import datetime as dt
import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = dt.timedelta(days=398)


@dataclass(frozen=True)
class LabCertificates:
    ca_pem: bytes  # published
    cert_pem: bytes  # server certificate followed by nothing else (the CA is the trust anchor)
    key_pem: bytes  # never leaves the process except through a private temporary file


def _san(names: Sequence[str]) -> x509.SubjectAlternativeName:
    out: list[x509.GeneralName] = []
    for name in names:
        try:
            out.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            out.append(x509.DNSName(name))
    return x509.SubjectAlternativeName(out)


class SimCA:
    def __init__(self) -> None:
        now = dt.datetime.now(dt.UTC)
        self._start, self._end = now - dt.timedelta(minutes=5), now + VALIDITY
        self._key = ec.generate_private_key(ec.SECP256R1())
        self._name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SimIoT lab"),
                                x509.NameAttribute(NameOID.COMMON_NAME, "SimIoT lab CA")])
        self._ski = x509.SubjectKeyIdentifier.from_public_key(self._key.public_key())
        ca = (x509.CertificateBuilder().subject_name(self._name).issuer_name(self._name)
              .public_key(self._key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(self._start).not_valid_after(self._end)
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(x509.KeyUsage(digital_signature=False, content_commitment=False, key_encipherment=False,
                                           data_encipherment=False, key_agreement=False, key_cert_sign=True,
                                           crl_sign=True, encipher_only=False, decipher_only=False), critical=True)
              .add_extension(self._ski, critical=False)
              .sign(self._key, hashes.SHA256()))
        self.ca_pem = ca.public_bytes(serialization.Encoding.PEM)

    def issue(self, names: Sequence[str], rsa_bits: int | None = None) -> LabCertificates:
        """A server certificate for `names` (IP addresses and DNS names; the first is the CN).
        P-256 by default; `rsa_bits` gives an RSA key of that size (1024 for a legacy device)."""
        key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = (
            rsa.generate_private_key(public_exponent=65537, key_size=rsa_bits) if rsa_bits
            else ec.generate_private_key(ec.SECP256R1()))
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, names[0])]))
                .issuer_name(self._name).public_key(key.public_key()).serial_number(x509.random_serial_number())
                .not_valid_before(self._start).not_valid_after(self._end)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                             key_encipherment=rsa_bits is not None, data_encipherment=False,
                                             key_agreement=False, key_cert_sign=False, crl_sign=False,
                                             encipher_only=False, decipher_only=False), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
                .add_extension(_san(names), critical=False)
                .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(self._ski),
                               critical=False)
                .sign(self._key, hashes.SHA256()))
        pem = serialization.Encoding.PEM
        return LabCertificates(
            ca_pem=self.ca_pem, cert_pem=cert.public_bytes(pem),
            key_pem=key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def make_lab_certificates() -> LabCertificates:
    """A new CA and a certificate for IP 127.0.0.1 and DNS localhost (the manufacturer's web site)."""
    return SimCA().issue(["localhost", "127.0.0.1"])
