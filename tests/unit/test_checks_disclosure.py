"""5.2-1: RFC 9116 parsing (never raises) and the declared / published disclosure policy."""

from __future__ import annotations

import os
import random
from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from harness.checks.disclosure import (
    FetchedDocument,
    find_timelines,
    judge_policy_declared,
    judge_policy_published,
    parse_security_txt,
)
from harness.verdict import Verdict

NOW = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
SEC_URL = "https://vendor.example/.well-known/security.txt"
POLICY_URL = "https://vendor.example/security/policy"
SEC = (
    "# Security contact for SimIoT\r\n"
    "Contact: mailto:security@vendor.example\r\n"
    "CONTACT: https://vendor.example/report\r\n"
    "Expires: 2027-06-01T00:00:00Z\r\n"
    f"Policy: {POLICY_URL}\r\n"
    f"Canonical: {SEC_URL}\r\n"
    "Preferred-Languages: en, de\r\n"
)
POLICY = ("<html><body><h1>Vulnerability disclosure policy</h1>"
          "<p>Report issues to security@vendor.example.</p>"
          "<p>We acknowledge every report within 5 working days.</p>"
          "<p>We send status updates at least every 30 days until the issue is resolved.</p></body></html>")
DECLARED = {"disclosure_policy": {"url": SEC_URL, "policy_url": POLICY_URL, "contact": "mailto:security@vendor.example",
                                  "acknowledgement": "5 working days", "status_updates": "every 30 days"}}


def doc(url: str, text: str, status: int | None = 200, error: str | None = None,
        content_type: str = "text/plain; charset=utf-8", authenticated: bool = False) -> FetchedDocument:
    return FetchedDocument(url, status, content_type, text, error, authenticated)


# --- parser ---------------------------------------------------------------------------------------

def test_valid_security_txt_with_crlf_and_mixed_case_names() -> None:
    s = parse_security_txt(SEC, now=NOW, source_url=SEC_URL)
    assert s.errors == [] and s.warnings == []
    assert s.fields["contact"] == ["mailto:security@vendor.example", "https://vendor.example/report"]
    assert s.get("Policy") == [POLICY_URL]
    assert s.expires == datetime(2027, 6, 1, tzinfo=UTC)
    assert not s.signed


def test_lf_only_and_comments_ignored() -> None:
    s = parse_security_txt("# Contact: mailto:nobody@x\nContact: tel:+44-20-0000\nExpires: 2027-01-01T00:00:00+01:00\n",
                           now=NOW)
    assert s.errors == [] and s.fields["contact"] == ["tel:+44-20-0000"]


def test_signed_document_body_is_extracted_and_dash_unescaped() -> None:
    signed = ("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA512\n\n" + SEC.replace("\r\n", "\n")
              + "- Hiring: https://vendor.example/jobs\n"
              + "-----BEGIN PGP SIGNATURE-----\n\niQIzBAEBCgAdFiEE\n-----END PGP SIGNATURE-----\n")
    s = parse_security_txt(signed, now=NOW, source_url=SEC_URL)
    assert s.signed and s.errors == []
    assert s.fields["hiring"] == ["https://vendor.example/jobs"]
    assert s.to_dict()["signature verified"] is False


def test_signed_document_without_signature_block_is_an_error() -> None:
    s = parse_security_txt("-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\nContact: mailto:a@b.example\n", now=NOW)
    assert s.signed and any("no signature block" in e for e in s.errors)


def test_armour_in_the_middle_is_an_error() -> None:
    s = parse_security_txt(SEC + "-----BEGIN PGP SIGNATURE-----\nabc\n", now=NOW)
    assert any("not at the start" in e for e in s.errors)


def test_expired_file_is_an_error() -> None:
    s = parse_security_txt(SEC.replace("2027-06-01", "2025-01-01"), now=NOW)
    assert any("expired" in e for e in s.errors)


def test_expires_more_than_a_year_ahead_is_a_warning() -> None:
    s = parse_security_txt(SEC.replace("2027-06-01", "2029-01-01"), now=NOW)
    assert s.errors == [] and any("more than a year" in w for w in s.warnings)


