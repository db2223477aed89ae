"""5.3-13: the defined support period, declared (IXIT 2-UserInfo) and published.

UK PSTI wants the period expressed with an end date, published, readable without registration.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from harness.checks.published import FetchedDocument, excerpt, plain_text, reachability
from harness.verdict import CheckResult, Evidence

__all__ = ["DateMention", "MonthOnlyDate", "extract_date_mentions", "extract_end_dates", "judge_support_declared",
           "judge_support_published"]


class MonthOnlyDate(date):
    """The last day of a month the text named without a day ("Dec 2030"): flagged, not exact."""

    month_only = True


@dataclass
class DateMention:
    when: date
    text: str
    context: str
    month_only: bool = False
    # Other readings of an ambiguous numeric date (03/04/2030: 3 April, or 4 March in US order).
    alternatives: list[date] = field(default_factory=list)

    def readings(self) -> list[date]:
        return [self.when, *self.alternatives]


_MONTH = (r"(jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|sep(?:t(?:ember)?)?"
          r"|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_name) if m}
_MONTHS.update({m.lower(): i for i, m in enumerate(calendar.month_abbr) if m})
_MONTHS["sept"] = 9
_ORD = r"(?:st|nd|rd|th)?"
_PATTERNS: list[tuple[str, re.Pattern[str]]] = [
    ("ymd", re.compile(r"(?<!\d)(?<!\d\.)(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})(?!\d|\.\d)")),
    ("dmy-name", re.compile(rf"\b(\d{{1,2}}){_ORD}(?:\s+of)?[\s-]+{_MONTH},?[\s-]+(\d{{4}})\b", re.I)),
    ("mdy-name", re.compile(rf"\b{_MONTH}\s+(\d{{1,2}}){_ORD},?\s+(\d{{4}})\b", re.I)),
    ("numeric", re.compile(r"\b(\d{1,2})([/.\-])(\d{1,2})\2(\d{4})\b")),
    ("month", re.compile(rf"\b{_MONTH},?\s+(\d{{4}})\b", re.I)),
]


def _month_number(name: str) -> int:
    return _MONTHS[name.lower().rstrip(".")]


def _safe(y: int, m: int, d: int) -> date | None:
    try:
        return date(y, m, d)
    except ValueError:
        return None


def _read(kind: str, m: re.Match[str]) -> tuple[date | None, list[date], bool]:
    g = m.groups()
    if kind == "ymd":
        return _safe(int(g[0]), int(g[1]), int(g[2])), [], False
    if kind == "dmy-name":
        return _safe(int(g[2]), _month_number(g[1]), int(g[0])), [], False
    if kind == "mdy-name":
        return _safe(int(g[2]), _month_number(g[0]), int(g[1])), [], False
    if kind == "numeric":
        a, b, y = int(g[0]), int(g[2]), int(g[3])
        if a > 12:
            return _safe(y, b, a), [], False
        if b > 12:
            return _safe(y, a, b), [], False  # only a US month/day reading is possible
        first, other = _safe(y, b, a), _safe(y, a, b)  # day/month first: UK and EU usage
        return first, ([other] if other and other != first else []), False
    # month and year only: read as the month's last day, flagged
    if g[0] == "may":  # lower-case "may" is far more often the verb
        return None, [], True
    y, mo = int(g[1]), _month_number(g[0])
    return MonthOnlyDate(y, mo, calendar.monthrange(y, mo)[1]), [], True


def _time_tag(m: re.Match[str]) -> str:
    value = m.group(1)
    full = re.match(r"(\d{4}-\d{2}-\d{2})", value)
    if full:
        return f" {full.group(1)} "
    month = re.fullmatch(r"(\d{4})-(\d{2})", value)
    if month and 1 <= int(month.group(2)) <= 12:
        return f" {calendar.month_name[int(month.group(2))]} {month.group(1)} "
    return " "


def _visible_text(text: str) -> str:
    # <time datetime="2030-12-31"> carries the machine-readable date: keep it as visible text.
    text = re.sub(r"<time\b[^>]*?\bdatetime\s*=\s*[\"']?([^\"'\s>]+)[\"']?[^>]*>", _time_tag, text, flags=re.I)
    return plain_text(FetchedDocument("", 200, "", text))


def extract_date_mentions(text: str) -> list[DateMention]:
    """Every calendar date the text states, in order of appearance, with its sentence."""
    if not isinstance(text, str) or not text:
        return []
    visible = _visible_text(text)
    found: list[tuple[int, DateMention]] = []
    taken: list[tuple[int, int]] = []
    for kind, rx in _PATTERNS:
        for m in rx.finditer(visible):
            if any(m.start() < e and s < m.end() for s, e in taken):
                continue
            when, alternatives, month_only = _read(kind, m)
            if when is None or not 1900 <= when.year <= 2200:
                continue
            taken.append((m.start(), m.end()))
            found.append((m.start(), DateMention(when, m.group(0), "", month_only, alternatives)))
    found.sort(key=lambda t: t[0])
    for pos, mention in found:
        mention.context = excerpt(_sentence_at(visible, pos, pos + len(mention.text)))
    return [m for _, m in found]


def _sentence_at(text: str, pos: int, end: int) -> str:
    start = max(text.rfind("\n", 0, pos), *(text.rfind(p, 0, pos) for p in (". ", "! ", "? "))) + 1
    ends = [i for i in (text.find("\n", end), *(text.find(p, end) for p in (". ", "! ", "? "))) if i >= 0]
    return " ".join(text[start:min(ends) + 1 if ends else len(text)].split())


def extract_end_dates(text: str) -> list[date]:
    """Dates stated in the text, de-duplicated, in order of appearance. A month named without a
    day ("Dec 2030") gives that month's last day as a MonthOnlyDate (``month_only`` is True)."""
    out: list[date] = []
    for m in extract_date_mentions(text):
        if m.when in out:
            i = out.index(m.when)
            if isinstance(out[i], MonthOnlyDate) and not m.month_only:
                out[i] = m.when  # an exact mention of the same day wins over a month-only one
            continue
        out.append(m.when)
    return out


