"""5.4-1 — sensitive security parameters in persistent storage are stored securely (TS 103 701 5.4-1-2).

Judged from what the unit shows at the storage locations its IXIT 10-SecParam declares, searched
for secrets whose values the harness knows (the Wi-Fi key it stored, the account password it set).
A secret is "in clear" when its value, or a mere re-encoding of it (Base64, hex, URL encoding), is
readable there: an encoding is not protection. Evidence names the parameter and the location, never
the value."""

from __future__ import annotations

import base64
import binascii
import urllib.parse
from dataclasses import dataclass

from harness.verdict import CheckResult, Evidence

MIN_SECRET_LENGTH = 6  # shorter values match by accident in any file


@dataclass(frozen=True)
class KnownSecret:
    """A secret value the harness knows, and the IXIT 10-SecParam entry it belongs to."""

    parameter: str  # 10-SecParam id
    what: str  # e.g. "the Wi-Fi key the harness stored"
    value: str


@dataclass(frozen=True)
class StoredLocation:
    """What the unit showed for one declared storage location."""

    parameter: str  # the 10-SecParam entry that declares the location
    location: str
    content: str | None  # None: the location could not be read
    detail: str = ""  # why it could not be read


def clear_forms(value: str) -> dict[str, str]:
    """The value and its plain re-encodings, by name."""
    raw = value.encode()
    return {"in clear": value, "Base64 of the clear value": base64.b64encode(raw).decode(),
            "hex of the clear value": binascii.hexlify(raw).decode(),
            "URL-encoded clear value": urllib.parse.quote(value, safe="")}


def found_form(content: str, secret: str) -> str | None:
    """How `secret` appears readable in `content`, or None."""
    lowered = content.lower()
    for form, text in clear_forms(secret).items():
        if form.startswith("hex"):
            if text.lower() in lowered:
                return form
        elif text in content:
            return form
    return None


def judge_secrets_at_rest(locations: list[StoredLocation], secrets: list[KnownSecret]) -> CheckResult:
    if not locations:
        return CheckResult.inconclusive("the profile declares no IXIT 10-SecParam entry with a `location` to read")
    usable = [s for s in secrets if len(s.value) >= MIN_SECRET_LENGTH]
    if not usable:
        return CheckResult.inconclusive("the harness knows no secret value to look for at the storage locations "
                                        "(none was stored or set on the unit)")
    read = [loc for loc in locations if loc.content is not None]
    unread = [loc for loc in locations if loc.content is None]
    table = [{"parameter": loc.parameter, "location": loc.location,
              "read": "yes" if loc.content is not None else f"no: {loc.detail or 'nothing shown'}",
              "characters": len(loc.content or "")} for loc in locations]
    searched = Evidence("table", "secrets searched for", [{"parameter": s.parameter, "secret": s.what,
                                                            "length": len(s.value)} for s in usable])
    findings = []
    for loc in read:
        for s in usable:
            form = found_form(loc.content or "", s.value)
            if form:
                findings.append({"parameter": s.parameter, "secret": s.what, "location": loc.location, "form": form})
    evidence = [Evidence("table", "storage locations read", table), searched]
    if findings:
        names = "; ".join(f"{f['secret']} (10-SecParam {f['parameter']}) {f['form']} at {f['location']}"
                          for f in findings)
        return CheckResult.failed(f"a sensitive security parameter is stored readable: {names}",
                                  Evidence("finding", "secrets readable at rest", findings), *evidence)
    if unread:
        names = ", ".join(f"{loc.location} ({loc.parameter})" for loc in unread)
        return CheckResult.inconclusive(f"storage location(s) could not be read: {names}", *evidence)
    if not any((loc.content or "").strip() for loc in read):
        return CheckResult.inconclusive("every storage location read back empty", *evidence)
    return CheckResult.passed(
        f"none of {len(usable)} known secret(s) is readable in clear or plainly encoded at "
        f"{len(read)} storage location(s): " + ", ".join(loc.location for loc in read), *evidence)
