"""Clauses 5.11 and 6 — deletion and consent as declared (IXIT 25-DelFunc, 21-PersData)."""

from __future__ import annotations

from harness.checks.conceptual._base import is_none, rows, rule, verdict_of
from harness.profile.ixit import Ixit
from harness.verdict import CheckResult, Evidence

# What 5.11-1 needs erased from the device: personal data, user configuration, user-related keys.
USER_DATA = ("personal-data", "configuration", "credentials")


@rule("5.11-1-1", "a user can erase all user data from the device", ("25-DelFunc",), contradicted_by=("5.11-1-2",))
def erasure_covers_user_data(ixit: Ixit) -> CheckResult:
    functions = ixit.deletion
    read = Evidence("table", "IXIT 25-DelFunc", rows(functions, "target", "initiation", "interaction", "covers"))
    parts = []
    for f in functions:
        if not f.covers:
            parts.append(("PENDING", f"IXIT 25-DelFunc {f.target}", "does not say which user data it erases "
                                                                     "(covers): ask the supplier"))
    covered = {c for f in functions for c in f.covers}
    if not parts:
        missing = [c for c in USER_DATA if c not in covered]
        if missing:
            parts.append(("FAIL", "IXIT 25-DelFunc", f"no declared function erases {', '.join(missing)} from the device"))
    return verdict_of(parts, read, passed=(
        "the declared deletion functions together erase personal data, user configuration and user "
        "credentials, each started by the user: " + "; ".join(f"{f.target}: {f.initiation}" for f in functions)))


def _consent_based(ixit: Ixit) -> list:  # type: ignore[type-arg]
    return [d for d in ixit.personal_data if d.consent]


@rule("6-2-1", "consent is asked for explicitly (opt-in)", ("21-PersData",), contradicted_by=("6-2-2",))
def consent_opt_in(ixit: Ixit) -> CheckResult:
    data = _consent_based(ixit)
    read = Evidence("table", "IXIT 21-PersData (processed on consent)",
                    rows(data, "data", "consent", "consent_default", "obtaining_consent") or
                    [{"note": "no personal data is processed on consent", "data": [d.data for d in ixit.personal_data]}])
    parts = []
    for d in data:
        entry = f"IXIT 21-PersData {d.data}"
        if d.consent_default == "opt-out":
            parts.append(("FAIL", entry, "processed until the user objects: consent is not given explicitly"))
        elif d.consent_default is None:
            parts.append(("PENDING", entry, "does not say whether processing waits for the user's opt-in "
                                            "(consent_default): ask the supplier"))
        elif not (d.obtaining_consent or "").strip():
            parts.append(("PENDING", entry, "no Obtaining Consent description: ask the supplier"))
    return verdict_of(parts, read, passed=(
        "every consent-based processing waits for the user's explicit opt-in: " +
        "; ".join(f"{d.data}: {d.obtaining_consent}" for d in data) if data else
        "IXIT 21-PersData declares no processing based on consent"))


@rule("6-3-1", "consent can be withdrawn at any time", ("21-PersData",), contradicted_by=("6-3-2",))
def consent_withdrawal(ixit: Ixit) -> CheckResult:
    data = _consent_based(ixit)
    read = Evidence("table", "IXIT 21-PersData (processed on consent)",
                    rows(data, "data", "consent", "withdrawing_consent") or
                    [{"note": "no personal data is processed on consent", "data": [d.data for d in ixit.personal_data]}])
    parts = []
    for d in data:
        entry = f"IXIT 21-PersData {d.data}"
        if d.withdrawing_consent is None:
            parts.append(("PENDING", entry, "no Withdrawing Consent description: ask the supplier"))
        elif is_none(d.withdrawing_consent) or not d.withdrawing_consent.strip():
            parts.append(("FAIL", entry, "declares no way to withdraw consent"))
    return verdict_of(parts, read, passed=(
        "every consent-based processing declares how the user withdraws consent: " +
        "; ".join(f"{d.data}: {d.withdrawing_consent}" for d in data) if data else
        "IXIT 21-PersData declares no processing based on consent"))
