"""Clause 5.2 — Means to manage reports of vulnerabilities (TS 103 701 5.2-1).

Also the fetching of every published document (5.2-1, 5.3-13): URLs may name the unit
(``{{unit.address}}``, ``{{unit.serial}}``); a page served over weak TLS is still read (and the
weakness recorded); a page the bench cannot reach may come from a lab-fetched copy whose URL,
fetch date and SHA-256 the lab configuration records (``fetch.copies``)."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

from harness.checks.disclosure import judge_policy_declared, judge_policy_published
from harness.checks.published import FetchedDocument
from harness.documents import fetch_document, user_info
from harness.profile.resolve import Bench
from harness.scope import Scope
from harness.verdict import CheckResult

# OpenSSL reasons for a handshake that failed on the server's protocol or key strength — not on
# trust: a certificate that does not verify is never read around.
_WEAK_TLS = re.compile(r"unsupported protocol|no protocols available|version too low|alert protocol version|"
                       r"handshake failure|dh key too small|ee key too small|ca md too weak|no ciphers|"
                       r"insufficient security|unsafe legacy renegotiation|legacy sigalg|key too weak", re.I)
_TYPES = {".txt": "text/plain", ".html": "text/html", ".htm": "text/html", ".md": "text/plain"}


def _unit_variables(bench: Bench, unit: Any) -> dict[str, Any]:
    try:
        address = bench.address(unit.id) or ""
    except Exception:  # noqa: BLE001 - a unit not on this bench: its address is simply unknown
        address = ""
    return {"unit": {"id": unit.id, "serial": unit.serial, "mac": unit.mac or "", "address": address},
            "product": bench.profile.product.model_dump()}


def published_urls(bench: Bench, template: str) -> list[str]:
    """The URL(s) a declared location stands for: one per unit when it names the unit."""
    if "{{" not in template:
        return [template]
    from harness.procedures import render

    out: list[str] = []
    for unit in bench.profile.units:
        try:
            url, _ = render(template, _unit_variables(bench, unit))
        except Exception:  # noqa: BLE001 - a variable this unit lacks: that unit has no such page
            continue
        parts = url.split("://", 1)
        if len(parts) == 2 and parts[1] and not parts[1].startswith(("/", ":")) and url not in out:
            out.append(url)
    return out or [template]


def _copies(bench: Bench) -> list[dict[str, Any]]:
    raw = getattr(bench.lab.fetch, "copies", None) or []
    return [c.model_dump() if hasattr(c, "model_dump") else dict(c) for c in raw]


def lab_copy(bench: Bench, url: str, why: str) -> FetchedDocument | None:
    """The lab's copy of ``url``, verified against its recorded SHA-256; None when there is none.
    A copy without its fetch date and hash is not used: it would be trusted silently."""
    entry = next((c for c in _copies(bench) if str(c.get("url", "")).rstrip("/") == url.rstrip("/")), None)
    if entry is None:
        return None
    fetched, digest, file = entry.get("fetched"), str(entry.get("sha256") or "").lower(), entry.get("file")
    if not (fetched and digest and file):
        return FetchedDocument(url, None, "", "", error="the lab copy of this URL lacks its file, fetch date or "
                               "sha256, so it is not used", source="lab copy")
    path = Path(str(bench.resolve(file, where="fetch.copies.file")))
    path = path if path.is_absolute() else bench.base_dir / path
    try:
        data = path.read_bytes()
    except OSError as exc:
        return FetchedDocument(url, None, "", "", error=f"the lab copy {path.name} cannot be read: {exc.strerror}",
                               source="lab copy")
    actual = hashlib.sha256(data).hexdigest()
    note = f"lab copy {path.name} of {url}, fetched {fetched}, sha256 {actual}; the bench could not fetch it: {why}"
    if actual != digest:
        return FetchedDocument(url, None, "", "", error=f"the lab copy {path.name} does not match its recorded "
                               f"sha256 ({digest[:16]}…, file has {actual[:16]}…)", source="lab copy", note=note)
    return FetchedDocument(url, 200, _TYPES.get(path.suffix.lower(), "text/plain"),
                           data.decode("utf-8", errors="replace"), source="lab copy", note=note)


def fetch_published(bench: Bench, url: str, scope: Scope, ca: str | None) -> FetchedDocument:
    """An anonymous read of a published document: live first; over weak TLS again with legacy
    settings (chain and name still verified) and the weakness noted; else the lab's copy."""
    doc = fetch_document(url, scope, ca)
    if doc.error and url.lower().startswith("https://") and _WEAK_TLS.search(doc.error):
        from harness.links.http import fetch

        again = fetch(url, scope, ca=ca, timeout=scope.timeout, legacy_tls=True)
        if not again.error:
            return FetchedDocument(url, again.status, again.content_type, again.text, note=(
                f"served over weak TLS ({doc.error}); read with legacy protocol settings, certificate still "
                "verified (5.5-1-2 judges the TLS)"))
    if doc.error:
        copy = lab_copy(bench, url, doc.error)
        if copy is not None:
            return copy
    return doc


def policy_declared(bench: Bench) -> CheckResult:
    """5.2-1-1: IXIT 2-UserInfo locates the policy, gives a contact and both timelines."""
    return judge_policy_declared(user_info(bench))


def policy_published(bench: Bench, scope: Scope, ca: str | None) -> CheckResult:
    """5.2-1-2: the published policy is reachable anonymously and says what the IXIT declares."""
    declared = user_info(bench)
    policy = declared.get("disclosure_policy") or {}
    templates = [u for u in (policy.get("url"), policy.get("policy_url")) if u]
    if not templates:
        return CheckResult.failed("IXIT 2-UserInfo declares no location of the disclosure policy")
    urls = [u for t in templates for u in published_urls(bench, str(t))]
    fetched = [fetch_published(bench, u, scope, ca) for u in dict.fromkeys(urls)]
    return judge_policy_published(fetched, declared)