@pytest.mark.parametrize("expires,phrase", [
    ("", "no Expires field"),
    ("Expires: 2027-06-01\n", "not an RFC 3339"),
    ("Expires: next year\n", "not an RFC 3339"),
    ("Expires: 2027-02-30T00:00:00Z\n", "not a valid date-time"),
    ("Expires: 2027-06-01T00:00:00Z\nExpires: 2027-07-01T00:00:00Z\n", "more than one Expires"),
])
def test_expires_problems(expires: str, phrase: str) -> None:
    s = parse_security_txt("Contact: mailto:a@b.example\n" + expires, now=NOW)
    assert any(phrase in e for e in s.errors), s.errors


def test_missing_contact_is_an_error() -> None:
    s = parse_security_txt("Expires: 2027-01-01T00:00:00Z\n", now=NOW)
    assert "no Contact field" in s.errors and s.contacts == []


def test_non_https_uris_are_errors_except_mailto_and_tel() -> None:
    s = parse_security_txt("Contact: http://vendor.example/report\nContact: security@vendor.example\n"
                           "Policy: http://vendor.example/policy\nEncryption: openpgp4fpr:ABCDEF\n"
                           "Encryption: ftp://vendor.example/key\nExpires: 2027-01-01T00:00:00Z\n", now=NOW)
    joined = " | ".join(s.errors)
    assert "line 1: Contact uses http:" in joined
    assert "line 2: Contact is not a URI (write it as mailto:…)" in joined
    assert "line 3: Policy uses http:" in joined
    assert "line 5: Encryption uses the scheme ftp:" in joined
    assert "line 4" not in joined
    assert s.contacts == ["http://vendor.example/report", "security@vendor.example"]  # usable by a person


def test_canonical_mismatch_is_a_warning() -> None:
    s = parse_security_txt(SEC, now=NOW, source_url="https://other.example/.well-known/security.txt")
    assert s.errors == [] and any("Canonical" in w for w in s.warnings)


def test_unknown_fields_are_listed_and_ignored() -> None:
    s = parse_security_txt(SEC + "Foo: bar\nAcknowledgements: https://vendor.example/thanks\n", now=NOW)
    assert s.unknown == ["Foo", "Acknowledgements"] and "foo" not in s.fields
    assert any("Acknowledgments" in w for w in s.warnings)


def test_malformed_lines_and_empty_values_are_errors() -> None:
    s = parse_security_txt(SEC + "this is not a field\nContact:\n", now=NOW)
    assert any("line 8: not a 'Field: value' line" in e for e in s.errors)
    assert any("line 9: Contact has no value" in e for e in s.errors)
    assert len(s.fields["contact"]) == 2


def test_more_than_one_preferred_languages_is_an_error() -> None:
    s = parse_security_txt(SEC + "Preferred-Languages: fr\n", now=NOW)
    assert "more than one Preferred-Languages field" in s.errors


@pytest.mark.parametrize("garbage", [
    "\x00\x01\x02garbage\xff",
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "",
    ":::\n::\n",
    "<html><body>Not found</body></html>",
    "-----BEGIN PGP SIGNED MESSAGE-----",
    "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256",
    "Contact: mailto:a@b.example\nExpires: 9999-99-99T99:99:99Z",
])
def test_garbage_never_raises_and_becomes_errors(garbage: str | bytes) -> None:
    s = parse_security_txt(garbage, now=NOW)
    assert s.errors


def test_random_bytes_never_raise() -> None:
    rng = random.Random(1)
    for _ in range(200):
        data = bytes(rng.randrange(256) for _ in range(rng.randrange(200)))
        parse_security_txt(data.decode("latin-1"), now=NOW)
    parse_security_txt(os.urandom(512), now=NOW)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=300))
def test_any_text_never_raises(text: str) -> None:
    parse_security_txt(text, now=NOW, source_url=SEC_URL)


def test_naive_now_is_taken_as_utc() -> None:
    assert parse_security_txt(SEC, now=datetime(2026, 11, 25)).errors == []


# --- timelines ------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "We acknowledge every report within 5 working days.",
    "Reports are acknowledged within 72 hours.",
    "You will receive an acknowledgement of receipt within two business days.",
    "Within 3 days we acknowledge your report.",
    "We confirm receipt within 48-hour.",
    "Initial response within 1 week.",
])
def test_acknowledgement_timelines_found(text: str) -> None:
    assert find_timelines(text)["acknowledgement"]


