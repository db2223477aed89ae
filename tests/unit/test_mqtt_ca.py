"""The lab CA: keys 0600, server certificates chain to it (and only to it), names in the SAN."""

from __future__ import annotations

import ipaddress
import stat

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from harness.lab.ca import CAError, LabCA


def _verified_by(cert_path, ca: LabCA) -> bool:  # type: ignore[no-untyped-def]
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    try:
        cert.verify_directly_issued_by(ca.cert)
    except (ValueError, TypeError, Exception):  # noqa: BLE001 (InvalidSignature or issuer mismatch)
        return False
    return True


def test_create_load_and_issue(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ca = LabCA.create(tmp_path / "ca", key_type="ec")
    assert stat.S_IMODE((tmp_path / "ca" / "ca.key.pem").stat().st_mode) == 0o600
    assert ca.ca_path.exists() and ca.key_type == "ec"
    again = LabCA.load(tmp_path / "ca")
    assert again.fingerprint == ca.fingerprint
    cert_path, key_path = again.issue_server_cert(["127.0.0.1", "broker.lab"], tmp_path / "srv", "tls")
    assert stat.S_IMODE(key_path.stat().st_mode) == 0o600
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert san.get_values_for_type(x509.IPAddress) == [ipaddress.ip_address("127.0.0.1")]
    assert san.get_values_for_type(x509.DNSName) == ["broker.lab"]
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False
    assert _verified_by(cert_path, ca)


def test_impostor_with_the_same_name_does_not_verify(tmp_path) -> None:  # type: ignore[no-untyped-def]
    lab = LabCA.create(tmp_path / "lab", key_type="ec")
    rogue = LabCA.create(tmp_path / "rogue", key_type="ec")  # same default name: an impostor
    assert rogue.cert.subject == lab.cert.subject
    rogue_cert, _ = rogue.issue_server_cert(["127.0.0.1"], tmp_path / "srv", "rogue")
    assert _verified_by(rogue_cert, rogue)
    assert not _verified_by(rogue_cert, lab)


def test_rsa_default_and_errors(tmp_path) -> None:  # type: ignore[no-untyped-def]
    ca = LabCA.create(tmp_path / "rsa")
    assert ca.key_type == "rsa" and not isinstance(ca.key, ec.EllipticCurvePrivateKey)
    with pytest.raises(CAError):
        LabCA.load(tmp_path / "missing")
    with pytest.raises(CAError):
        LabCA.create(tmp_path / "x", key_type="dsa")
    with pytest.raises(CAError):
        ca.issue_server_cert([], tmp_path / "srv")
