"""Every check both ways: FAIL on exactly its defect, PASS without it; silence is INCONCLUSIVE."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from harness.checks import passwords as pw
from harness.checks.disclosure import (
    FetchedDocument,
    judge_policy_declared,
    judge_policy_published,
    parse_security_txt,
)
from harness.checks.erasure import judge_user_data_erasure
from harness.checks.ics import judge_justifications
from harness.checks.support import extract_end_dates, judge_support_declared, judge_support_published
from harness.verdict import Verdict

ROOT = Path(__file__).resolve().parents[2]
WORDS = pw.load_wordlist(ROOT / "fixtures" / "dictionaries" / "common-passwords.txt")
MAC = "02:53:49:A1:7C:3{}"


def facts(passwords: list[str]) -> list[pw.UnitFacts]:
    return [pw.UnitFacts(f"U{i}", f"SIM-C-000{i}", MAC.format(i), "SimIoT Hub H1", p)
            for i, p in enumerate(passwords, 1)]


def no_secret_in(result, secrets: list[str]) -> None:
    text = json.dumps([result.reason, [e.to_dict() for e in result.evidence]], default=str)
    for s in secrets:
        assert s not in text


GOOD = ["Kp7mQ2xZr9Wd", "Ht4vN8bLq2Yc", "Zm3wR6tJk8Pf"]


def test_random_label_passwords_pass() -> None:
    r = pw.analyse_label_passwords(facts(GOOD), WORDS)
    assert r.verdict == Verdict.PASS, r.reason
    no_secret_in(r, GOOD)


@pytest.mark.parametrize("rule,passwords", [
    ("duplicate", ["Welcome2SimIoT"] * 3),
    ("counter", ["simpw-100041", "simpw-100042", "simpw-100043"]),
    ("derived", ["49A17C31", "49A17C32", "49A17C33"]),
    ("derived", [hashlib.sha256(f"SIM-C-000{i}".encode()).hexdigest()[:10] for i in (1, 2, 3)]),
    ("dictionary", ["sunshine", "princess", "football"]),
    ("entropy", ["4821", "9034", "1177"]),
])
def test_each_guessability_rule_fails(rule: str, passwords: list[str]) -> None:
    r = pw.analyse_label_passwords(facts(passwords), WORDS)
    assert r.verdict == Verdict.FAIL and rule in r.reason, r.reason
    no_secret_in(r, passwords)


def attempt(outcome: str, alive: bool | None = True, user: str = "root", password: str = "xc3511") -> pw.LoginAttempt:
    return pw.LoginAttempt(user, password, outcome, alive)


def test_dictionary_attack_verdicts() -> None:
    three = [attempt("rejected", password=p) for p in ("xc3511", "vizxv", "admin")]
    assert pw.judge_dictionary_attack(three, 3, "p").verdict == Verdict.PASS
    # the same credential three times is one credential judged, not three
    assert pw.judge_dictionary_attack([attempt("rejected")] * 3, 3, "p").verdict == Verdict.INCONCLUSIVE
    fail = pw.judge_dictionary_attack([attempt("rejected"), attempt("ok", user="admin", password="admin")], 3, "p")
    assert fail.verdict == Verdict.FAIL and "admin" in json.dumps([e.to_dict() for e in fail.evidence])
    assert pw.judge_dictionary_attack([attempt("rejected"), attempt("timeout", None)], 3, "p").verdict == Verdict.INCONCLUSIVE
    assert pw.judge_dictionary_attack([attempt("rejected", alive=False)], 1, "p").verdict == Verdict.INCONCLUSIVE
    assert pw.judge_dictionary_attack([attempt("rejected")], 3, "p").verdict == Verdict.INCONCLUSIVE


def test_uniqueness() -> None:
    assert pw.judge_unique_per_device("U1", "a", {"U2": "b"}).verdict == Verdict.PASS
    r = pw.judge_unique_per_device("U1", "same-secret", {"U2": "same-secret"})
    assert r.verdict == Verdict.FAIL
    no_secret_in(r, ["same-secret"])


def test_password_change() -> None:
    ok, refused = attempt("ok"), attempt("rejected")
    assert pw.judge_password_change("ok", ok, refused).verdict == Verdict.PASS
    assert pw.judge_password_change("ok", refused, ok).verdict == Verdict.FAIL
    assert pw.judge_password_change("ok", ok, ok).verdict == Verdict.FAIL
    assert pw.judge_password_change("ok", ok, attempt("timeout", None)).verdict == Verdict.INCONCLUSIVE
    assert pw.judge_password_change("timeout", None, None).verdict == Verdict.INCONCLUSIVE


def test_erasure() -> None:
    planted = {"ssid": "harness-1"}
    assert judge_user_data_erasure("ok", planted, "ok", {"ssid": ""}, planted).verdict == Verdict.PASS
    assert judge_user_data_erasure("ok", planted, "ok", planted, planted).verdict == Verdict.FAIL
    assert judge_user_data_erasure("ok", planted, "ok", None, planted).verdict == Verdict.INCONCLUSIVE
    assert judge_user_data_erasure("ok", planted, "timeout", {"ssid": ""}, planted).verdict == Verdict.INCONCLUSIVE


def test_justifications() -> None:
    st = {"5.3-4": "RC", "5.1-1": "MC", "5.6-8": "R"}
    good = {"5.3-4": {"support": "N", "justification": "by design"}, "5.1-1": {"support": "Y"},
            "5.6-8": {"support": "Y"}}
    assert judge_justifications(st, good).verdict == Verdict.PASS
    bad = {**good, "5.3-4": {"support": "N", "justification": ""}}
    assert judge_justifications(st, bad).verdict == Verdict.FAIL
    assert judge_justifications(st, {**good, "5.1-1": {"support": "N"}}).verdict == Verdict.FAIL
    assert judge_justifications(st, {"5.1-1": {"support": "Y"}}).verdict == Verdict.PENDING_REVIEW


NOW = datetime(2026, 11, 25, tzinfo=UTC)
SEC = "Contact: mailto:security@x.example\nExpires: 2027-06-01T00:00:00Z\nPolicy: https://x.example/policy\n"
POLICY = "We acknowledge every report within 5 working days. We send status updates at least every 30 days."


def doc(url: str, text: str, status: int = 200, error: str | None = None) -> FetchedDocument:
    return FetchedDocument(url, status, "text/plain", text, error)


def test_security_txt_parser() -> None:
    assert parse_security_txt(SEC, now=NOW).errors == []
    assert "no Contact field" in parse_security_txt("Expires: 2027-01-01T00:00:00Z", now=NOW).errors
    assert any("expired" in e for e in parse_security_txt(SEC.replace("2027", "2020"), now=NOW).errors)
    assert parse_security_txt("\x00\x01garbage", now=NOW).errors
    signed = "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n" + SEC + "-----BEGIN PGP SIGNATURE-----\nx\n"
    parsed = parse_security_txt(signed, now=NOW)
    assert parsed.signed and parsed.errors == []


def test_policy_published_both_ways() -> None:
    urls = ("https://h/.well-known/security.txt", "https://h/security/policy")
    ok = [doc(urls[0], SEC), doc(urls[1], POLICY)]
    assert judge_policy_published(ok, {}, now=NOW).verdict == Verdict.PASS
    assert judge_policy_published([doc(urls[0], "", 404), doc(urls[1], POLICY)], {}, now=NOW).verdict == Verdict.FAIL
    sec_same_host = SEC.replace("https://x.example/policy", urls[1])
    assert judge_policy_published([doc(urls[0], sec_same_host), doc(urls[1], "We care.")], {},
                                  now=NOW).verdict == Verdict.FAIL
    # the security.txt names a Policy elsewhere that was not fetched: the timelines may be there
    assert judge_policy_published([doc(urls[0], SEC), doc(urls[1], "We care.")], {},
                                  now=NOW).verdict == Verdict.INCONCLUSIVE
    assert judge_policy_published([doc(urls[0], "", None, "timeout")], {}, now=NOW).verdict == Verdict.INCONCLUSIVE


def test_policy_declared() -> None:
    full = {"disclosure_policy": {"url": "u", "contact": "c", "acknowledgement": "5 days", "status_updates": "30 days"}}
    assert judge_policy_declared(full).verdict == Verdict.PASS
    assert judge_policy_declared({"disclosure_policy": {"url": "u", "contact": "c"}}).verdict == Verdict.FAIL


def test_support_period() -> None:
    assert extract_end_dates("until 31 December 2030, also 2030-12-31 and December 31, 2030") == [date(2030, 12, 31)]
    page = 'Security updates are provided until <time datetime="2030-12-31">31 December 2030</time>.'
    assert judge_support_published(doc("u", page), date(2030, 12, 31)).verdict == Verdict.PASS
    assert judge_support_published(doc("u", page), date(2031, 1, 1)).verdict == Verdict.FAIL
    assert judge_support_published(doc("u", "as long as commercially reasonable"), None).verdict == Verdict.FAIL
    assert judge_support_published(doc("u", "", None, "timeout"), None).verdict == Verdict.INCONCLUSIVE
    assert judge_support_declared({"support_period": {"until": "2030-12-31", "published_at": "u"}}).verdict == Verdict.PASS
    assert judge_support_declared({"support_period": {"published_at": "u"}}).verdict == Verdict.FAIL


def test_server_errors_are_not_judged_as_unpublished() -> None:
    url = "https://h/.well-known/security.txt"
    for status in (500, 503, 429, 302):
        assert judge_policy_published([doc(url, "", status)], {}, now=NOW).verdict == Verdict.INCONCLUSIVE
        assert judge_support_published(doc("u", "", status), None).verdict == Verdict.INCONCLUSIVE
    assert judge_policy_published([doc(url, "", 404)], {}, now=NOW).verdict == Verdict.FAIL
    assert judge_support_published(doc("u", "", 404), None).verdict == Verdict.FAIL
