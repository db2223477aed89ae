"""5.3-13: the defined support period, declared (IXIT) and published."""

from __future__ import annotations

import calendar
import re
from datetime import date
from typing import Any

from harness.checks.disclosure import FetchedDocument
from harness.verdict import CheckResult, Evidence

_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})


def extract_end_dates(text: str) -> list[date]:
    out: list[date] = []

    def add(y: int, m: int, d: int) -> None:
        try:
            out.append(date(y, m, d))
        except ValueError:
            pass

    for y, m, d in re.findall(r"\b(\d{4})-(\d{2})-(\d{2})\b", text):
        add(int(y), int(m), int(d))
    for d, mon, y in re.findall(r"\b(\d{1,2})\s+([A-Za-z]{3,9})\.?\s+(\d{4})\b", text):
        if mon.lower() in _MONTHS:
            add(int(y), _MONTHS[mon.lower()], int(d))
    for mon, d, y in re.findall(r"\b([A-Za-z]{3,9})\.?\s+(\d{1,2}),\s*(\d{4})\b", text):
        if mon.lower() in _MONTHS:
            add(int(y), _MONTHS[mon.lower()], int(d))
    for d, m, y in re.findall(r"\b(\d{1,2})/(\d{1,2})/(\d{4})\b", text):
        add(int(y), int(m), int(d))
    return sorted(set(out))


def judge_support_declared(user_info: dict[str, Any]) -> CheckResult:
    sp = user_info.get("support_period") or {}
    ev = Evidence("table", "IXIT 2-UserInfo support period", [sp])
    if not sp.get("until"):
        return CheckResult.failed("IXIT 2-UserInfo declares no support period end date", ev)
    if not sp.get("published_at"):
        return CheckResult.failed("IXIT 2-UserInfo declares no publication location of the support period", ev)
    return CheckResult.passed(f"support period declared until {sp['until']} and published", ev)


def judge_support_published(doc: FetchedDocument, declared_until: date | None) -> CheckResult:
    if doc.error:
        return CheckResult.inconclusive(f"{doc.url}: not fetched ({doc.error})")
    if doc.status is None or doc.status >= 500 or doc.status in (408, 429) or 300 <= doc.status < 400:
        return CheckResult.inconclusive(f"{doc.url}: could not be judged (HTTP {doc.status})")
    if doc.status in (401, 403) or doc.authenticated:
        return CheckResult.failed(f"{doc.url}: needs registration or an account (HTTP {doc.status})")
    if doc.status != 200:
        return CheckResult.failed(f"{doc.url}: support period not published (HTTP {doc.status})")
    dates = extract_end_dates(re.sub(r"<[^>]+datetime=\"([^\"]+)\"[^>]*>", r" \1 ", doc.text))
    ev = Evidence("document", doc.url, {"http status": doc.status, "dates found": [d.isoformat() for d in dates],
                                        "declared": declared_until.isoformat() if declared_until else None})
    if not dates:
        return CheckResult.failed(f"{doc.url} states no end date of the support period", ev)
    if declared_until and declared_until not in dates:
        return CheckResult.failed(f"{doc.url} states {', '.join(d.isoformat() for d in dates)}, "
                                  f"the IXIT declares {declared_until.isoformat()}", ev)
    return CheckResult.passed(f"{doc.url} publishes the support period end date {dates[-1].isoformat()}", ev)
