"""Clause 5.7-2 — the response to an unauthorised software change (TS 103 701 5.7-2-2)."""

from __future__ import annotations

from harness.checks.tamper import TamperObservation, judge_tamper_response
from harness.device import Device
from harness.testcase import TestCaseContext
from harness.verdict import CheckResult, Evidence


def _network_answers(device: Device) -> bool | None:
    if not device.has("probe_network"):
        return None
    return device.run("probe_network").ok


def tamper_response(tc: TestCaseContext, device: Device) -> CheckResult:
    """Probe the network (`probe_network`: outcome ok when the unit's network services answer),
    change the installed software (`modify_software`), look for the alert (`read_alert`: outcome ok
    when shown), probe the network again and the console (`attention`), then undo the change
    (`restore_software`)."""
    if device.profile.ixit.secure_boot is not None:
        tc.add(Evidence("table", "IXIT 20-SecBoot", [device.profile.ixit.secure_boot.model_dump(exclude_none=True)]))
    if not device.has("modify_software"):
        return judge_tamper_response(None)
    before = _network_answers(device)
    modified = device.run("modify_software")
    try:
        if not modified.ok:
            return judge_tamper_response(TamperObservation(modified.outcome, "", None, None, before, modified.detail))
        alert = device.run("read_alert").outcome if device.has("read_alert") else ""
        after = _network_answers(device)
        alive = device.attention().outcome in ("logged_in", "logged_out", "ok") if device.has("attention") else None
        return judge_tamper_response(TamperObservation(modified.outcome, alert, after, alive, before))
    finally:
        if device.has("restore_software"):
            restored = device.run("restore_software")
            tc.add(Evidence("observation", "software restored", {"outcome": restored.outcome,
                                                                 "network answers": _network_answers(device)}))
