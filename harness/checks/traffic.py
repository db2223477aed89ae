"""5.5-7 and 5.8-2: credentials, security parameters and personal data never cross a network in
plaintext. Judged on what the lab broker captured from the device, with the transport known
(each lab broker instance is one transport)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from harness.verdict import CheckResult, Evidence

# Field names that carry security parameters whatever their value (JSON keys, key=value pairs).
_SECURITY_KEYS = re.compile(r"[\"']?(pass(word|wd|phrase)?|psk|secret|token|api[_-]?key|private[_-]?key|"
                            r"credential|auth)[\"']?\s*[:=]", re.I)


@dataclass
class Observed:
    transport: str  # plain | tls | rogue
    topic: str
    payload: str


@dataclass
class Planted:
    """A value the harness knows is sensitive: a planted Wi-Fi key, a label password, a token."""

    name: str
    value: str
    kind: str  # "security" (credential, key) or "personal"


def _variants(value: str) -> list[str]:
    raw = value.encode()
    return [value, base64.b64encode(raw).decode(), raw.hex()]


def _findings(messages: list[Observed], planted: list[Planted], kind: str) -> list[dict[str, str]]:
    out = []
    for m in messages:
        if m.transport != "plain":
            continue
        for p in planted:
            if p.kind == kind and len(p.value) >= 4 and any(v in m.payload for v in _variants(p.value)):
                out.append({"topic": m.topic, "transport": "plaintext MQTT", "carries": p.name})
        if kind == "security":
            for hit in {h.group(0).strip("\"': =") for h in _SECURITY_KEYS.finditer(m.payload)}:
                out.append({"topic": m.topic, "transport": "plaintext MQTT", "carries": f"field {hit!r}"})
    return out


def _judge(messages: list[Observed], planted: list[Planted], kind: str, what: str) -> CheckResult:
    by_transport: dict[str, int] = {}
    for m in messages:
        by_transport[m.transport] = by_transport.get(m.transport, 0) + 1
    summary = Evidence("table", "captured device traffic", [{"transport": t, "messages": n}
                                                            for t, n in sorted(by_transport.items())])
    if not messages:
        return CheckResult.inconclusive("the device published nothing the lab broker captured, so its traffic "
                                        "could not be judged", summary)
    findings = _findings(messages, planted, kind)
    if findings:
        ev = Evidence("table", f"{what} in plaintext", findings)
        where = sorted({f["topic"] for f in findings})
        return CheckResult.failed(f"{what} sent in plaintext on {', '.join(where)}", summary, ev)
    plain = by_transport.get("plain", 0)
    detail = (f"{plain} plaintext message(s) carry none" if plain else "all captured traffic used TLS")
    return CheckResult.passed(f"{len(messages)} captured message(s): {detail}", summary)


def judge_security_parameters(messages: list[Observed], planted: list[Planted]) -> CheckResult:
    """5.5-7-2: credentials and security parameters are not sent unencrypted."""
    return _judge(messages, planted, "security", "credentials or security parameters")


def judge_personal_data(messages: list[Observed], planted: list[Planted]) -> CheckResult:
    """5.8-2-2: sensitive personal data is not sent unencrypted."""
    return _judge(messages, planted, "personal", "personal data")
