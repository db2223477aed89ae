"""5.3-13: support period end dates, declared and published."""

from __future__ import annotations

from datetime import date

import pytest

from harness.checks.published import FetchedDocument
from harness.checks.support import (
    MonthOnlyDate,
    extract_date_mentions,
    extract_end_dates,
    judge_support_declared,
    judge_support_published,
)
from harness.verdict import Verdict

END = date(2030, 12, 31)
URL = "https://vendor.example/support-period"
PAGE = ("<html><body><h1>SimIoT Hub H1</h1><p>Published 1 March 2024.</p>"
        '<p>Security updates are provided until <time datetime="2030-12-31">31 December 2030</time>.</p></body></html>')


def doc(text: str, status: int | None = 200, error: str | None = None, authenticated: bool = False) -> FetchedDocument:
    return FetchedDocument(URL, status, "text/html", text, error, authenticated)


# --- extraction -----------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Supported until 2030-12-31.",
    '<p>Until <time datetime="2030-12-31T23:59:59Z">the end of the decade</time></p>',
    "Supported until 31 December 2030.",
    "Supported until 31st of December, 2030.",
    "Supported until 31-Dec-2030.",
    "Supported until December 31, 2030.",
    "Supported until Dec. 31st 2030.",
    "Supported until 31/12/2030.",
    "Supported until 31.12.2030.",
    "Supported until 12/31/2030.",
])
def test_exact_date_formats(text: str) -> None:
    dates = extract_end_dates(text)
    assert dates == [END] and not isinstance(dates[0], MonthOnlyDate)


@pytest.mark.parametrize("text", ["Security updates until Dec 2030.", "until December 2030", "until Dec. 2030"])
def test_month_only_gives_the_last_day_flagged(text: str) -> None:
    (d,) = extract_end_dates(text)
    assert d == END and isinstance(d, MonthOnlyDate) and d.month_only
    assert extract_date_mentions(text)[0].month_only


def test_month_only_february_leap_year() -> None:
    assert extract_end_dates("until Feb 2028") == [date(2028, 2, 29)]


def test_same_date_written_several_ways_is_one_date_in_order() -> None:
    text = "until 31 December 2030, also 2030-12-31 and December 31, 2030; published 2024-03-01"
    assert extract_end_dates(text) == [END, date(2024, 3, 1)]


def test_exact_date_replaces_an_earlier_month_only_mention() -> None:
    (d,) = extract_end_dates("Support until December 2030. Exact end: 2030-12-31.")
    assert d == END and not isinstance(d, MonthOnlyDate)


def test_ambiguous_numeric_date_keeps_the_other_reading() -> None:
    (m,) = extract_date_mentions("until 03/04/2030")
    assert m.when == date(2030, 4, 3) and m.alternatives == [date(2030, 3, 4)]


@pytest.mark.parametrize("text", ["31/02/2030", "2030-13-01", "we may 2030 reconsider", "version 1.2.3", "", "\x00\xff",
                                  "as long as commercially reasonable"])
def test_no_date_or_invalid_dates_give_nothing(text: str) -> None:
    assert extract_end_dates(text) == []


def test_mentions_carry_their_sentence() -> None:
    mentions = extract_date_mentions(PAGE)
    assert [m.when for m in mentions] == [date(2024, 3, 1), END, END]
    assert mentions[1].context.startswith("Security updates are provided until")


# --- 5.3-13-1 declared ----------------------------------------------------------------------------

def test_declared_with_end_date_and_location_passes() -> None:
    r = judge_support_declared({"support_period": {"until": "2030-12-31", "published_at": URL}})
    assert r.verdict == Verdict.PASS and "2030-12-31" in r.reason


def test_declared_with_a_date_object_passes() -> None:
    assert judge_support_declared({"support_period": {"until": END, "published_at": URL}}).verdict == Verdict.PASS


def test_declared_without_end_date_fails() -> None:
    r = judge_support_declared({"support_period": {"description": "as long as commercially reasonable",
                                                   "published_at": URL}})
    assert r.verdict == Verdict.FAIL and "without one" in r.reason and "commercially reasonable" in r.reason


