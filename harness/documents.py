"""Published documents a provision points at (IXIT 2-UserInfo): resolve and fetch them."""

from __future__ import annotations

from typing import Any

from harness.checks.disclosure import FetchedDocument
from harness.links.http import fetch
from harness.profile.resolve import Bench
from harness.scope import OutOfScope, Scope


def user_info(bench: Bench) -> dict[str, Any]:
    """IXIT 2-UserInfo as plain data, with references (e.g. runtime URLs) resolved."""
    info = bench.profile.ixit.user_info
    out: dict[str, Any] = info.model_dump(mode="json")
    if info.disclosure_policy:
        for key in ("url", "policy_url"):
            value = getattr(info.disclosure_policy, key)
            out["disclosure_policy"][key] = bench.resolve(value) if value is not None else None
    if info.support_period and info.support_period.published_at is not None:
        out["support_period"]["published_at"] = bench.resolve(info.support_period.published_at)
    for key in PUBLISHED_URLS:
        value = getattr(info, key, None)
        if value is not None:
            out[key] = bench.resolve(value, where=f"ixit.2-UserInfo.{key}")
    return out


# IXIT 2-UserInfo fields that locate one published document each.
PUBLISHED_URLS = ("privacy_notice", "telemetry_notice", "deletion_instructions", "setup_guide", "setup_check_guide",
                  "change_password_guide")


def fetch_scope(bench: Bench) -> Scope:
    return Scope(list(bench.lab.fetch.allow), timeout=bench.lab.fetch.timeout)


def fetch_ca(bench: Bench) -> str | None:
    if bench.lab.fetch.ca is None:
        return None
    from pathlib import Path
    path = Path(bench.resolve(bench.lab.fetch.ca, where="fetch.ca"))
    return str(path if path.is_absolute() else bench.base_dir / path)


def fetch_document(url: str, scope: Scope, ca: str | None) -> FetchedDocument:
    """Fetch as an anonymous reader would; scope refusals and network errors are lab-side."""
    try:
        resp = fetch(url, scope, ca=ca, timeout=scope.timeout)
    except OutOfScope as exc:
        return FetchedDocument(url=url, status=None, content_type="", text="", error=f"not fetched: {exc}")
    return FetchedDocument(url=url, status=resp.status, content_type=resp.content_type, text=resp.text,
                           error=resp.error)
