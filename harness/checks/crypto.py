"""5.5-1 cryptography checks: TLS and SSH configurations judged against a named policy. Pure.

The facts are plain dataclasses that the links (``harness.links.tls``, ``harness.links.ssh``) fill
from sslyze and ssh-audit, or that a recorded scan fills without a device. The judges never do
I/O: the same facts give the same verdict, and a certifier can re-judge the recorded facts.

Rules of judgement:
- every finding names the rule it breaks (``RFC 8996: TLS 1.0 accepted``,
  ``Mozilla intermediate: cipher … not allowed``, ``ssh-audit: …``);
- a part the scan could not determine (error, not scanned) makes the result INCONCLUSIVE for that
  part, never PASS; a FAIL observed elsewhere still stands (a defect seen is evidence);
- a PASS lists what was checked.

TLS policies are data in ``harness.checks.tls_policies`` (Mozilla guidelines 5.7 + RFCs). SSH
algorithms are judged by ssh-audit's own algorithm database (``ssh_audit.ssh2_kexdb.SSH2_KexDB``,
read only, no socket): it is the maintained source the issue names, and using it as a library
keeps our verdicts identical to the ``[fail]`` lines ``ssh-audit`` prints for the same server.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from harness.checks.tls_policies import (
    DEFAULT_TLS_POLICY,
    DEPRECATED_VERSIONS,
    VERSIONS,
    TlsPolicy,
    tls_policy,
)
from harness.verdict import CheckResult, Evidence

# --- TLS facts ------------------------------------------------------------------------------------


@dataclass
class CipherSuiteFact:
    name: str  # IANA name, e.g. TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
    openssl_name: str = ""
    key_size: int = 0  # symmetric key bits
    anonymous: bool = False
    kx_type: str | None = None  # ephemeral key exchange: "ECDH", "DH"; None for static RSA
    kx_bits: int | None = None
    kx_curve: str | None = None


@dataclass
class CertificateFact:
    """The leaf certificate of one certificate deployment."""

    key_type: str  # "RSA", "EC", "Ed25519", "Ed448", "DSA" or the key class name
    key_bits: int
    curve: str | None = None  # EC keys: SECG name, e.g. secp256r1
    signature_algorithm: str = ""  # e.g. sha256WithRSAEncryption
    signature_hash: str | None = None  # e.g. sha256; None for EdDSA
    signature_hash_bits: int | None = None
    not_before: str | None = None  # ISO 8601
    not_after: str | None = None
    subject: str = ""
    issuer: str = ""
    sha256: str = ""  # fingerprint, base64 as sslyze gives it


@dataclass
class TlsFacts:
    host: str
    port: int
    server_name: str | None = None
    # Version label (tls_policies.VERSIONS) -> accepted? A version missing here was not determined.
    versions: dict[str, bool] = field(default_factory=dict)
    cipher_suites: dict[str, list[CipherSuiteFact]] = field(default_factory=dict)  # accepted, per version
    certificates: list[CertificateFact] = field(default_factory=list)
    curves: list[str] | None = None  # supported key exchange groups; None: not determined
    heartbleed: bool | None = None
    robot: str | None = None  # sslyze's RobotScanResultEnum name
    # Part -> why it is unknown. Parts: a version label, "certificate", "curves", "heartbleed", "robot".
    errors: dict[str, str] = field(default_factory=dict)
    scanner: str = ""
    seconds: float | None = None

    @property
    def versions_accepted(self) -> list[str]:
        return [v for v in VERSIONS if self.versions.get(v) is True]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TlsFacts:
        d = dict(data)
        d["cipher_suites"] = {v: [CipherSuiteFact(**s) for s in suites]
                              for v, suites in (d.get("cipher_suites") or {}).items()}
        d["certificates"] = [CertificateFact(**c) for c in d.get("certificates") or []]
        return cls(**d)


# --- SSH facts ------------------------------------------------------------------------------------


@dataclass
class HostKeyFact:
    algorithm: str  # host key algorithm the key was fetched with, e.g. rsa-sha2-256
    key_bits: int | None = None
    ca_type: str | None = None  # certificate host keys: the CA key type
    ca_bits: int | None = None
    sha256: str | None = None  # fingerprint


@dataclass
class SshFacts:
    host: str
    port: int
    banner: str = ""  # the server's identification string, e.g. SSH-2.0-OpenSSH_9.6
    protocol: str | None = None  # "2.0", "1.99", "1.5"
    software: str | None = None
    kex: list[str] = field(default_factory=list)
    host_key_algorithms: list[str] = field(default_factory=list)
    ciphers: list[str] = field(default_factory=list)  # server to client = client to server for judging
    macs: list[str] = field(default_factory=list)
    compression: list[str] = field(default_factory=list)
    host_keys: list[HostKeyFact] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)  # part ("algorithms", "host_keys") -> why unknown
    scanner: str = ""
    seconds: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SshFacts:
        d = dict(data)
        d["host_keys"] = [HostKeyFact(**k) for k in d.get("host_keys") or []]
        return cls(**d)


# --- shared ---------------------------------------------------------------------------------------


@dataclass
class _Judgement:
    findings: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    advisories: list[str] = field(default_factory=list)

    def result(self, *, policy: str, subject: str, checked: list[str], evidence: list[Evidence]) -> CheckResult:
        ev = [Evidence("finding", f, {"rule": f, "policy": policy}) for f in self.findings]
        ev += [Evidence("text", "not determined", u) for u in self.unknown]
        ev += [Evidence("observation", "advisory", a) for a in self.advisories]
        ev += evidence
        if self.findings:
            shown = "; ".join(self.findings[:4]) + ("; …" if len(self.findings) > 4 else "")
            return CheckResult.failed(f"{subject}: {len(self.findings)} finding(s) under {policy}: {shown}", *ev)
        if self.unknown:
            return CheckResult.inconclusive(f"{subject}: could not judge {'; '.join(self.unknown)}", *ev)
        return CheckResult.passed(f"{subject} meets {policy}: checked {', '.join(checked)}", *ev)


_DIGITS = re.compile(r"(\d{3})")
_CURVE_BITS = {"X25519": 256, "X448": 448, "curve25519": 256, "curve448": 448}


def curve_bits(name: str) -> int | None:
    """Security-relevant size of a named group: secp256r1 -> 256, X25519 -> 256, sect163k1 -> 163."""
    if name in _CURVE_BITS:
        return _CURVE_BITS[name]
    m = _DIGITS.search(name)
    return int(m.group(1)) if m else None


def _kx_bits(suite: CipherSuiteFact) -> int | None:
    # OpenSSL reports 253 bits for an X25519 key; the group gives 128-bit security like P-256.
    if suite.kx_curve and suite.kx_curve in _CURVE_BITS:
        return _CURVE_BITS[suite.kx_curve]
    return suite.kx_bits


# --- TLS judge ------------------------------------------------------------------------------------

_ROBOT_SAFE = ("NOT_VULNERABLE_NO_ORACLE", "NOT_VULNERABLE_RSA_NOT_SUPPORTED")
_ROBOT_VULNERABLE = ("VULNERABLE_WEAK_ORACLE", "VULNERABLE_STRONG_ORACLE")
_WEAK_HASH_NAMES = {"sha1": "SHA-1", "md5": "MD5", "md2": "MD2", "md4": "MD4"}


def judge_tls(facts: TlsFacts, policy: str = DEFAULT_TLS_POLICY) -> CheckResult:
    """TLS configuration of one endpoint against ``policy`` (see tls_policies.TLS_POLICY_NAMES)."""
    pol = tls_policy(policy)
    j = _Judgement()
    checked = ["protocol versions"]
    _tls_versions(facts, pol, j)
    if pol.ciphers is not None:
        checked.append("cipher suites and key exchange sizes")
        _tls_ciphers(facts, pol, j)
    if pol.tls_curves is not None:
        checked.append("key exchange groups")
        _tls_curves(facts, pol, j)
    if pol.judges_certificate:
        checked.append("certificate key and signature")
        _tls_certificates(facts, pol, j)
    checked += ["Heartbleed", "ROBOT"]
    _tls_vulnerabilities(facts, j)
    return j.result(policy=pol.title, subject=f"TLS {facts.host}:{facts.port}", checked=checked,
                    evidence=_tls_evidence(facts, pol))


def _tls_versions(facts: TlsFacts, pol: TlsPolicy, j: _Judgement) -> None:
    for version in VERSIONS:
        if version in facts.errors or version not in facts.versions:
            j.unknown.append(f"{version} support ({facts.errors.get(version, 'not scanned')})")
            continue
        if not facts.versions[version]:
            continue
        if version in DEPRECATED_VERSIONS:
            j.findings.append(f"{DEPRECATED_VERSIONS[version]}: {version} accepted")
        elif pol.versions is not None and version not in pol.versions:
            j.findings.append(f"{pol.title}: {version} not allowed")


def _tls_ciphers(facts: TlsFacts, pol: TlsPolicy, j: _Judgement) -> None:
    assert pol.ciphers is not None and pol.ciphers_tls13 is not None
    not_allowed: dict[str, list[str]] = {}
    small_kx: dict[str, list[str]] = {}
    for version in facts.versions_accepted:
        suites = facts.cipher_suites.get(version)
        if suites is None or version in facts.errors:
            j.unknown.append(f"{version} cipher suites ({facts.errors.get(version, 'not scanned')})")
            continue
        allowed = pol.ciphers_tls13 if version == "TLS 1.3" else pol.ciphers
        for suite in suites:
            if suite.name not in allowed:
                not_allowed.setdefault(suite.name, []).append(version)
            bits = _kx_bits(suite)
            floor = pol.dh_min_bits if suite.kx_type == "DH" else pol.ecdh_min_bits if suite.kx_type == "ECDH" else None
            if floor and bits is not None and bits < floor:
                group = suite.kx_curve or f"{suite.kx_type} group"
                small_kx.setdefault(f"{suite.kx_type} key exchange {group} {bits} bits < {floor}", []).append(
                    f"{suite.name} ({version})")
    for name, versions in not_allowed.items():
        j.findings.append(f"{pol.title}: cipher {name} not allowed ({', '.join(versions)})")
    for text, where in small_kx.items():
        j.findings.append(f"{pol.title}: {text} ({', '.join(where[:3])}{', …' if len(where) > 3 else ''})")


def _tls_curves(facts: TlsFacts, pol: TlsPolicy, j: _Judgement) -> None:
    if "curves" in facts.errors or facts.curves is None:
        j.unknown.append(f"key exchange groups ({facts.errors.get('curves', 'not scanned')})")
        return
    floor = pol.ecdh_min_bits or 0
    for curve in facts.curves:
        bits = curve_bits(curve)
        if bits is None:
            j.advisories.append(f"key exchange group {curve}: size unknown to the harness")
        elif bits < floor:
            j.findings.append(f"{pol.title}: key exchange group {curve} ({bits} bits) < {floor}")
        elif pol.tls_curves is not None and curve not in pol.tls_curves:
            j.advisories.append(f"key exchange group {curve} is not in {pol.title}'s list "
                                f"{sorted(pol.tls_curves)} (compatibility, not strength)")


def _tls_certificates(facts: TlsFacts, pol: TlsPolicy, j: _Judgement) -> None:
    if "certificate" in facts.errors or not facts.certificates:
        j.unknown.append(f"certificate ({facts.errors.get('certificate', 'no certificate received')})")
        return
    assert pol.certificate_key_types is not None
    for cert in facts.certificates:
        if cert.key_type not in pol.certificate_key_types:
            j.findings.append(f"{pol.title}: certificate key type {cert.key_type} not allowed "
                              f"(allowed: {', '.join(sorted(pol.certificate_key_types))})")
        if cert.key_type == "RSA" and pol.rsa_min_bits and cert.key_bits < pol.rsa_min_bits:
            j.findings.append(f"certificate RSA key {cert.key_bits} bits < {pol.rsa_min_bits}")
        if cert.key_type == "EC":
            bits = curve_bits(cert.curve or "") or cert.key_bits
            if pol.ecdh_min_bits and bits < pol.ecdh_min_bits:
                j.findings.append(f"certificate EC key {cert.curve} {bits} bits < {pol.ecdh_min_bits}")
            elif pol.certificate_curves is not None and cert.curve not in pol.certificate_curves:
                j.advisories.append(f"certificate curve {cert.curve} is not in {pol.title}'s list "
                                    f"{sorted(pol.certificate_curves)} (compatibility, not strength)")
        _certificate_signature(cert, pol, j)
        _certificate_lifespan(cert, pol, j)


def _certificate_signature(cert: CertificateFact, pol: TlsPolicy, j: _Judgement) -> None:
    if cert.signature_hash is None:
        if cert.key_type not in ("Ed25519", "Ed448"):  # EdDSA signs with its own built-in hash
            j.unknown.append(f"certificate signature hash of {cert.signature_algorithm or 'unknown algorithm'}")
        return
    weak = _WEAK_HASH_NAMES.get(cert.signature_hash.lower())
    bits = cert.signature_hash_bits
    if weak:
        j.findings.append(f"certificate signature {cert.signature_algorithm}: {weak} signature")
    elif pol.min_signature_hash_bits and bits is not None and bits < pol.min_signature_hash_bits:
        j.findings.append(f"certificate signature {cert.signature_algorithm}: hash {cert.signature_hash} "
                          f"({bits} bits) weaker than SHA-256")
    elif pol.certificate_signatures is not None and cert.signature_algorithm not in pol.certificate_signatures:
        j.advisories.append(f"certificate signature {cert.signature_algorithm} is not in {pol.title}'s list "
                            f"{sorted(pol.certificate_signatures)} (its hash is as strong: compatibility only)")


def _certificate_lifespan(cert: CertificateFact, pol: TlsPolicy, j: _Judgement) -> None:
    if not (pol.max_certificate_days and cert.not_before and cert.not_after):
        return
    try:
        days = (datetime.fromisoformat(cert.not_after) - datetime.fromisoformat(cert.not_before)).days
    except ValueError:
        return
    if days > pol.max_certificate_days:
        j.advisories.append(f"certificate lifespan {days} days > {pol.max_certificate_days} "
                            f"({pol.title}: a web PKI limit, not judged for devices)")


def _tls_vulnerabilities(facts: TlsFacts, j: _Judgement) -> None:
    if "heartbleed" in facts.errors or facts.heartbleed is None:
        j.unknown.append(f"Heartbleed ({facts.errors.get('heartbleed', 'not scanned')})")
    elif facts.heartbleed:
        j.findings.append("Heartbleed (CVE-2014-0160): the server answers heartbeats with its memory")
    if "robot" in facts.errors or facts.robot is None:
        j.unknown.append(f"ROBOT ({facts.errors.get('robot', 'not scanned')})")
    elif facts.robot in _ROBOT_VULNERABLE:
        j.findings.append(f"ROBOT: {facts.robot} (RSA PKCS#1 v1.5 decryption padding oracle)")
    elif facts.robot not in _ROBOT_SAFE:
        j.unknown.append(f"ROBOT ({facts.robot})")


def _tls_evidence(facts: TlsFacts, pol: TlsPolicy) -> list[Evidence]:
    versions = [{"version": v, "accepted": ("yes" if facts.versions[v] else "no") if v in facts.versions else "unknown"}
                for v in VERSIONS]
    suites = [{"version": v, "cipher suite": s.name, "openssl": s.openssl_name, "key bits": s.key_size,
               "key exchange": f"{s.kx_type} {s.kx_curve or ''} {s.kx_bits or ''}".strip() if s.kx_type else "RSA"}
              for v in VERSIONS for s in facts.cipher_suites.get(v, [])]
    certs = [{"key": f"{c.key_type} {c.key_bits}" + (f" {c.curve}" if c.curve else ""),
              "signature": c.signature_algorithm, "not after": c.not_after, "subject": c.subject}
             for c in facts.certificates]
    ev = [Evidence("table", "TLS versions", versions), Evidence("table", "accepted cipher suites", suites),
          Evidence("table", "certificates", certs)]
    if facts.curves is not None:
        ev.append(Evidence("observation", "key exchange groups", facts.curves))
    ev.append(Evidence("observation", "vulnerability scans", {"heartbleed": facts.heartbleed, "robot": facts.robot}))
    ev.append(Evidence("observation", "policy", pol.describe()))
    ev.append(Evidence("observation", "scanner", {"scanner": facts.scanner, "seconds": facts.seconds}))
    return ev


# --- SSH judge ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SshPolicy:
    name: str
    title: str
    promoted: frozenset[str]  # ssh-audit [warn] notes this policy counts as findings
    demoted: frozenset[str]  # ssh-audit [fail] notes this policy reports as advisories
    terrapin: bool = True


def _ssh_policies() -> dict[str, SshPolicy]:
    from ssh_audit.ssh2_kexdb import SSH2_KexDB as Db

    # Weak constructions the issue lists as findings although ssh-audit only warns about them:
    # CBC mode (plaintext recovery, Terrapin with EtM), 64-bit blocks (Sweet32), 64-bit tags.
    promoted = frozenset({Db.WARN_CIPHER_MODE, Db.WARN_BLOCK_SIZE, Db.WARN_TAG_SIZE})
    return {
        "ssh-audit-default": SshPolicy("ssh-audit-default", "ssh-audit", promoted, frozenset()),
        # For labs whose crypto policy accepts NIST P-curves (NIST SP 800-186, BSI TR-02102-4):
        # ssh-audit fails every nistp* algorithm as "suspected backdoored".
        "ssh-audit-nist-curves-accepted": SshPolicy("ssh-audit-nist-curves-accepted",
                                                    "ssh-audit (NIST curves accepted)", promoted,
                                                    frozenset({Db.FAIL_NSA_BACKDOORED_CURVE})),
    }


DEFAULT_SSH_POLICY = "ssh-audit-default"
SSH_POLICY_NAMES = ("ssh-audit-default", "ssh-audit-nist-curves-accepted")
_SSH_CATEGORIES = (("kex", "kex", "key exchange"), ("host_key_algorithms", "key", "host key algorithm"),
                   ("ciphers", "enc", "cipher"), ("macs", "mac", "MAC"))
_RSA_FAMILY = ("ssh-rsa", "rsa-sha2-256", "rsa-sha2-512")


def _is_cbc(cipher: str) -> bool:
    # ssh-audit's own test (ssh_audit.py post_process_findings), repeated here because it is a
    # nested function there.
    return (cipher.endswith(("-cbc", "-cbc@openssh.org", "-cbc@ssh.com"))
            or cipher == "rijndael-cbc@lysator.liu.se")


def judge_ssh(facts: SshFacts, policy: str = DEFAULT_SSH_POLICY) -> CheckResult:
    """SSH server algorithms against ssh-audit's database under ``policy`` (SSH_POLICY_NAMES)."""
    import ssh_audit.globals as sa_globals
    from ssh_audit.ssh2_kexdb import SSH2_KexDB

    policies = _ssh_policies()
    if policy not in policies:
        raise ValueError(f"unknown SSH policy {policy!r}; known: {', '.join(SSH_POLICY_NAMES)}")
    pol = policies[policy]
    db = SSH2_KexDB.MASTER_DB  # read only: never mutated here
    j = _Judgement()
    subject = f"SSH {facts.host}:{facts.port}"

    if facts.protocol and facts.protocol.startswith("1."):
        j.findings.append(f"ssh-audit: SSH protocol 1 offered (banner {facts.banner})")
    if "algorithms" in facts.errors or not facts.kex:
        j.unknown.append(f"server algorithms ({facts.errors.get('algorithms', 'no key exchange offer seen')})")
    rows = []
    for attr, cat, label in _SSH_CATEGORIES:
        for alg in getattr(facts, attr):
            name = f"{alg[:alg.rindex('-')]}-*" if cat == "kex" and alg.startswith("gss-") and "-" in alg else alg
            entry = db[cat].get(name)
            if entry is None:
                j.unknown.append(f"{label} {alg} (not in ssh-audit's database)")
                rows.append({"type": label, "algorithm": alg, "fail": "", "warn": "unknown to ssh-audit"})
                continue
            fails = [n for n in (entry[1] if len(entry) > 1 else []) if n]
            warns = [n for n in (entry[2] if len(entry) > 2 else []) if n]
            rows.append({"type": label, "algorithm": alg, "fail": "; ".join(fails), "warn": "; ".join(warns)})
            for note in fails:
                (j.advisories if note in pol.demoted else j.findings).append(f"ssh-audit: {label} {alg}: {note}")
            for note in warns:
                (j.findings if note in pol.promoted else j.advisories).append(f"ssh-audit: {label} {alg}: {note}")
    _ssh_host_keys(facts, pol, j)
    if pol.terrapin:
        _ssh_terrapin(facts, j)
    checked = ["key exchange", "host key algorithms and sizes", "ciphers", "MACs", "Terrapin (CVE-2023-48795)"]
    evidence = [Evidence("table", "SSH algorithms", rows),
                Evidence("observation", "server", {"banner": facts.banner, "software": facts.software,
                                                   "compression": facts.compression}),
                Evidence("table", "host keys", [asdict(k) for k in facts.host_keys]),
                Evidence("observation", "policy", {"policy": pol.name, "promoted warnings": sorted(pol.promoted),
                                                   "demoted failures": sorted(pol.demoted),
                                                   "database": f"ssh-audit {sa_globals.VERSION}"}),
                Evidence("observation", "scanner", {"scanner": facts.scanner, "seconds": facts.seconds})]
    return j.result(policy=pol.title, subject=subject, checked=checked, evidence=evidence)


