"""Clause 5.4-2 — the per-device identity resists tampering (TS 103 701 5.4-2-2)."""

from __future__ import annotations

import secrets

from harness.checks.identity import IdentityWrite, judge_identity_tamper
from harness.device import Device
from harness.testcase import TestCaseContext
from harness.verdict import CheckResult, Evidence


def _read(device: Device) -> str | None:
    got = device.run("read_identity")
    value = got.captures.get("identity") if got.ok else None
    return None if value is None else str(value).strip()


def identity_tamper(tc: TestCaseContext, device: Device) -> CheckResult:
    """Read the identity (`read_identity`, capture `identity`), try to rewrite it through every
    `write_identity*` procedure (variable `identity`), read it back; a rewrite that took is undone."""
    writers = sorted(n for n in device.profile.procedures if n == "write_identity" or n.startswith("write_identity_"))
    if not writers or not device.has("read_identity"):
        return judge_identity_tamper([])
    writes = []
    for proc in writers:
        before = _read(device)
        attempted = f"TAMPER-{secrets.token_hex(3).upper()}"
        outcome = device.run(proc, identity=attempted) if before is not None else None
        after = _read(device) if outcome is not None else None
        writes.append(IdentityWrite(proc, before, attempted, outcome.outcome if outcome else "not run", after))
        if before is not None and after is not None and after != before:
            undo = device.run(proc, identity=before)
            tc.add(Evidence("observation", f"identity restored through {proc}",
                            {"outcome": undo.outcome, "now": _read(device)}))
    return judge_identity_tamper(writes)
