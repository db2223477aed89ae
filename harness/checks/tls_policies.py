"""TLS policies that ``harness.checks.crypto.judge_tls`` applies: data, with its source.

Sources:
- Mozilla Server Side TLS guidelines **version 5.7**: ``data/mozilla-server-side-tls-5.7.json`` is a
  byte-for-byte copy of https://ssl-config.mozilla.org/guidelines/5.7.json as sslyze 6.3.1 bundles it
  (``sslyze/mozilla_tls_profile/5.7.json``), copied 2026-11-25; sha256
  e1949c058738e18bbbc67197b215666589530222f9183ce2ff223445f235a340. Mozilla's
  version history dates no release; 5.7 is the release that added DHE-RSA-CHACHA20-POLY1305 to
  "intermediate". Mozilla promises that the versioned file never changes, so judging against it
  is reproducible; a new Mozilla version is a new file and a new policy name.
- Protocol deprecations: RFC 6176 (SSL 2.0 prohibited, 2011), RFC 7568 (SSL 3.0 deprecated, 2015),
  RFC 8996 (TLS 1.0 and 1.1 deprecated, March 2021).

How the Mozilla data is read (docs/crypto-policy.md gives the reasons): what concerns strength is a
rule (protocol versions, cipher suites, certificate key type and RSA size, DH/ECDH sizes, hash of
the certificate signature); what concerns browser compatibility (exact signature algorithm names,
curve lists beyond a minimum size, certificate lifespan, OCSP stapling, HSTS, cipher order) is
reported as an advisory, not a finding.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

MOZILLA_VERSION = "5.7"
MOZILLA_FILE = "mozilla-server-side-tls-5.7.json"
MOZILLA_URL = "https://ssl-config.mozilla.org/guidelines/5.7.json"

# Every version sslyze probes, oldest first; the labels used in TlsFacts and in findings.
VERSIONS = ("SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3")

# Version label -> the RFC that retires it. Applied under every policy: it is the floor.
DEPRECATED_VERSIONS = {
    "SSL 2.0": "RFC 6176",
    "SSL 3.0": "RFC 7568",
    "TLS 1.0": "RFC 8996",
    "TLS 1.1": "RFC 8996",
}

_MOZILLA_VERSION_LABELS = {"TLSv1": "TLS 1.0", "TLSv1.1": "TLS 1.1", "TLSv1.2": "TLS 1.2", "TLSv1.3": "TLS 1.3"}
# Mozilla uses ANSI X9.62 names for two curves; sslyze and cryptography report SECG names.
_CURVE_ALIASES = {"prime256v1": "secp256r1", "prime192v1": "secp192r1"}
# Mozilla's certificate_types -> the key types TlsFacts records.
_KEY_TYPES = {"ecdsa": "EC", "rsa": "RSA"}


@dataclass(frozen=True)
class TlsPolicy:
    name: str  # as selected in a profile, e.g. "mozilla-intermediate"
    title: str  # as shown in findings, e.g. "Mozilla intermediate"
    source: str
    # None: the policy does not restrict this aspect beyond the RFC floor.
    versions: frozenset[str] | None = None
    ciphers: frozenset[str] | None = None  # IANA names allowed before TLS 1.3
    ciphers_tls13: frozenset[str] | None = None
    certificate_key_types: frozenset[str] | None = None  # "RSA", "EC"
    rsa_min_bits: int | None = None
    dh_min_bits: int | None = None
    ecdh_min_bits: int | None = None
    certificate_curves: frozenset[str] | None = None  # advisory beyond ecdh_min_bits
    tls_curves: frozenset[str] | None = None  # advisory beyond ecdh_min_bits
    certificate_signatures: frozenset[str] | None = None  # advisory: exact names
    min_signature_hash_bits: int | None = None  # the rule: 256 = SHA-256 or stronger
    max_certificate_days: int | None = None  # advisory

    @property
    def judges_certificate(self) -> bool:
        return self.certificate_key_types is not None

    def describe(self) -> dict[str, Any]:
        """What the policy checks, for the evidence of a PASS."""
        out: dict[str, Any] = {"policy": self.name, "source": self.source,
                               "deprecated versions": {v: r for v, r in DEPRECATED_VERSIONS.items()},
                               "vulnerabilities": ["Heartbleed (CVE-2014-0160)", "ROBOT"]}
        if self.versions is not None:
            out["versions allowed"] = sorted(self.versions)
        if self.ciphers is not None:
            out["cipher suites allowed (TLS 1.2 and older)"] = sorted(self.ciphers)
        if self.ciphers_tls13 is not None:
            out["cipher suites allowed (TLS 1.3)"] = sorted(self.ciphers_tls13)
        if self.certificate_key_types is not None:
            out["certificate key types"] = sorted(self.certificate_key_types)
            out["RSA key minimum bits"] = self.rsa_min_bits
            out["signature hash minimum bits"] = self.min_signature_hash_bits
        if self.dh_min_bits:
            out["DH minimum bits"] = self.dh_min_bits
        if self.ecdh_min_bits:
            out["ECDH minimum bits"] = self.ecdh_min_bits
        return out


@cache
def mozilla_guidelines() -> dict[str, Any]:
    text = (resources.files("harness.checks") / "data" / MOZILLA_FILE).read_text(encoding="utf-8")
    data = json.loads(text)
    if str(data.get("version")) != MOZILLA_VERSION:
        raise ValueError(f"{MOZILLA_FILE} holds version {data.get('version')}, expected {MOZILLA_VERSION}")
    return data


def _mozilla(level: str) -> TlsPolicy:
    conf = mozilla_guidelines()["configurations"][level]
    rsa_bits = conf["rsa_key_size"]
    return TlsPolicy(
        name=f"mozilla-{level}",
        title=f"Mozilla {level}",
        source=f"Mozilla Server Side TLS {MOZILLA_VERSION} ({MOZILLA_URL}) + RFC 6176/7568/8996",
        versions=frozenset(_MOZILLA_VERSION_LABELS[v] for v in conf["tls_versions"]),
        ciphers=frozenset(conf["ciphers"]["iana"]),
        ciphers_tls13=frozenset(conf["ciphersuites"]),
        certificate_key_types=frozenset(_KEY_TYPES[t] for t in conf["certificate_types"]),
        # "modern" allows no RSA certificate at all (null size); 2048 stays the floor should one
        # appear, so that the key-type finding is not the only thing said about an RSA-1024 key.
        rsa_min_bits=rsa_bits if rsa_bits else 2048,
        dh_min_bits=conf["dh_param_size"],
        ecdh_min_bits=conf["ecdh_param_size"],
        certificate_curves=frozenset(_CURVE_ALIASES.get(c, c) for c in conf["certificate_curves"]),
        tls_curves=frozenset(_CURVE_ALIASES.get(c, c) for c in conf["tls_curves"]),
        certificate_signatures=frozenset(conf["certificate_signatures"]),
        min_signature_hash_bits=256,
        max_certificate_days=conf["maximum_certificate_lifespan"],
    )


RFC8996 = TlsPolicy(
    name="rfc8996",
    title="RFC 8996",
    source="RFC 6176 (SSL 2.0), RFC 7568 (SSL 3.0), RFC 8996 (TLS 1.0, 1.1); Heartbleed and ROBOT",
)

DEFAULT_TLS_POLICY = "mozilla-intermediate"
TLS_POLICY_NAMES = ("rfc8996", "mozilla-intermediate", "mozilla-modern")


def tls_policy(name: str) -> TlsPolicy:
    if name == "rfc8996":
        return RFC8996
    if name == "mozilla-intermediate":
        return _mozilla("intermediate")
    if name == "mozilla-modern":
        return _mozilla("modern")
    raise ValueError(f"unknown TLS policy {name!r}; known: {', '.join(TLS_POLICY_NAMES)}")