def test_declared_end_date_in_the_description_is_accepted_with_a_note() -> None:
    r = judge_support_declared({"support_period": {"description": "security updates until 31 December 2030",
                                                   "published_at": URL}})
    assert r.verdict == Verdict.PASS and "description" in r.reason


def test_declared_without_publication_location_fails() -> None:
    r = judge_support_declared({"support_period": {"until": "2030-12-31"}})
    assert r.verdict == Verdict.FAIL and "where it is published" in r.reason


def test_declared_with_neither_fails_naming_both() -> None:
    r = judge_support_declared({"support_period": {"description": "five years"}})
    assert r.verdict == Verdict.FAIL and "end date" in r.reason and "published" in r.reason


def test_declared_until_that_is_not_a_date_fails() -> None:
    r = judge_support_declared({"support_period": {"until": "forever", "published_at": URL}})
    assert r.verdict == Verdict.FAIL and "'forever'" in r.reason


@pytest.mark.parametrize("info", [{}, {"support_period": None}, {"support_period": {}}])
def test_no_support_period_fails(info: dict) -> None:
    assert judge_support_declared(info).verdict == Verdict.FAIL


# --- 5.3-13-2 published ---------------------------------------------------------------------------

def test_published_page_with_the_declared_date_passes() -> None:
    r = judge_support_published(doc(PAGE), END)
    assert r.verdict == Verdict.PASS, r.reason
    ev = r.evidence[0].data
    assert ev["http status"] == 200 and ev["declared end date"] == "2030-12-31"
    assert {d["date"] for d in ev["dates found"]} == {"2024-03-01", "2030-12-31"}


def test_declared_date_as_string_is_accepted() -> None:
    assert judge_support_published(doc(PAGE), "2030-12-31").verdict == Verdict.PASS


def test_mismatch_fails_naming_both_dates() -> None:
    r = judge_support_published(doc(PAGE), date(2031, 6, 30))
    assert r.verdict == Verdict.FAIL
    assert "2030-12-31" in r.reason and "2031-06-30" in r.reason
    assert "2024-03-01" not in r.reason  # the publication date is not an end date candidate


def test_page_without_an_end_date_fails() -> None:
    r = judge_support_published(doc("<p>We support our products as long as commercially reasonable.</p>"), END)
    assert r.verdict == Verdict.FAIL and "no end date" in r.reason


def test_month_only_page_matching_the_declared_month_passes_flagged() -> None:
    r = judge_support_published(doc("<p>Security updates until December 2030.</p>"), END)
    assert r.verdict == Verdict.PASS and "no day given" in r.reason


def test_month_only_page_in_another_month_fails() -> None:
    assert judge_support_published(doc("<p>Security updates until November 2030.</p>"), END).verdict == Verdict.FAIL


def test_ambiguous_numeric_date_matches_either_reading() -> None:
    assert judge_support_published(doc("Supported until 03/04/2030."), date(2030, 3, 4)).verdict == Verdict.PASS


def test_no_declared_date_still_requires_an_end_date_on_the_page() -> None:
    assert judge_support_published(doc(PAGE), None).verdict == Verdict.PASS
    assert judge_support_published(doc("<p>Five years of updates.</p>"), None).verdict == Verdict.FAIL


@pytest.mark.parametrize("status,error,expected", [
    (None, "timed out after 10 s", Verdict.INCONCLUSIVE),
    (None, None, Verdict.INCONCLUSIVE),
    (503, None, Verdict.INCONCLUSIVE),
    (302, None, Verdict.INCONCLUSIVE),
    (401, None, Verdict.FAIL),
    (403, None, Verdict.FAIL),
    (404, None, Verdict.FAIL),
])
def test_reachability(status: int | None, error: str | None, expected: Verdict) -> None:
    r = judge_support_published(doc(PAGE if status == 200 else "", status, error), END)
    assert r.verdict == expected, r.reason
    assert r.evidence and r.evidence[0].kind == "document"


def test_page_only_readable_with_an_account_fails() -> None:
    r = judge_support_published(doc(PAGE, authenticated=True), END)
    assert r.verdict == Verdict.FAIL and "account" in r.reason
