"""5.4-3 — no hard-coded critical security parameters in the device software (TS 103 701 5.4-3-2).

The firmware image is scanned byte by byte for:
- private keys: PEM blocks (`-----BEGIN … PRIVATE KEY-----`) and the DER headers of PKCS#8, PKCS#1
  RSA and SEC1 EC private keys;
- credential assignments (`password=…`, `service_password=…`, `passwd: …`, `secret=…`, `token=…`, `api_key=…`) whose value
  is a known default password (the harness's default-credential dictionaries) or a long high-entropy
  string;
- secrets the lab declares (e.g. the units' label passwords, a cloud token) anywhere in the image.
Findings name the offset and the kind; a key or token value never appears in the evidence (a default
password from a public dictionary may)."""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from harness.verdict import CheckResult, Evidence

PEM_KEY = re.compile(rb"-----BEGIN ((?:[A-Z0-9]+ )*)PRIVATE KEY-----")
DER_KEYS = (
    ("DER PKCS#8 private key", re.compile(rb"\x30\x82..\x02\x01\x00\x30[\x0d-\x13]\x06", re.S)),
    ("DER PKCS#8 private key", re.compile(rb"\x30[\x2e\x2f\x48\x51]\x02\x01[\x00\x01]\x30\x05\x06\x03\x2b\x65[\x70\x71]", re.S)),
    ("DER PKCS#1 RSA private key", re.compile(rb"\x30\x82..\x02\x01\x00\x02\x82..\x00", re.S)),
    ("DER SEC1 EC private key", re.compile(rb"\x30[\x74\x77]\x02\x01\x01\x04[\x20\x30]", re.S)),
)
ASSIGNMENT = re.compile(
    rb"(?i)(?<![a-z0-9])(pass(?:word|wd|phrase)?|pwd|secret|token|api[_-]?key|psk)\s*[=:]\s*[\"']?([\x21-\x7e]{4,128})")
TOKEN_MIN_LENGTH = 16
TOKEN_MIN_ENTROPY = 3.5  # bits per character: random Base64/hex strings score 4 or more
KNOWN_MIN_LENGTH = 8  # a declared secret shorter than this matches anywhere by accident


@dataclass(frozen=True)
class SecretFinding:
    offset: int
    kind: str
    detail: str = ""  # never a key or token value


@dataclass(frozen=True)
class ScannedImage:
    name: str  # which package (e.g. "updates.valid 1.5.0")
    size: int  # bytes scanned (0: nothing)
    findings: list[SecretFinding] = field(default_factory=list)
    error: str = ""  # why the image could not be read or decoded


def entropy(text: bytes) -> float:
    if not text:
        return 0.0
    counts = Counter(text)
    return -sum(c / len(text) * math.log2(c / len(text)) for c in counts.values())


def _clean_value(raw: bytes) -> bytes:
    return raw.rstrip(b"\"',;)}]>")


def scan_image(data: bytes, default_passwords: Iterable[str] = (),
               declared: Mapping[str, str] | None = None) -> list[SecretFinding]:
    """Every hard-coded secret the rules find in `data` (see the module docstring)."""
    out: list[SecretFinding] = []
    for m in PEM_KEY.finditer(data):
        label = m.group(1).decode().strip()
        out.append(SecretFinding(m.start(), "PEM private key", f"{label + ' ' if label else ''}PRIVATE KEY block"))
    pem_spans = [(m.start(), data.find(b"-----END", m.end()) + 1 or len(data)) for m in PEM_KEY.finditer(data)]
    for kind, rx in DER_KEYS:
        for m in rx.finditer(data):
            if not any(a <= m.start() < b for a, b in pem_spans):
                out.append(SecretFinding(m.start(), kind))
    defaults = {p.encode() for p in default_passwords if p}
    for m in ASSIGNMENT.finditer(data):
        key, value = m.group(1).decode().lower(), _clean_value(m.group(2))
        if any(c in value for c in b"%${}<"):
            continue  # a format placeholder or a template, not a value
        if value in defaults:
            out.append(SecretFinding(m.start(2), "default password in a credential assignment",
                                     f"{key} = {value.decode()!r} (public default-credential list)"))
        elif len(value) >= TOKEN_MIN_LENGTH and entropy(value) >= TOKEN_MIN_ENTROPY:
            out.append(SecretFinding(m.start(2), "high-entropy secret in a credential assignment",
                                     f"{key} = <{len(value)} characters, {entropy(value):.1f} bits/char>"))
    for name, value in (declared or {}).items():
        if len(value) < KNOWN_MIN_LENGTH:
            continue
        start = data.find(value.encode())
        while start >= 0:
            out.append(SecretFinding(start, "declared secret", f"{name} (value withheld)"))
            start = data.find(value.encode(), start + 1)
    return sorted(set(out), key=lambda f: (f.offset, f.kind))


def judge_hardcoded_secrets(images: list[ScannedImage]) -> CheckResult:
    if not images:
        return CheckResult.inconclusive("no firmware image to scan: the profile provides no update package "
                                        "(updates.valid / updates.delivered)")
    rows = [{"image": i.name, "bytes scanned": i.size, "findings": len(i.findings), "error": i.error or None}
            for i in images]
    evidence = [Evidence("table", "firmware images scanned", rows)]
    found = [(i, f) for i in images for f in i.findings]
    if found:
        table = [{"image": i.name, "offset": f"0x{f.offset:08x}", "kind": f.kind, "detail": f.detail} for i, f in found]
        names = "; ".join(f"{f.kind} at 0x{f.offset:x} in {i.name}" for i, f in found[:6])
        more = f" (+{len(found) - 6} more)" if len(found) > 6 else ""
        return CheckResult.failed(f"hard-coded critical security parameter(s) in the firmware: {names}{more}",
                                  Evidence("finding", "hard-coded secrets", table), *evidence)
    broken = [i for i in images if i.error or i.size <= 0]
    if broken:
        return CheckResult.inconclusive("firmware image(s) not scanned: " + "; ".join(
            f"{i.name}: {i.error or 'empty'}" for i in broken), *evidence)
    return CheckResult.passed(f"no private key, default password or high-entropy secret found in "
                              f"{sum(i.size for i in images)} bytes of {len(images)} firmware image(s)", *evidence)
