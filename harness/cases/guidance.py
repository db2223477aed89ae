"""Published guidance and notices, and the confirmation of a deletion (TS 103 701 5.11-3-1, 5.11-4-1,
5.12-2-1, 5.12-3-1, 6-1-2, 6-5-2).

The pages are located by IXIT 2-UserInfo and read like every published document (harness.cases.
disclosure.fetch_published: anonymous, per unit when the URL names the unit, a lab copy where the
bench cannot reach); the judgements are in harness.checks.guidance."""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable
from typing import Any

from harness.cases.disclosure import fetch_published, published_urls
from harness.checks.guidance import (
    DeletionRun,
    judge_deletion_confirmation,
    judge_deletion_instructions,
    judge_privacy_notice,
    judge_setup_check_guide,
    judge_setup_guide,
    judge_telemetry_notice,
    shown_by_unit,
)
from harness.checks.published import FetchedDocument
from harness.device import Device
from harness.documents import user_info
from harness.profile.resolve import Bench
from harness.redact import REDACTOR
from harness.scope import Scope
from harness.testcase import TestCaseContext
from harness.verdict import CheckResult, Evidence, combine

Judge = Callable[[FetchedDocument], CheckResult]


def _each_page(bench: Bench, key: str, scope: Scope, ca: str | None, judge: Judge, what: str,
               url: Any = None) -> CheckResult:
    """Judge the document IXIT 2-UserInfo ``key`` locates (``url`` overrides it), on every unit's
    page when the URL names the unit."""
    url = url if url is not None else user_info(bench).get(key)
    if not url:
        return CheckResult.inconclusive(f"the profile declares no IXIT 2-UserInfo {key} (the URL of {what})")
    results = [judge(fetch_published(bench, u, scope, ca)) for u in published_urls(bench, str(url))]
    if len(results) == 1:
        return results[0]
    return combine(results, all_passed_reason=f"{len(results)} pages of {what} pass")


def _dump(items: list[Any]) -> list[dict[str, Any]]:
    return [i.model_dump(mode="json") for i in items]


def deletion_instructions(bench: Bench, scope: Scope, ca: str | None) -> CheckResult:
    """5.11-3-1: the deletion instructions name every declared deletion function."""
    ixit = bench.profile.ixit
    functions, personal = _dump(ixit.deletion), _dump(ixit.personal_data)
    return _each_page(bench, "deletion_instructions", scope, ca,
                      lambda doc: judge_deletion_instructions(doc, functions, personal), "the deletion instructions")


def setup_guide(bench: Bench, scope: Scope, ca: str | None) -> CheckResult:
    """5.12-2-1: the secure set-up guide is published and gives security steps."""
    return _each_page(bench, "setup_guide", scope, ca, judge_setup_guide, "the secure set-up guide")


def setup_check_guide(bench: Bench, scope: Scope, ca: str | None) -> CheckResult:
    """5.12-3-1: the guide to checking the set-up is published and says what to check."""
    return _each_page(bench, "setup_check_guide", scope, ca, judge_setup_check_guide,
                      "the guide to checking the set-up")


def privacy_notice(bench: Bench, scope: Scope, ca: str | None) -> CheckResult:
    """6-1-2: the privacy notice describes every declared kind of personal data."""
    personal = _dump(bench.profile.ixit.personal_data)
    return _each_page(bench, "privacy_notice", scope, ca, lambda doc: judge_privacy_notice(doc, personal),
                      "the privacy notice")


def telemetry_notice(bench: Bench, scope: Scope, ca: str | None) -> CheckResult:
    """6-5-2: the telemetry notice (default: the privacy notice) describes every declared item."""
    telemetry = _dump(bench.profile.ixit.telemetry)
    info = user_info(bench)
    url = info.get("telemetry_notice") or info.get("privacy_notice")
    if not url:
        return CheckResult.inconclusive("the profile declares no IXIT 2-UserInfo telemetry_notice nor privacy_notice "
                                        "(the URL of the page describing the telemetry collected)")
    return _each_page(bench, "telemetry_notice", scope, ca, lambda doc: judge_telemetry_notice(doc, telemetry),
                      "the telemetry notice", url=url)


# --- 5.11-4-1 on the unit -------------------------------------------------------------------------------

def _marks(device: Device) -> dict[str, int]:
    return {name: t.mark() for name, t in device.transcripts().items()}


def _shown_since(device: Device, marks: dict[str, int]) -> str:
    """What the unit sent on every link since ``marks`` (the device-to-harness lines, without the
    echo of what the harness typed)."""
    out = []
    for name, transcript in device.transcripts().items():
        shown = shown_by_unit(transcript.read_since(marks.get(name, 0)))
        if shown:
            out.append(shown)
    return "\n".join(out)


def _alive(device: Device, completed: bool) -> bool:
    """The unit answers right after: the profile's network or console probe where it has one,
    else the completed procedure itself (its last step was an answer from the unit)."""
    if device.has("alive_network") or device.has("attention"):
        return device.prove_alive_network()
    return completed


def _plant(tc: TestCaseContext, device: Device) -> None:
    """Typical user data on the unit, so that the deletion has something to delete."""
    if not device.has("set_user_data"):
        tc.add(Evidence("text", "user data", "the profile declares no set_user_data procedure; the deletion ran on "
                        "the unit as it was"))
        return
    planted = {"ssid": f"harness-{secrets.token_hex(4)}", "psk": secrets.token_urlsafe(12)}
    REDACTOR.add(planted["psk"], "planted Wi-Fi key")
    result = device.run("set_user_data", **planted)
    device.mark_changed(user_data=result.ok)
    tc.add(Evidence("observation", "user data planted", {"ssid": planted["ssid"], "set": result.outcome}))


def _run_one(device: Device, procedure: str) -> tuple[str | None, str, str, bool]:
    """Run one deletion procedure: (outcome, detail, what the unit showed, alive after)."""
    if procedure != "factory_reset" and not device.has(procedure):
        return None, f"the profile declares no procedure {procedure!r}", "", False
    device.login_current()
    marks = _marks(device)
    if procedure == "factory_reset":
        result = device.factory_reset()
    else:
        result = device.run(procedure)
        if result.ok:
            device.state.session, device.state.factory_default = "unknown", None
    shown = _shown_since(device, marks)
    return result.outcome, result.detail, shown, _alive(device, result.ok)


def deletion_confirmation(tc: TestCaseContext, device: Device) -> CheckResult:
    """5.11-4-1 on a logged-in unit: plant user data, run each IXIT 25-DelFunc function that
    declares its confirmation, and look for that confirmation in what the unit showed."""
    functions = device.profile.ixit.deletion
    tc.add(Evidence("table", "IXIT 25-DelFunc", _dump(functions)))
    runs: list[DeletionRun] = []
    planted = False
    for f in functions:
        procedure = f.procedure or "factory_reset"
        run = DeletionRun(f.target, procedure, f.confirmation, None)
        runs.append(run)
        if not f.confirmation:
            run.detail = "no confirmation declared"
            continue
        try:
            re.compile(f.confirmation)
        except re.error:
            continue  # the judgement names the bad expression; nothing to look for
        if not planted:
            _plant(tc, device)
            planted = True
        run.outcome, run.detail, run.shown, run.alive_after = _run_one(device, procedure)
        tc.add(Evidence("observation", f"deletion function {f.target}", {
            "procedure": procedure, "outcome": run.outcome, "detail": run.detail, "alive after": run.alive_after}))
    return judge_deletion_confirmation(runs)
