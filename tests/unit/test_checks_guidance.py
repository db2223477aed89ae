"""The published-guidance judges (5.11-3-1, 5.11-4-1, 5.12-2-1, 5.12-3-1, 6-1-2, 6-5-2), both ways."""

from __future__ import annotations

import pytest

from harness.checks.guidance import (
    DeletionRun,
    command_terms,
    judge_deletion_confirmation,
    judge_deletion_instructions,
    judge_privacy_notice,
    judge_setup_check_guide,
    judge_setup_guide,
    judge_telemetry_notice,
    mentions,
    passages,
    purpose_words,
    states_purpose,
)
from harness.checks.published import FetchedDocument
from harness.verdict import Verdict

PASS, FAIL, INC = Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE
URL = "https://maker.example/page"


def page(body: str, status: int = 200, **kw: object) -> FetchedDocument:
    return FetchedDocument(URL, status, "text/html; charset=utf-8", f"<html><body>{body}</body></html>", **kw)


# --- the text rules ---------------------------------------------------------------------------------

@pytest.mark.parametrize("text,term,found", [
    ("Type factory-reset and press Enter", "factory-reset", True),
    ("Run a Factory Reset from the menu", "factory-reset", True),
    ("user data is erased", "user-data", True),
    ("the user_data partition", "user data", True),
    ("we keep your locations", "location", True),
    ("relocation service", "location", False),
    ("a username", "name", False),
    ("", "name", False),
    ("anything", "", False),
])
def test_mentions(text: str, term: str, found: bool) -> None:
    assert mentions(text, term) is found


@pytest.mark.parametrize("initiation,terms", [
    ("console command factory-reset", ["factory-reset"]),
    ("POST /api/v1/erase with the owner token", ["/api/v1/erase"]),
    ("tap 'Delete account' in the app", ["Delete account"]),
    ("hold the reset button for 10 seconds", ["hold", "reset", "button", "seconds"]),
    ("the user's app", ["user's"]),
])
def test_command_terms(initiation: str, terms: list[str]) -> None:
    assert command_terms(initiation) == terms


def test_purpose_words_and_statement() -> None:
    assert purpose_words("to greet the owner in the app and in notifications") == ["greet", "owner", "notifications"]
    assert states_purpose("We use it to notify you and greet you.", "to greet the owner in notifications")
    assert not states_purpose("We use it for billing.", "to greet the owner in notifications")
    assert not states_purpose("anything", "")


def test_passages_keep_a_table_row_together_and_can_drop_headings() -> None:
    doc = page("<h1>Data</h1><table><tr><td>Location</td><td>to run local scenes</td></tr></table><p>More.</p>")
    assert passages(doc) == ["Data", "Location — to run local scenes", "More."]
    assert passages(doc, headings=False) == ["Location — to run local scenes", "More."]
    plain = FetchedDocument(URL, 200, "text/plain", "First para\nwrapped.\n\nSecond.")
    assert passages(plain) == ["First para wrapped.", "Second."]


# --- 5.11-3-1 ------------------------------------------------------------------------------------------

FUNCTIONS = [{"target": "user-data", "initiation": "console command factory-reset"}]
PERSONAL = [{"data": "owner name", "keywords": ["owner"]}]


def test_deletion_instructions_pass() -> None:
    doc = page("<p>A factory reset erases all user data.</p><ol><li>Type <code>factory-reset</code>.</li></ol>")
    r = judge_deletion_instructions(doc, FUNCTIONS, PERSONAL)
    assert r.verdict == PASS, r.reason
    assert r.evidence[1].data[0]["start named"] == ["factory-reset"]


def test_deletion_instructions_name_the_target_by_its_personal_data_keyword() -> None:
    functions = [{"target": "owner name", "initiation": "console command forget-owner"}]
    doc = page("<p>Type forget-owner to remove the owner from the hub.</p>")
    assert judge_deletion_instructions(doc, functions, PERSONAL).verdict == PASS


