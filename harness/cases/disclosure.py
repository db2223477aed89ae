"""Clause 5.2 — Means to manage reports of vulnerabilities (TS 103 701 5.2-1)."""

from __future__ import annotations

from harness.checks.disclosure import judge_policy_declared, judge_policy_published
from harness.documents import fetch_document, user_info
from harness.profile.resolve import Bench
from harness.scope import Scope
from harness.verdict import CheckResult


def policy_declared(bench: Bench) -> CheckResult:
    """5.2-1-1: IXIT 2-UserInfo locates the policy, gives a contact and both timelines."""
    return judge_policy_declared(user_info(bench))


def policy_published(bench: Bench, scope: Scope, ca: str | None) -> CheckResult:
    """5.2-1-2: the published policy is reachable anonymously and says what the IXIT declares."""
    declared = user_info(bench)
    policy = declared.get("disclosure_policy") or {}
    urls = [u for u in (policy.get("url"), policy.get("policy_url")) if u]
    if not urls:
        return CheckResult.failed("IXIT 2-UserInfo declares no location of the disclosure policy")
    fetched = [fetch_document(u, scope, ca) for u in urls]
    return judge_policy_published(fetched, declared)