@pytest.mark.parametrize("text", [
    "We send status updates at least every 30 days.",
    "Status updates: every 14 days until resolution.",
    "We will keep you informed of progress weekly.",
    "Every 2 weeks we send a status update.",
    "We provide updates on the status within 10 business days.",
])
def test_status_update_timelines_found(text: str) -> None:
    assert find_timelines(text)["status updates"]


@pytest.mark.parametrize("text", [
    "We acknowledge every report promptly.",
    "We will acknowledge receipt of your report and send status updates every 30 days.",
    "We take security seriously.",
])
def test_acknowledgement_without_its_own_duration_is_not_found(text: str) -> None:
    assert not find_timelines(text)["acknowledgement"]


def test_status_updates_without_a_number_are_not_found() -> None:
    assert not find_timelines("We send status updates regularly. We acknowledge within 5 days.")["status updates"]


# --- 5.2-1-1 declared -----------------------------------------------------------------------------

def test_policy_declared_complete_passes() -> None:
    assert judge_policy_declared(DECLARED).verdict == Verdict.PASS


def test_policy_declared_with_only_a_url_string_fails_listing_what_is_missing() -> None:
    r = judge_policy_declared({"disclosure_policy": SEC_URL})
    assert r.verdict == Verdict.FAIL
    for part in ("contact", "acknowledgement timeline", "status-update timeline"):
        assert part in r.reason
    assert "publication location" not in r.reason


@pytest.mark.parametrize("key,phrase", [
    ("url", "publication location"), ("contact", "contact"), ("acknowledgement", "acknowledgement timeline"),
    ("status_updates", "status-update timeline")])
def test_policy_declared_missing_one_item_fails_naming_it(key: str, phrase: str) -> None:
    policy = {**DECLARED["disclosure_policy"], key: None}
    if key == "url":
        policy["policy_url"] = None
    r = judge_policy_declared({"disclosure_policy": policy})
    assert r.verdict == Verdict.FAIL and phrase in r.reason


def test_policy_declared_timeline_without_a_duration_fails() -> None:
    r = judge_policy_declared({"disclosure_policy": {**DECLARED["disclosure_policy"], "acknowledgement": "promptly"}})
    assert r.verdict == Verdict.FAIL and "'promptly'" in r.reason


def test_policy_declared_weekly_counts_as_a_timeline() -> None:
    r = judge_policy_declared({"disclosure_policy": {**DECLARED["disclosure_policy"], "status_updates": "weekly"}})
    assert r.verdict == Verdict.PASS


@pytest.mark.parametrize("info", [{}, {"disclosure_policy": None}, {"disclosure_policy": {}}])
def test_no_policy_declared_fails(info: dict) -> None:
    assert judge_policy_declared(info).verdict == Verdict.FAIL


# --- 5.2-1-2 published ----------------------------------------------------------------------------

def test_published_policy_passes_with_document_evidence() -> None:
    r = judge_policy_published([doc(SEC_URL, SEC), doc(POLICY_URL, POLICY, content_type="text/html")], DECLARED, now=NOW)
    assert r.verdict == Verdict.PASS, r.reason
    docs = [e for e in r.evidence if e.kind == "document"]
    assert [d.data["url"] for d in docs] == [SEC_URL, POLICY_URL]
    assert docs[0].data["http status"] == 200
    assert docs[0].data["security.txt"]["fields"]["policy"] == [POLICY_URL]
    assert docs[1].data["sentences found"]["acknowledgement"] == ["We acknowledge every report within 5 working days."]


def test_security_txt_alone_with_timelines_in_comments_passes() -> None:
    text = SEC.replace(f"Policy: {POLICY_URL}\r\n", "") + "# We acknowledge reports within 3 days.\n" \
        "# Status updates follow every 14 days.\n"
    assert judge_policy_published([doc(SEC_URL, text)], DECLARED, now=NOW).verdict == Verdict.PASS


@pytest.mark.parametrize("error", ["timed out after 10 s", "TLS handshake failed", "not fetched: out of scope"])
def test_fetch_error_is_inconclusive(error: str) -> None:
    r = judge_policy_published([doc(SEC_URL, "", None, error)], DECLARED, now=NOW)
    assert r.verdict == Verdict.INCONCLUSIVE and error in r.reason


