"""Our reference catalogue of cryptography for the conceptual rules (5.1-3, 5.5-x, 5.8-x).

TS 103 701 asks whether the declared "Cryptographic Details" are best practice *by reference to a
catalogue* (e.g. SOG-IS Agreed Cryptographic Mechanisms, ETSI TR 103 621). This module is that
catalogue in a form a rule can apply: primitives and protocols deprecated for their security
property (a FAIL), and those generally agreed as best practice (a PASS when nothing deprecated is
named). Anything else is novel or unknown to us: the supplier's justification goes to the assessor.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Deprecated for the property these mechanisms rely on (confidentiality, integrity, authenticity).
DEPRECATED: tuple[tuple[str, str], ...] = (
    (r"\bmd5\b|hmac-md5", "MD5"),
    (r"\bsha-?1\b|hmac-sha1\b|-sha1\b", "SHA-1"),
    (r"\b3?des\b|triple-?des|des-cbc", "DES/3DES"),
    (r"\brc4\b|arcfour", "RC4"),
    (r"\bssl ?v?[23](\.0)?\b", "SSL 2/3"),
    (r"\btls ?v?1\.[01]\b", "TLS 1.0/1.1"),
    (r"\bwep\b", "WEP"),
    (r"\becb\b", "ECB mode"),
    (r"\brsa-?(512|768|1024)\b|\b(512|768|1024)-bit rsa\b|ssh-rsa \(rsa-1024\)", "RSA of 1024 bits or fewer"),
    (r"diffie-hellman-group1\b|\bdh-?(512|768|1024)\b", "Diffie-Hellman of 1024 bits or fewer"),
    (r"export[- ]grade|export cipher|null cipher|\benull\b|\banull\b", "export/NULL ciphers"),
)

BEST_PRACTICE: tuple[tuple[str, str], ...] = (
    (r"\btls ?v?1\.[23]\b", "TLS 1.2/1.3"),
    (r"\bdtls ?v?1\.[23]\b", "DTLS 1.2/1.3"),
    (r"\bssh(-2)?\b", "SSH-2"),
    (r"\baes-?(128|256)?-?(gcm|ccm)\b|\baes-?(128|256)\b", "AES"),
    (r"chacha20(-poly1305)?", "ChaCha20-Poly1305"),
    (r"\bed25519\b|\bed448\b", "EdDSA"),
    (r"\bx25519\b|curve25519", "X25519"),
    (r"\becdsa\b|\becdhe\b|p-?256|p-?384|secp256r1|secp384r1", "elliptic curves P-256/P-384"),
    (r"\brsa-?(2048|3072|4096)\b|\b(2048|3072|4096)-bit rsa\b", "RSA of 2048 bits or more"),
    (r"\bsha-?(256|384|512)\b|\bsha3\b|\bsha-3\b", "SHA-2/SHA-3"),
    (r"hmac-sha-?(256|384|512)", "HMAC-SHA-2"),
    (r"\bargon2(id|i|d)?\b|\bscrypt\b|\bbcrypt\b|\bpbkdf2\b|sha-?512-?crypt|yescrypt", "password hashing"),
    (r"\bwpa3\b", "WPA3"),
)

# Protection at rest (5.4-1): hardware that keeps a secret, and encodings that only look like protection.
HARDWARE_PROTECTION: tuple[tuple[str, str], ...] = (
    (r"secure element|\bse050\b|\batecc", "secure element"),
    (r"\btpm\b", "TPM"),
    (r"trustzone|\btee\b|trusted execution", "trusted execution environment"),
    (r"\bhsm\b", "HSM"),
    (r"\befuse|\botp\b|one-time programmable|read-only (flash|memory|rom)|\brom\b", "read-only or fused memory"),
    (r"key (is )?held in the soc|key in the soc|per-unit key|device-unique key|hardware-unique key", "device-bound key"),
)
OBFUSCATION: tuple[tuple[str, str], ...] = (
    (r"base-?64|\bhex(-| )?encod|\bxor\b|obfuscat|rot-?13|scrambl", "encoding or obfuscation, not protection"),
    (r"plain ?text|in (the )?clear|cleartext|unencrypted|unprotected", "stored in clear"),
)


def assess_storage(text: str | None) -> Assessment:
    """What our catalogue says of a declared protection at rest: deprecated cryptography or mere
    encoding is 'deprecated'; agreed cryptography or hardware that keeps the secret is 'best-practice'."""
    base = assess(text)
    low = (text or "").lower()
    weak = [name for pattern, name in OBFUSCATION if re.search(pattern, low)]
    hardware = [name for pattern, name in HARDWARE_PROTECTION if re.search(pattern, low)]
    return Assessment(base.deprecated + tuple(weak), base.best_practice + tuple(hardware))


# A clause that declares something refused or off does not claim its use ("TLS 1.0 refused").
_NEGATED = re.compile(r"\b(no|not|never|without|refus\w*|reject\w*|disabled|removed|forbidden)\b", re.I)
_CLAUSES = re.compile(r"[;,()\n]|\bbut\b|\bexcept\b")


@dataclass(frozen=True)
class Assessment:
    deprecated: tuple[str, ...]
    best_practice: tuple[str, ...]

    @property
    def verdict(self) -> str:
        """'deprecated', 'best-practice' or 'unknown' (not in our catalogue: an assessor decides)."""
        if self.deprecated:
            return "deprecated"
        return "best-practice" if self.best_practice else "unknown"


def assess(text: str | None) -> Assessment:
    """What our catalogue says of a declared "Cryptographic Details" text."""
    deprecated: list[str] = []
    best: list[str] = []
    for clause in _CLAUSES.split((text or "").lower()):
        if not clause.strip():
            continue
        negated = bool(_NEGATED.search(clause))
        for pattern, name in DEPRECATED:
            if not negated and re.search(pattern, clause) and name not in deprecated:
                deprecated.append(name)
        for pattern, name in BEST_PRACTICE:
            if re.search(pattern, clause) and name not in best:
                best.append(name)
    return Assessment(tuple(deprecated), tuple(best))
