"""The guidance judges read a real manufacturer's page: its navigation, header and footer bars
and cookie banner name every security and privacy word and must not make a PASS."""

from __future__ import annotations

from harness.checks.guidance import judge_privacy_notice, judge_setup_check_guide, judge_setup_guide, passages
from harness.checks.published import FetchedDocument
from harness.verdict import Verdict

URL = "https://maker.example/support/setup"

CHROME_TOP = """<header class="site-header"><a href="/">Maker</a><nav><ul>
<li><a href="/account">Account</a></li><li><a href="/privacy">Privacy</a></li>
<li><a href="/security">Security and firmware updates</a></li></ul></nav></header>
<div id="onetrust-banner-sdk" class="otFlat"><p>We use cookies. Please make sure you review our privacy policy
and check your cookie settings before you continue.</p><button>Accept</button></div>
<div class="breadcrumbs"><a href="/support">Support</a> › Set-up</div>"""
CHROME_BOTTOM = """<footer><p>© 2026 SimIoT Ltd · <a href="/privacy">Privacy</a> · Security · Check your account</p>
</footer><aside><p>Verify your password strength with our tool</p></aside>"""


def page(content: str) -> FetchedDocument:
    return FetchedDocument(URL, 200, "text/html", f"<html><head><title>Set-up</title></head><body>{CHROME_TOP}"
                                                  f"<main>{content}</main>{CHROME_BOTTOM}</body></html>")


def test_navigation_and_cookie_banner_make_no_setup_step() -> None:
    r = judge_setup_guide(page("<h1>Getting started</h1><p>Plug the hub in and enjoy it.</p>"))
    assert r.verdict == Verdict.FAIL, r.reason
    r = judge_setup_check_guide(page("<h1>Getting started</h1><p>Plug the hub in and enjoy it.</p>"))
    assert r.verdict == Verdict.FAIL, r.reason


def test_real_steps_inside_the_chrome_still_pass() -> None:
    r = judge_setup_guide(page("<h1>Set up</h1><ol><li>Change the password to one only you know.</li></ol>"))
    assert r.verdict == Verdict.PASS and "password" in r.reason
    r = judge_setup_check_guide(page("<ol><li>Open Settings and check that the firmware is the latest.</li></ol>"))
    assert r.verdict == Verdict.PASS


def test_the_processor_in_the_footer_is_not_the_notice_naming_it() -> None:
    personal = [{"data": "location", "purpose": "local weather scenes", "processed_by": "SimIoT Ltd"}]
    body = "<h2>Location</h2><p>We use your location to run local weather scenes.</p>"
    r = judge_privacy_notice(page(body), personal)
    assert r.verdict == Verdict.FAIL and "who processes it" in r.reason
    r = judge_privacy_notice(page(body + "<p>SimIoT Ltd processes this data.</p>"), personal)
    assert r.verdict == Verdict.PASS, r.reason


def test_a_header_with_the_title_of_the_content_stays() -> None:
    doc = FetchedDocument(URL, 200, "text/html", "<article><header><h1>Location data</h1></header>"
                                                 "<p>Used for weather.</p></article>")
    assert passages(doc)[:1] == ["Location data"]
    assert "Content" in passages(FetchedDocument(URL, 200, "text/html",
                                                 '<div class="content-with-sidebar"><p>Content</p></div>'))[0]


def test_the_echo_of_the_typed_command_is_no_confirmation() -> None:
    from harness.checks.guidance import DeletionRun, judge_deletion_confirmation, shown_by_unit

    transcript = ("     0.010 > factory-reset\n"
                  "     0.020 < hub# factory-reset\n"
                  "     0.030 < factory-reset\n"
                  "     0.500 < Rebooting...\n"
                  "     0.600 # note\n")
    shown = shown_by_unit(transcript)
    assert shown == "Rebooting..."
    run = DeletionRun("all user data", "factory_reset", "reset", "ok", shown=shown, alive_after=True)
    assert judge_deletion_confirmation([run]).verdict == Verdict.FAIL
    done = shown_by_unit(transcript + "     0.700 < Performing factory-reset\n")
    assert "Performing factory-reset" in done  # a sentence that ends like the command is no echo



def test_a_call_out_inside_the_content_is_kept() -> None:
    tip = "<h1>Set up</h1><p>Plug it in.</p><aside><p>Tip: change the default password first.</p></aside>"
    assert judge_setup_guide(page(tip)).verdict == Verdict.PASS


def test_a_cookie_wall_is_not_read_as_the_guide() -> None:
    wall = FetchedDocument(URL, 200, "text/html", f"<html><head><title>Check your set-up</title></head><body>"
                                                  f"{CHROME_TOP}{CHROME_BOTTOM}</body></html>")
    r = judge_setup_check_guide(wall)
    assert r.verdict == Verdict.INCONCLUSIVE and "cookie wall" in r.reason
