"""Clause 5.11 — Make it easy for users to delete user data (TS 103 701 5.11-1)."""

from __future__ import annotations

import secrets

from harness.checks.erasure import judge_user_data_erasure
from harness.device import Device
from harness.redact import REDACTOR
from harness.testcase import TestCaseContext
from harness.verdict import CheckResult, Evidence


def user_data_erasure(tc: TestCaseContext, device: Device) -> CheckResult:
    """5.11-1-2 on a logged-in unit: plant typical user data (Wi-Fi credentials), run the
    documented erasure function, and read the absence back from the live unit."""
    functions = device.profile.ixit.deletion
    procedure = next((f.procedure for f in functions if f.procedure), None) or "factory_reset"
    tc.add(Evidence("table", "IXIT 25-DelFunc", [f.model_dump() for f in functions]))
    planted = {"ssid": f"harness-{secrets.token_hex(4)}", "psk": secrets.token_urlsafe(12)}
    REDACTOR.add(planted["psk"], "planted Wi-Fi key")  # consoles echo the command that sets it
    set_result = device.run("set_user_data", **planted)
    device.mark_changed(user_data=set_result.ok)
    before = device.run("read_user_data")
    tc.add(Evidence("observation", "user data planted", {"ssid": planted["ssid"], "set": set_result.outcome,
                                                         "read back": before.captures.get("ssid")}))
    if procedure == "factory_reset":
        reset = device.factory_reset()
    else:
        device.login_current()
        reset = device.run(procedure)
        if reset.ok:
            device.state.session, device.state.factory_default = "unknown", None
    if not reset.ok:
        return CheckResult.inconclusive(f"the erasure procedure {procedure!r} did not complete "
                                        f"({reset.detail or reset.outcome})")
    device.login_current()
    after = device.run("read_user_data")
    tc.add(Evidence("observation", "user data after erasure", {"read": after.outcome, "ssid": after.captures.get("ssid")}))
    return judge_user_data_erasure(
        set_result.outcome,
        before.captures if before.ok else None,
        reset.outcome,
        after.captures if after.ok else None,
        {"ssid": planted["ssid"]},
    )