@pytest.mark.parametrize("body,missing", [
    ("<p>Reset the hub to erase user data.</p>", "how it is started (factory-reset)"),
    ("<p>Type factory-reset and press Enter.</p>", "what it deletes (user-data)"),
])
def test_deletion_instructions_fail_when_a_function_is_not_covered(body: str, missing: str) -> None:
    r = judge_deletion_instructions(page(body), FUNCTIONS, PERSONAL)
    assert r.verdict == FAIL and missing in r.reason


@pytest.mark.parametrize("doc,verdict", [
    (page("", status=404), FAIL),
    (page("", status=403), FAIL),
    (page("<p>factory-reset erases user data</p>", authenticated=True), FAIL),
    (page("", status=503), INC),
    (FetchedDocument(URL, None, "", "", error="timed out"), INC),
    (None, INC),
])
def test_deletion_instructions_reachability(doc: FetchedDocument | None, verdict: Verdict) -> None:
    assert judge_deletion_instructions(doc, FUNCTIONS, PERSONAL).verdict == verdict


def test_deletion_instructions_without_functions_declared() -> None:
    r = judge_deletion_instructions(page("<p>factory-reset</p>"), [], PERSONAL)
    assert r.verdict == INC and "declares no IXIT 25-DelFunc" in r.reason


# --- 5.11-4-1 ------------------------------------------------------------------------------------------

def run(**kw: object) -> DeletionRun:
    base: dict = {"target": "user-data", "procedure": "factory_reset", "confirmation": "factory reset complete",
                  "outcome": "ok", "shown": "factory-reset: erasing user data\nRebooting...\nfactory reset complete: "
                  "user data erased\nsimiot login: ", "alive_after": True}
    base.update(kw)
    return DeletionRun(**base)


def test_confirmation_shown_passes_with_the_line() -> None:
    r = judge_deletion_confirmation([run()])
    assert r.verdict == PASS and "factory reset complete" in r.reason


def test_completed_deletion_without_confirmation_fails() -> None:
    r = judge_deletion_confirmation([run(shown="factory-reset: erasing user data\nRebooting...\nsimiot login: ")])
    assert r.verdict == FAIL and "simiot login" in r.reason


@pytest.mark.parametrize("kw,words", [
    ({"confirmation": None}, "declares no confirmation"),
    ({"confirmation": "("}, "not a regular expression"),
    ({"outcome": None, "detail": "the profile declares no procedure 'erase_cloud'"}, "was not run"),
    ({"outcome": "timeout", "detail": "no login prompt in 30 s"}, "did not complete"),
    ({"alive_after": False, "shown": "Rebooting..."}, "did not answer"),
    ({"alive_after": None, "shown": "Rebooting..."}, "did not answer"),
    ({"shown": "  "}, "nothing the unit showed"),
])
def test_deletion_that_cannot_be_judged_is_inconclusive(kw: dict, words: str) -> None:
    r = judge_deletion_confirmation([run(**kw)])
    assert r.verdict == INC and words in r.reason


def test_a_fail_stands_next_to_an_unjudged_function() -> None:
    r = judge_deletion_confirmation([run(shown="Rebooting..."), run(target="cloud", confirmation=None)])
    assert r.verdict == FAIL


# --- 5.12-2-1 / 5.12-3-1 -----------------------------------------------------------------------------------

def test_setup_guide_pass_and_fail() -> None:
    good = page("<h1>Set up securely</h1><ol><li>Change the password to one only you know.</li></ol>")
    assert judge_setup_guide(good).verdict == PASS
    # A heading alone on a security topic is no step.
    bare = page("<h1>Set up your hub securely</h1><p>Enjoy your new hub!</p>")
    r = judge_setup_guide(bare)
    assert r.verdict == FAIL and "no step" in r.reason
    assert judge_setup_guide(page("", status=404)).verdict == FAIL
    assert judge_setup_guide(None).verdict == INC


