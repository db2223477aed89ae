"""The manufacturer's published documents the HTTPS server serves, shaped by the behaviour."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from harness.sim.catalog import MODEL, Behaviour

SECURITY_TXT = "/.well-known/security.txt"
POLICY = "/security/policy"
SUPPORT = "/support"
ACK_TIMELINE = "We acknowledge every report within 5 working days."
STATUS_TIMELINE = "We send status updates at least every 30 days until the issue is resolved."
SUPPORT_END = dt.date(2030, 12, 31)


@dataclass(frozen=True)
class Document:
    content_type: str
    body: str


def _html(title: str, body: str) -> str:
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>\n'
            f"<body>\n<h1>{title}</h1>\n{body}\n</body></html>\n")


def _security_txt(kind: str, base: str, now: dt.datetime) -> str:
    expires = now + (dt.timedelta(days=-30) if kind == "expired" else dt.timedelta(days=365))
    lines = ["# SimIoT Ltd security contact (RFC 9116)"]
    if kind != "no_contact":
        lines += ["Contact: mailto:security@simiot.example", "Contact: https://simiot.example/security/report"]
    lines += [f"Expires: {expires.strftime('%Y-%m-%dT%H:%M:%SZ')}", f"Policy: {base}{POLICY}",
              "Preferred-Languages: en", f"Canonical: {base}{SECURITY_TXT}"]
    return "\n".join(lines) + "\n"


def _policy(timelines: bool) -> str:
    body = ("<p>SimIoT Ltd welcomes reports of security vulnerabilities in its products. Report them to "
            '<a href="mailto:security@simiot.example">security@simiot.example</a>.</p>')
    if timelines:
        body += f"\n<p>{ACK_TIMELINE}</p>\n<p>{STATUS_TIMELINE}</p>"
    return _html("Vulnerability disclosure policy", body)


def _support(end_date: bool) -> str:
    if end_date:
        body = (f"<p>Security updates for the {MODEL} are provided until "
                f'<time datetime="{SUPPORT_END.isoformat()}">31 December 2030</time>.</p>')
    else:
        body = "<p>We support our products for as long as commercially reasonable.</p>"
    return _html(f"{MODEL} support", body)


def documents(behaviour: Behaviour, base: str, now: dt.datetime | None = None) -> dict[str, Document]:
    """Path -> document; a path not in the mapping is a 404."""
    now = now or dt.datetime.now(dt.UTC)
    html = "text/html; charset=utf-8"
    docs = {POLICY: Document(html, _policy(behaviour.policy_timelines)),
            SUPPORT: Document(html, _support(behaviour.support_end_date))}
    if behaviour.security_txt != "absent":
        docs[SECURITY_TXT] = Document("text/plain; charset=utf-8", _security_txt(behaviour.security_txt, base, now))
    return docs
