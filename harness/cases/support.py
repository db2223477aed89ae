"""Clause 5.3 — Keep software updated: the defined support period (TS 103 701 5.3-13)."""

from __future__ import annotations

from harness.cases.disclosure import fetch_published, published_urls
from harness.checks.support import judge_support_declared, judge_support_published
from harness.documents import user_info
from harness.profile.resolve import Bench
from harness.scope import Scope
from harness.verdict import CheckResult, combine


def support_declared(bench: Bench) -> CheckResult:
    """5.3-13-1: IXIT 2-UserInfo declares the support period's end and where it is published."""
    return judge_support_declared(user_info(bench))


def support_published(bench: Bench, scope: Scope, ca: str | None) -> CheckResult:
    """5.3-13-2: the published support period is readable anonymously and ends when declared
    (on every unit's page when the location names the unit)."""
    support = bench.profile.ixit.user_info.support_period
    url = (user_info(bench).get("support_period", {}) or {}).get("published_at")
    if not url:
        return CheckResult.failed("IXIT 2-UserInfo declares no publication location of the support period")
    until = support.until if support else None
    results = [judge_support_published(fetch_published(bench, u, scope, ca), until)
               for u in published_urls(bench, str(url))]
    if len(results) == 1:
        return results[0]
    return combine(results, all_passed_reason=f"{len(results)} support period pages state the declared end date")
