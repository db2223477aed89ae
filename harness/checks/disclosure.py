"""5.2-1: vulnerability disclosure policy, with an RFC 9116 security.txt parser.

Our own parser: no maintained Python library parses security.txt with the errors a lab needs
(which rule, which line); RFC 9116 is small. Malformed input never raises: it becomes errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from harness.verdict import CheckResult, Evidence, combine

KNOWN = {"acknowledgments", "canonical", "contact", "encryption", "expires", "hiring", "policy",
         "preferred-languages", "csaf"}


@dataclass
class FetchedDocument:
    url: str
    status: int | None
    content_type: str
    text: str
    error: str | None = None
    authenticated: bool = False


@dataclass
class SecurityTxt:
    fields: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    signed: bool = False


def parse_security_txt(text: str, *, now: datetime, source_url: str | None = None) -> SecurityTxt:
    out = SecurityTxt()
    if "\x00" in text:
        out.errors.append("binary content")
        return out
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[0].startswith("-----BEGIN PGP SIGNED MESSAGE-----"):
        out.signed = True
        try:
            start = lines.index("") + 1
            end = lines.index("-----BEGIN PGP SIGNATURE-----")
            lines = [ln[2:] if ln.startswith("- ") else ln for ln in lines[start:end]]
        except ValueError:
            out.errors.append("malformed OpenPGP cleartext signature")
            return out
    for n, line in enumerate(lines, 1):
        s = line.strip()
        if not s or s.startswith("#"):
            continue
        m = re.match(r"^([A-Za-z0-9-]+):\s*(.+)$", s)
        if not m:
            out.errors.append(f"line {n}: not a field")
            continue
        name, value = m.group(1).lower(), m.group(2).strip()
        if name not in KNOWN:
            out.unknown.append(name)
            continue
        out.fields.setdefault(name, []).append(value)
        if name in ("contact", "policy", "encryption", "acknowledgments", "canonical", "hiring", "csaf"):
            if not (value.startswith("https://") or (name == "contact" and value.startswith(("mailto:", "tel:")))):
                out.errors.append(f"line {n}: {name} must be an https URI" + (" (or mailto:/tel:)" if name == "contact" else ""))
    if not out.fields.get("contact"):
        out.errors.append("no Contact field")
    expires = out.fields.get("expires", [])
    if not expires:
        out.errors.append("no Expires field")
    elif len(expires) > 1:
        out.errors.append("more than one Expires field")
    else:
        try:
            when = datetime.fromisoformat(expires[0].replace("Z", "+00:00"))
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            if when < now:
                out.errors.append(f"expired on {expires[0]}")
            elif when > now + timedelta(days=366):
                out.warnings.append("Expires is more than a year ahead (RFC 9116 recommends less)")
        except ValueError:
            out.errors.append(f"Expires is not an RFC 3339 date: {expires[0]!r}")
    if source_url and out.fields.get("canonical") and source_url not in out.fields["canonical"]:
        out.warnings.append("Canonical does not list the URL it was fetched from")
    return out


_NUM = r"(\d+|one|two|three|five|seven|ten|fourteen|thirty)"
_UNIT = r"(working |business |calendar )?(hours?|days?|weeks?|months?)"
ACK = re.compile(rf"acknowledg\w*[^.]*?\b{_NUM}\s+{_UNIT}", re.I)
STATUS = re.compile(rf"(status|progress)\s+updates?[^.]*?\b{_NUM}\s+{_UNIT}|update[^.]*?every\s+{_NUM}\s+{_UNIT}", re.I)


def _timelines(text: str) -> dict[str, str | None]:
    plain = re.sub(r"<[^>]+>", " ", text)
    a, s = ACK.search(plain), STATUS.search(plain)
    return {"acknowledgement": a.group(0) if a else None, "status updates": s.group(0) if s else None}


def judge_policy_declared(user_info: dict[str, Any]) -> CheckResult:
    policy = user_info.get("disclosure_policy")
    if isinstance(policy, str):
        policy = {"url": policy}
    policy = policy or {}
    missing = [k for k, label in (("url", "publication location"), ("contact", "contact"),
                                  ("acknowledgement", "acknowledgement timeline"),
                                  ("status_updates", "status-update timeline")) if not policy.get(k)]
    ev = Evidence("table", "IXIT 2-UserInfo disclosure policy", [{k: policy.get(k) for k in
                                                                   ("url", "contact", "acknowledgement", "status_updates")}])
    if missing:
        return CheckResult.failed(f"IXIT 2-UserInfo does not declare the policy's {', '.join(missing)}", ev)
    return CheckResult.passed("IXIT declares where the policy is published, a contact and both timelines", ev)


def judge_policy_published(fetched: list[FetchedDocument], declared: dict[str, Any], *,
                           now: datetime | None = None) -> CheckResult:
    now = now or datetime.now(UTC)
    parts: list[CheckResult] = []
    texts = []
    contact_found = False
    for doc in fetched:
        if doc.error:
            parts.append(CheckResult.inconclusive(f"{doc.url}: not fetched ({doc.error})"))
            continue
        if doc.status is None or doc.status >= 500 or doc.status in (408, 429) or 300 <= doc.status < 400:
            # A server error, throttling or redirect says nothing about what is published.
            parts.append(CheckResult.inconclusive(f"{doc.url}: could not be judged (HTTP {doc.status})"))
            continue
        if doc.status in (401, 403):
            parts.append(CheckResult.failed(f"{doc.url}: needs an account (HTTP {doc.status})"))
            continue
        if doc.status != 200:
            parts.append(CheckResult.failed(f"{doc.url}: not published (HTTP {doc.status})"))
            continue
        ev = {"url": doc.url, "http status": doc.status}
        if doc.url.endswith("security.txt"):
            sec = parse_security_txt(doc.text, now=now, source_url=doc.url)
            ev.update(fields=sec.fields, errors=sec.errors, warnings=sec.warnings, signed=sec.signed)
            if sec.errors:
                parts.append(CheckResult.failed(f"{doc.url}: security.txt errors: {'; '.join(sec.errors)}",
                                                Evidence("document", doc.url, ev)))
                continue
            contact_found = True
        else:
            contact_found = contact_found or bool(re.search(r"mailto:|@|https://", doc.text))
        texts.append(doc.text)
        ev["timelines"] = _timelines(doc.text)
        parts.append(CheckResult.passed(f"{doc.url} published", Evidence("document", doc.url, ev)))
    if not any(p.verdict.value in ("FAIL", "INCONCLUSIVE") for p in parts):
        found = _timelines("\n".join(texts))
        missing = [k for k, v in found.items() if not v]
        if not contact_found:
            parts.append(CheckResult.failed("no contact point in the published policy"))
        if missing:
            parts.append(CheckResult.failed(f"the published policy states no {' and no '.join(missing)} timeline"))
        else:
            parts.append(CheckResult.passed("contact and both timelines are published",
                                            Evidence("table", "timelines found", [found])))
    return combine(parts)
