"""5.2-1: the vulnerability disclosure policy, with an RFC 9116 security.txt parser.

Our own parser: RFC 9116 is small and a lab needs every problem named (which rule, which line),
not a yes/no. Malformed input never raises: it becomes errors.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from harness.checks.published import (
    FetchedDocument,
    excerpt,
    plain_text,
    reachability,
    sentences,
)
from harness.verdict import CheckResult, Evidence, combine

__all__ = ["FetchedDocument", "SecurityTxt", "find_timelines", "judge_policy_declared", "judge_policy_published",
           "parse_security_txt"]

# RFC 9116 section 2.5 plus the IANA registry's later addition (CSAF).
KNOWN_FIELDS = ("acknowledgments", "canonical", "contact", "csaf", "encryption", "expires", "hiring", "policy",
                "preferred-languages")
URI_FIELDS = {"acknowledgments", "canonical", "contact", "csaf", "encryption", "hiring", "policy"}
_EXTRA_SCHEMES = {"contact": {"mailto", "tel"}, "encryption": {"dns", "openpgp4fpr"}}
_ONCE = ("expires", "preferred-languages")
_MISSPELT = {"acknowledgements": "Acknowledgments", "contacts": "Contact", "expiry": "Expires",
             "expire": "Expires", "preferred-language": "Preferred-Languages"}
_RFC3339 = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
_BEGIN_SIGNED = "-----BEGIN PGP SIGNED MESSAGE-----"
_BEGIN_SIG = "-----BEGIN PGP SIGNATURE-----"
_END_SIG = "-----END PGP SIGNATURE-----"


@dataclass
class SecurityTxt:
    """A parsed security.txt. fields maps the lower-case field name to its values in file order."""

    fields: dict[str, list[str]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    signed: bool = False
    expires: datetime | None = None
    body: str = ""

    def get(self, name: str) -> list[str]:
        return self.fields.get(name.lower(), [])

    @property
    def contacts(self) -> list[str]:
        """Contact values a reporter can use: RFC-valid URIs, plus http: and bare e-mail
        addresses (still errors against the RFC, but a human can reach someone with them)."""
        out = []
        for v in self.get("contact"):
            scheme = _scheme(v)
            if scheme in ("https", "http", "mailto", "tel") or (not scheme and _EMAIL.fullmatch(v)):
                out.append(v)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {"fields": self.fields, "signed": self.signed, "signature verified": False if self.signed else None,
                "expires": self.expires.isoformat() if self.expires else None, "errors": self.errors,
                "warnings": self.warnings, "unknown fields": self.unknown}


def _scheme(value: str) -> str:
    m = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*):", value)
    return m.group(1).lower() if m else ""


def _split_lines(text: str) -> list[str]:
    return re.split(r"\r\n|\r|\n", text)


def _unwrap_signed(lines: list[str], out: SecurityTxt) -> list[str] | None:
    """The body of an OpenPGP cleartext-signed message (RFC 4880 section 7), dash-unescaped."""
    start = next(i for i, ln in enumerate(lines) if ln.strip())
    i = start + 1
    while i < len(lines) and lines[i].strip():  # armour headers such as "Hash: SHA256"
        i += 1
    if i >= len(lines):
        out.errors.append("OpenPGP signed message: no blank line after the armour headers")
        return None
    try:
        end = next(j for j in range(i + 1, len(lines)) if lines[j].strip() == _BEGIN_SIG)
    except StopIteration:
        out.errors.append("OpenPGP signed message: no signature block")
        return None
    if not any(ln.strip() == _END_SIG for ln in lines[end + 1:]):
        # The body is intact; only a verifier would trip over it, and the harness does not verify.
        out.warnings.append("OpenPGP signed message: the signature block is not terminated")
    return [ln[2:] if ln.startswith("- ") else ln for ln in lines[i + 1:end]]


def _check_uri(name: str, value: str, n: int, out: SecurityTxt) -> None:
    label = name.capitalize() if name != "csaf" else "CSAF"
    scheme = _scheme(value)
    allowed = {"https"} | _EXTRA_SCHEMES.get(name, set())
    if not scheme:
        hint = " (write it as mailto:…)" if name == "contact" and _EMAIL.fullmatch(value) else ""
        out.errors.append(f"line {n}: {label} is not a URI{hint}")
    elif scheme == "http":
        out.errors.append(f"line {n}: {label} uses http:, RFC 9116 requires https for web URIs")
    elif scheme not in allowed:
        out.errors.append(f"line {n}: {label} uses the scheme {scheme}:, allowed are "
                          f"{', '.join(sorted(s + ':' for s in allowed))}")
    elif scheme == "https" and not urlsplit(value).hostname:
        out.errors.append(f"line {n}: {label} is an https URI without a host")


def _same_url(a: str, b: str) -> bool:
    pa, pb = urlsplit(a.strip()), urlsplit(b.strip())
    return ((pa.scheme.lower(), (pa.hostname or "").lower(), pa.port, pa.path or "/", pa.query)
            == (pb.scheme.lower(), (pb.hostname or "").lower(), pb.port, pb.path or "/", pb.query))


def parse_security_txt(text: str | bytes, *, now: datetime, source_url: str | None = None) -> SecurityTxt:
    """Parse an RFC 9116 security.txt; every problem becomes an error or a warning, never an exception."""
    out = SecurityTxt()
    if isinstance(text, bytes | bytearray):
        text = bytes(text).decode("utf-8", errors="replace")
    if not isinstance(text, str):
        out.errors.append(f"not text ({type(text).__name__})")
        return out
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    text = text.removeprefix("\ufeff")
    controls = sum(1 for ch in text if ord(ch) < 32 and ch not in "\t\r\n")
    limit = max(2, len(text) // 100)
    if "\x00" in text or text.count("\ufffd") > limit or controls > limit:
        out.errors.append("the document is binary or not UTF-8 text")
        out.errors.append("no Contact field")
        return out
    lines = _split_lines(text)
    if any(ln.strip() for ln in lines) and next(ln for ln in lines if ln.strip()).strip() == _BEGIN_SIGNED:
        out.signed = True
        body = _unwrap_signed(lines, out)
        if body is None:
            out.errors.append("no Contact field")
            return out
        lines = body
    elif any(ln.strip() in (_BEGIN_SIGNED, _BEGIN_SIG) for ln in lines):
        out.errors.append("OpenPGP armour appears but not at the start of the document")
    out.body = "\n".join(lines)

    expires_raw: list[tuple[int, str]] = []
    for n, raw in enumerate(lines, 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line in (_BEGIN_SIGNED, _BEGIN_SIG, _END_SIG):
            continue
        m = re.fullmatch(r"([!-9;-~]+):[ \t]*(.*)", line)
        if not m:
            out.errors.append(f"line {n}: not a 'Field: value' line: {excerpt(line, 60)!r}")
            continue
        name, value = m.group(1).lower(), m.group(2).strip()
        if name not in KNOWN_FIELDS:
            out.unknown.append(m.group(1))
            if name in _MISSPELT:
                out.warnings.append(f"line {n}: unknown field {m.group(1)!r}, did you mean {_MISSPELT[name]}?")
            continue
        if not value:
            out.errors.append(f"line {n}: {m.group(1)} has no value")
            continue
        out.fields.setdefault(name, []).append(value)
        if name in URI_FIELDS:
            _check_uri(name, value, n, out)
        elif name == "expires":
            expires_raw.append((n, value))
        elif name == "preferred-languages":
            tags = [t.strip() for t in value.split(",")]
            if not all(re.fullmatch(r"[A-Za-z]{1,8}(-[A-Za-z0-9]{1,8})*", t) for t in tags):
                out.warnings.append(f"line {n}: Preferred-Languages is not a comma-separated list of language tags")

    for name in _ONCE:
        if len(out.get(name)) > 1:
            label = "Expires" if name == "expires" else "Preferred-Languages"
            out.errors.append(f"more than one {label} field")
    if not out.get("contact"):
        out.errors.append("no Contact field")
    _check_expires(expires_raw, now, out)
    canon = out.get("canonical")
    if source_url and canon and not any(_same_url(c, source_url) for c in canon):
        out.warnings.append(f"Canonical does not list the URL the file was fetched from ({source_url})")
    return out


def _check_expires(values: list[tuple[int, str]], now: datetime, out: SecurityTxt) -> None:
    if not values:
        out.errors.append("no Expires field")
        return
    n, value = values[0]
    if not _RFC3339.match(value):
        out.errors.append(f"line {n}: Expires is not an RFC 3339 date-time: {excerpt(value, 40)!r}")
        return
    try:
        when = datetime.fromisoformat(value.upper().replace("Z", "+00:00").replace(" ", "T"))
    except ValueError:
        out.errors.append(f"line {n}: Expires is not a valid date-time: {excerpt(value, 40)!r}")
        return
    out.expires = when
    if when <= now:
        out.errors.append(f"Expires {value} is in the past: the file has expired and is stale")
    elif when > now + timedelta(days=365):
        out.warnings.append(f"Expires {value} is more than a year ahead (RFC 9116 recommends less than a year)")


# --- timelines in policy text ---------------------------------------------------------------------

_NUMBER = (r"(?:\d+(?:[.,]\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fourteen|"
           r"fifteen|twenty|thirty|forty-eight|seventy-two|ninety)")
_DURATION = (rf"(?:\b{_NUMBER}\s*(?:\(\d+\)\s*)?-?\s*(?:(?:working|business|calendar)\s*-?\s*)?"
             r"(?:hours?|hrs?|h|days?|d|weeks?|wks?|months?)\b|\b(?:daily|weekly|fortnightly|monthly)\b"
             r"|\bnext (?:working|business) day\b)")
_ACK_KW = (r"(?:acknowledg\w*|confirm(?:s|ation)?\s+(?:of\s+)?(?:the\s+)?receipt|initial\s+(?:response|reply)"
           r"|first\s+(?:response|reply)|respond|reply|get back to (?:you|the reporter))")
_STATUS_KW = (r"(?:status[\s-]+updates?|updates?\s+(?:on|about|regarding)\s+(?:the\s+)?(?:status|progress)"
              r"|progress\s+(?:updates?|reports?)|keep\s+(?:you|the\s+reporters?|reporters|researchers)\s+"
              r"(?:informed|updated|posted)|inform(?:ed)?\s+(?:you\s+|them\s+)?(?:of|about)\s+(?:the\s+)?progress"
              r"|regular\s+updates?|update\s+(?:you|the\s+reporters?|reporters))")
_GAP_ACK = r"(?:(?!update|status|progress)[^.;!?\n]){0,120}?"
_GAP_STATUS = r"(?:(?!acknowledg)[^.;!?\n]){0,120}?"
ACK_RX = re.compile(rf"{_ACK_KW}{_GAP_ACK}{_DURATION}|{_DURATION}{_GAP_ACK}{_ACK_KW}", re.I)
STATUS_RX = re.compile(rf"{_STATUS_KW}{_GAP_STATUS}{_DURATION}|{_DURATION}{_GAP_STATUS}{_STATUS_KW}", re.I)
DURATION_RX = re.compile(_DURATION, re.I)


def find_timelines(text: str) -> dict[str, list[str]]:
    """Sentences that state an acknowledgement timeline and a status-update timeline (a number
    and a unit are required; phrasing is matched generously)."""
    found: dict[str, list[str]] = {"acknowledgement": [], "status updates": []}
    for s in sentences(text):
        if ACK_RX.search(s):
            found["acknowledgement"].append(excerpt(s))
        if STATUS_RX.search(s):
            found["status updates"].append(excerpt(s))
    return found


def _contact_in_text(text: str, declared_contact: str | None) -> list[str]:
    hits = []
    if declared_contact:
        bare = re.sub(r"^(mailto|tel):", "", declared_contact.strip(), flags=re.I)
        if bare and bare.lower() in text.lower():
            hits.append("the declared contact")
    if _EMAIL.search(text) or re.search(r"mailto:", text, re.I):
        hits.append("an e-mail address")
    for s in sentences(text):
        if re.search(r"contact|report|submit|send", s, re.I) and re.search(r"https://\S+", s):
            hits.append("a reporting URL")
            break
    return hits


# --- judgements -----------------------------------------------------------------------------------

def _policy_dict(user_info: dict[str, Any] | None) -> dict[str, Any]:
    policy = (user_info or {}).get("disclosure_policy")
    if isinstance(policy, str):
        return {"url": policy}
    return dict(policy) if isinstance(policy, dict) else {}


def _text(v: Any) -> str:
    return v.strip() if isinstance(v, str) else ("" if v is None else str(v))


def judge_policy_declared(user_info: dict[str, Any]) -> CheckResult:
    """5.2-1-1: IXIT 2-UserInfo names where the policy is published, a contact, and both timelines
    (each timeline with a duration, e.g. '5 working days', 'every 30 days', 'weekly')."""
    policy = _policy_dict(user_info)
    ev = Evidence("table", "IXIT 2-UserInfo disclosure policy", [{
        k: policy.get(k) for k in ("url", "policy_url", "contact", "acknowledgement", "status_updates")}])
    if not policy:
        return CheckResult.failed("IXIT 2-UserInfo declares no vulnerability disclosure policy", ev)
    missing = []
    if not (_text(policy.get("url")) or _text(policy.get("policy_url"))):
        missing.append("publication location")
    if not _text(policy.get("contact")):
        missing.append("contact")
    for key, label in (("acknowledgement", "acknowledgement timeline"), ("status_updates", "status-update timeline")):
        value = _text(policy.get(key))
        if not value:
            missing.append(label)
        elif not DURATION_RX.search(value):
            missing.append(f"{label} with a duration ({value!r} states none)")
    if missing:
        return CheckResult.failed(f"IXIT 2-UserInfo does not declare the disclosure policy's {', '.join(missing)}", ev)
    return CheckResult.passed("IXIT 2-UserInfo declares where the disclosure policy is published, a contact, and "
                              "the acknowledgement and status-update timelines", ev)


def _is_security_txt(doc: FetchedDocument) -> bool:
    if urlsplit(doc.url).path.lower().endswith("security.txt"):
        return True
    head = doc.text.lstrip()[:200]
    return head.startswith(_BEGIN_SIGNED) or ("text/plain" in doc.content_type.lower()
                                               and bool(re.search(r"(?im)^contact:", doc.text)))


def judge_policy_published(fetched: list[FetchedDocument], declared: dict[str, Any], *,
                           now: datetime | None = None) -> CheckResult:
    """5.2-1-2: the declared documents are readable without an account and together state a
    contact, an acknowledgement timeline and a status-update timeline.

    A lab-side fetch problem is INCONCLUSIVE; 401/403/404 is FAIL. Missing content is FAIL only
    when every document that could hold it was read; if a declared document could not be fetched,
    or the security.txt points at a Policy that was not fetched, it is INCONCLUSIVE.
    """
    now = now or datetime.now(UTC)
    policy = _policy_dict(declared)
    if not fetched:
        return CheckResult.inconclusive("no published document was fetched")
    parts: list[CheckResult] = []
    docs_ev: list[Evidence] = []
    contact_hits: list[str] = []
    timelines: dict[str, list[str]] = {"acknowledgement": [], "status updates": []}
    linked_policies: list[str] = []
    rfc_notes: list[str] = []  # RFC 9116 defects that do not decide 5.2-1 but belong in the reason
    unread = False
    for doc in fetched:
        ev: dict[str, Any] = {"url": doc.url, "http status": doc.status, "content type": doc.content_type,
                              "error": doc.error, "authenticated": doc.authenticated, **doc.provenance()}
        problem = reachability(doc, "the disclosure policy")
        if problem is not None:
            parts.append(problem)
            unread = unread or problem.verdict.value == "INCONCLUSIVE"
            docs_ev.append(Evidence("document", doc.url, ev))
            continue
        text = plain_text(doc)
        if _is_security_txt(doc):
            sec = parse_security_txt(doc.text, now=now, source_url=doc.url)
            ev["security.txt"] = sec.to_dict()
            if "text/plain" not in doc.content_type.lower():
                sec.warnings.append(f"served as {doc.content_type or 'no content type'}, RFC 9116 wants text/plain")
            if sec.contacts:
                contact_hits.append(f"security.txt Contact at {doc.url}")
            else:
                why = "; ".join(e for e in sec.errors if "Contact" in e or "line" not in e) or "no Contact field"
                parts.append(CheckResult.failed(f"the security.txt at {doc.url} gives no usable Contact ({why})"))
            linked_policies += sec.get("policy")
            rfc_notes += [f"{doc.url}: {e}" for e in sec.errors if "Expires" in e]
            text = re.sub(r"(?m)^\s*#\s?", "", sec.body)  # comments may carry the policy's sentences
        else:
            hits = _contact_in_text(text, _text(policy.get("contact")) or None)
            if hits:
                contact_hits.append(f"{' and '.join(hits)} in {doc.url}")
        found = find_timelines(text)
        ev["sentences found"] = found
        for k, v in found.items():
            timelines[k] += v
        docs_ev.append(Evidence("document", doc.url, ev))

    readable = any(reachability(d) is None for d in fetched)
    if readable:
        missing = ([] if contact_hits else ["contact"]) + [
            f"{k} timeline" for k in ("acknowledgement", "status updates") if not timelines[k]]
        fetched_urls = [d.url for d in fetched]
        not_fetched = [u for u in linked_policies if u.lower().startswith(("https://", "http://"))
                       and not any(_same_url(u, f) for f in fetched_urls)]
        if missing and (unread or not_fetched):
            where = (f"the security.txt's Policy {', '.join(not_fetched)} was not fetched" if not_fetched
                     else "a declared document could not be fetched")
            parts.append(CheckResult.inconclusive(
                f"the documents read state no {' and no '.join(missing)}, but {where}"))
        elif missing:
            parts.append(CheckResult.failed(f"the published disclosure policy states no {' and no '.join(missing)}"))
        else:
            parts.append(CheckResult.passed("contact and both timelines found", Evidence(
                "observation", "found", {"contact": contact_hits, **timelines})))
    # An expired security.txt is stale by RFC 9116, but 5.2-1 asks for a published policy with a
    # contact and timelines, which the documents read still give: reported, not decisive.
    note = f" (RFC 9116 findings, not decisive for 5.2-1: {'; '.join(rfc_notes)})" if rfc_notes else ""
    result = combine(parts, all_passed_reason=(
        "the disclosure policy is readable without an account and states a contact, an acknowledgement "
        "timeline and a status-update timeline" + note))
    summary = Evidence("table", "disclosure policy content", [{
        "contact found": contact_hits, "acknowledgement sentences": timelines["acknowledgement"],
        "status-update sentences": timelines["status updates"],
        "IXIT acknowledgement": policy.get("acknowledgement"), "IXIT status updates": policy.get("status_updates")}])
    result.evidence = [*docs_ev, summary]
    return result