@pytest.mark.parametrize("status,phrase", [(404, "not published"), (410, "not published"),
                                           (401, "needs an account"), (403, "needs an account")])
def test_missing_or_closed_policy_fails(status: int, phrase: str) -> None:
    r = judge_policy_published([doc(SEC_URL, "", status)], DECLARED, now=NOW)
    assert r.verdict == Verdict.FAIL and phrase in r.reason


@pytest.mark.parametrize("status", [301, 302, 500, 503, 429])
def test_redirect_or_server_error_is_inconclusive(status: int) -> None:
    assert judge_policy_published([doc(SEC_URL, "", status)], DECLARED, now=NOW).verdict == Verdict.INCONCLUSIVE


def test_policy_behind_a_login_fails() -> None:
    r = judge_policy_published([doc(POLICY_URL, POLICY, authenticated=True)], DECLARED, now=NOW)
    assert r.verdict == Verdict.FAIL and "account" in r.reason


def test_security_txt_without_contact_fails() -> None:
    text = SEC.replace("Contact: mailto:security@vendor.example\r\n", "").replace(
        "CONTACT: https://vendor.example/report\r\n", "")
    r = judge_policy_published([doc(SEC_URL, text), doc(POLICY_URL, POLICY)], DECLARED, now=NOW)
    assert r.verdict == Verdict.FAIL and "no usable Contact" in r.reason


def test_security_txt_whose_only_contact_is_malformed_fails() -> None:
    text = SEC.replace("Contact: mailto:security@vendor.example\r\n", "Contact: ring us\r\n").replace(
        "CONTACT: https://vendor.example/report\r\n", "")
    r = judge_policy_published([doc(SEC_URL, text), doc(POLICY_URL, POLICY)], DECLARED, now=NOW)
    assert r.verdict == Verdict.FAIL and "Contact" in r.reason


@pytest.mark.parametrize("drop,phrase", [
    ("<p>We acknowledge every report within 5 working days.</p>", "acknowledgement timeline"),
    ("<p>We send status updates at least every 30 days until the issue is resolved.</p>", "status updates timeline"),
])
def test_policy_without_a_timeline_fails_naming_it(drop: str, phrase: str) -> None:
    r = judge_policy_published([doc(SEC_URL, SEC), doc(POLICY_URL, POLICY.replace(drop, ""), content_type="text/html")],
                               DECLARED, now=NOW)
    assert r.verdict == Verdict.FAIL and phrase in r.reason


def test_policy_page_without_contact_fails() -> None:
    page = POLICY.replace("<p>Report issues to security@vendor.example.</p>", "")
    r = judge_policy_published([doc(POLICY_URL, page, content_type="text/html")], {}, now=NOW)
    assert r.verdict == Verdict.FAIL and "contact" in r.reason


def test_missing_timeline_with_an_unfetched_policy_link_is_inconclusive() -> None:
    r = judge_policy_published([doc(SEC_URL, SEC)], DECLARED, now=NOW)
    assert r.verdict == Verdict.INCONCLUSIVE and POLICY_URL in r.reason


def test_missing_timeline_while_another_declared_document_failed_to_fetch_is_inconclusive() -> None:
    r = judge_policy_published([doc(SEC_URL, SEC), doc(POLICY_URL, "", None, "timeout")], DECLARED, now=NOW)
    assert r.verdict == Verdict.INCONCLUSIVE


def test_observed_defect_stays_fail_when_another_document_is_inconclusive() -> None:
    r = judge_policy_published([doc(SEC_URL, "", 404), doc(POLICY_URL, "", None, "timeout")], DECLARED, now=NOW)
    assert r.verdict == Verdict.FAIL


def test_expired_security_txt_is_reported_but_does_not_remove_the_contact() -> None:
    text = SEC.replace("2027-06-01", "2025-01-01")
    r = judge_policy_published([doc(SEC_URL, text), doc(POLICY_URL, POLICY)], DECLARED, now=NOW)
    assert r.verdict == Verdict.PASS
    sec = next(e for e in r.evidence if e.kind == "document").data["security.txt"]
    assert any("expired" in e for e in sec["errors"])


def test_nothing_fetched_is_inconclusive() -> None:
    assert judge_policy_published([], DECLARED, now=NOW).verdict == Verdict.INCONCLUSIVE