# --- judgements -----------------------------------------------------------------------------------

def _as_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and value.strip():
        try:
            return date.fromisoformat(value.strip()[:10])
        except ValueError:
            dates = extract_end_dates(value)
            return dates[-1] if dates else None
    return None


def judge_support_declared(user_info: dict[str, Any]) -> CheckResult:
    """5.3-13-1: IXIT 2-UserInfo declares the support period with an end date and where it is published."""
    sp = (user_info or {}).get("support_period")
    if isinstance(sp, str):
        sp = {"description": sp}
    if not isinstance(sp, dict) or not any(sp.get(k) for k in ("until", "description", "published_at")):
        return CheckResult.failed("IXIT 2-UserInfo declares no support period",
                                  Evidence("table", "IXIT 2-UserInfo support period", [{"support_period": sp}]))
    ev = Evidence("table", "IXIT 2-UserInfo support period", [{
        "until": str(sp.get("until")) if sp.get("until") is not None else None,
        "description": sp.get("description"), "published_at": sp.get("published_at")}])
    problems, note = [], ""
    until = _as_date(sp.get("until"))
    if sp.get("until") and until is None:
        problems.append(f"its end date {str(sp.get('until'))!r} is not a date")
    elif until is None:
        from_description = extract_end_dates(sp.get("description") or "")
        if from_description:
            until = from_description[-1]
            note = " (end date read from the description; the 'until' field is empty)"
        else:
            problems.append("an end date (the period is expressed without one"
                            + (f": {excerpt(str(sp['description']), 80)!r})" if sp.get("description") else ")"))
    if not sp.get("published_at"):
        problems.append("where it is published")
    if problems:
        return CheckResult.failed(f"IXIT 2-UserInfo does not declare the support period's {' and '.join(problems)}", ev)
    return CheckResult.passed(f"IXIT 2-UserInfo declares the support period until {until.isoformat()} and where it "
                              f"is published{note}", ev)


_END_WORDS = re.compile(r"until|till|through|thru|\bend|expire|\beol\b|end[- ]of[- ]life|support|updat|last|"
                        r"no later|guarantee|at least|minimum", re.I)


def judge_support_published(doc: FetchedDocument, declared_until: date | str | None) -> CheckResult:
    """5.3-13-2: the support period page is readable without registration, states an end date,
    and that date is the one the IXIT declares."""
    declared = _as_date(declared_until)
    problem = reachability(doc, "the support period")
    base = {"url": doc.url, "http status": doc.status, "content type": doc.content_type, "error": doc.error,
            "authenticated": doc.authenticated, "declared end date": declared.isoformat() if declared else None,
            **doc.provenance()}
    if problem is not None:
        problem.evidence.append(Evidence("document", doc.url, base))
        return problem
    mentions = extract_date_mentions(doc.text)
    candidates = [m for m in mentions if _END_WORDS.search(m.context)] or mentions
    ev = Evidence("document", doc.url, {**base, "dates found": [
        {"date": m.when.isoformat(), "as written": m.text, "month only": m.month_only,
         "other reading": [a.isoformat() for a in m.alternatives] or None, "sentence": m.context}
        for m in mentions]})
    if not mentions:
        return CheckResult.failed(f"the support period page {doc.url} states no end date", ev)
    stated = ", ".join(dict.fromkeys(m.when.isoformat() + (" (month only)" if m.month_only else "")
                                     for m in candidates))
    if declared is None:
        return CheckResult.passed(f"the support period page {doc.url} states the end date {stated} (the IXIT declares "
                                  f"none to compare)", ev)
    if any(declared in m.readings() for m in mentions if not m.month_only):
        return CheckResult.passed(f"the support period page {doc.url} states the declared end date "
                                  f"{declared.isoformat()}", ev)
    month = next((m for m in mentions if m.month_only and (m.when.year, m.when.month) == (declared.year, declared.month)),
                 None)
    if month is not None:
        return CheckResult.passed(f"the support period page {doc.url} states {month.text!r}, the month of the declared "
                                  f"end date {declared.isoformat()} (no day given)", ev)
    return CheckResult.failed(f"the support period page {doc.url} states {stated}, but the IXIT declares "
                              f"{declared.isoformat()}", ev)