def _ssh_host_keys(facts: SshFacts, pol: SshPolicy, j: _Judgement) -> None:
    # ssh-audit's HostKeyTest thresholds: RSA (and CA keys) < 2048 fail, < 3072 warn; ECC < 224
    # fail, < 256 warn. One RSA key serves ssh-rsa, rsa-sha2-256 and rsa-sha2-512: it is judged
    # once, naming every algorithm it was fetched with.
    from ssh_audit.ssh2_kexdb import SSH2_KexDB

    sized = [k for k in facts.host_keys if k.key_bits]
    fetched = {k.algorithm for k in sized}
    for alg in facts.host_key_algorithms:
        rsa = alg in _RSA_FAMILY or alg.startswith(("ssh-rsa-cert-v0", "rsa-sha2-"))
        if (rsa or "-cert-" in alg) and alg not in fetched and not (rsa and fetched & set(_RSA_FAMILY)):
            j.unknown.append(f"host key size for {alg} ({facts.errors.get('host_keys', 'not fetched')})")
    groups: dict[str, list[HostKeyFact]] = {}
    for key in sized:
        groups.setdefault(key.sha256 or key.algorithm, []).append(key)
    for keys in groups.values():
        key, algs = keys[0], ", ".join(k.algorithm for k in keys)
        ecc = key.algorithm.startswith(("ssh-ed25519", "ecdsa-sha2-nistp", "sk-"))
        kind = "ECC" if ecc else "RSA" if key.algorithm in _RSA_FAMILY or "rsa" in key.algorithm else key.algorithm
        bits = key.key_bits or 0
        fail_below, warn_below = (224, 256) if ecc else (2048, 3072)
        if bits < fail_below:
            j.findings.append(f"ssh-audit: {kind} host key {bits} bits < {fail_below} ({algs})")
        elif bits < warn_below:
            j.advisories.append(f"ssh-audit: {kind} host key {bits} bits < {warn_below} ({algs})")
        if key.ca_type and key.ca_bits:
            ca_ecc = key.ca_type.startswith(("ssh-ed25519", "ecdsa-sha2-nistp"))
            ca_fail, ca_warn = (224, 256) if ca_ecc else (2048, 3072)
            if key.ca_bits < ca_fail:
                j.findings.append(f"ssh-audit: host certificate CA key {key.ca_bits} bits < {ca_fail} ({algs})")
            elif key.ca_bits < ca_warn:
                j.advisories.append(f"ssh-audit: host certificate CA key {key.ca_bits} bits < {ca_warn} ({algs})")
            if key.ca_type.startswith("ecdsa-sha2-nistp"):
                note = f"ssh-audit: host certificate CA key ({algs}): {SSH2_KexDB.FAIL_NSA_BACKDOORED_CURVE}"
                (j.advisories if SSH2_KexDB.FAIL_NSA_BACKDOORED_CURVE in pol.demoted else j.findings).append(note)


def _ssh_terrapin(facts: SshFacts, j: _Judgement) -> None:
    # ssh-audit warns; the policy counts a published, exploitable CVE as a finding.
    if "kex-strict-s-v00@openssh.com" in facts.kex:
        return
    chacha = [c for c in facts.ciphers if c.startswith("chacha20-poly1305")]
    cbc = [c for c in facts.ciphers if _is_cbc(c)]
    etm = [m for m in facts.macs if m.endswith("-etm@openssh.com")]
    vulnerable = chacha + (cbc + etm if cbc and etm else [])
    if vulnerable:
        j.findings.append("ssh-audit: Terrapin (CVE-2023-48795): " + ", ".join(vulnerable)
                          + " offered without strict key exchange (kex-strict-s-v00@openssh.com)")