def test_setup_check_guide_needs_a_check_on_a_security_topic() -> None:
    good = page("<ul><li>Run version and check that the firmware is the latest one.</li></ul>")
    assert judge_setup_check_guide(good).verdict == PASS
    only_setup = page("<ul><li>Change the password.</li><li>Check the weather app.</li></ul>")
    assert judge_setup_check_guide(only_setup).verdict == FAIL


# --- 6-1-2 / 6-5-2 -------------------------------------------------------------------------------------------

PERS = [{"data": "owner name", "purpose": "personalised companion app", "processed_by": "SimIoT Ltd",
         "keywords": ["owner"]},
        {"data": "location", "purpose": "local weather scenes", "processed_by": "SimIoT Ltd"}]
NOTICE = ("<p>SimIoT Ltd processes the data below.</p>"
          "<p><strong>Owner name</strong>: we use it to personalise the companion app.</p>"
          "<h3>Location</h3><p>We use it to run local weather scenes.</p>")


def test_privacy_notice_pass() -> None:
    r = judge_privacy_notice(page(NOTICE), PERS)
    assert r.verdict == PASS, r.reason
    rows = r.evidence[1].data
    assert all(row["named"] and row["purpose stated"] and row["processor named"] for row in rows)


@pytest.mark.parametrize("notice,words", [
    (NOTICE.replace("<h3>Location</h3><p>We use it to run local weather scenes.</p>", ""), "'location' not named"),
    (NOTICE.replace("We use it to run local weather scenes.", "We keep it."), "'location' named without its purpose"),
    (NOTICE.replace("SimIoT Ltd processes the data below.", ""), "who processes it (SimIoT Ltd) not named"),
])
def test_privacy_notice_fail(notice: str, words: str) -> None:
    r = judge_privacy_notice(page(notice), PERS)
    assert r.verdict == FAIL and words in r.reason, r.reason


def test_privacy_notice_declarations_missing() -> None:
    assert "declares no IXIT 21-PersData" in judge_privacy_notice(page(NOTICE), []).reason
    r = judge_privacy_notice(page(NOTICE), [{**PERS[0], "purpose": None}])
    assert r.verdict == INC and "declares no purpose" in r.reason
    assert judge_privacy_notice(page("", status=404), PERS).verdict == FAIL


def test_processor_with_several_names_and_legal_forms() -> None:
    item = [{**PERS[0], "processed_by": "SimIoT Ltd and CloudCo GmbH"}]
    assert judge_privacy_notice(page(NOTICE + "<p>Hosting by CloudCo.</p>"), item).verdict == PASS
    assert judge_privacy_notice(page(NOTICE), item).verdict == FAIL


TEL = [{"data": "uptime", "purpose": "to detect units that restart unexpectedly"},
       {"data": "signal strength", "purpose": "to diagnose connection problems", "keywords": ["signal strength", "rssi"]}]


def test_telemetry_notice_both_ways() -> None:
    good = page("<ul><li>Uptime: to detect units that restart unexpectedly.</li>"
                "<li>RSSI: to diagnose connection problems.</li></ul>")
    assert judge_telemetry_notice(good, TEL).verdict == PASS
    vague = page("<p>The hub sends some technical data to help us improve our products.</p>")
    r = judge_telemetry_notice(vague, TEL)
    assert r.verdict == FAIL and "'uptime' not named" in r.reason
    assert judge_telemetry_notice(good, []).verdict == INC


@pytest.mark.parametrize("doc", [
    FetchedDocument(URL, 200, "application/pdf", "%PDF-1.7 binary"),
    FetchedDocument(URL, 200, "", "%PDF-1.4 binary"),
    FetchedDocument(URL, 200, "image/png", "\x89PNG"),
    page("<script>render()</script>"),
])
def test_a_page_the_harness_cannot_read_is_inconclusive(doc: FetchedDocument) -> None:
    for r in (judge_setup_guide(doc), judge_privacy_notice(doc, PERS), judge_deletion_instructions(doc, FUNCTIONS, [])):
        assert r.verdict == INC, r.reason
