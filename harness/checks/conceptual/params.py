"""Clause 5.4 — the declared security parameters (IXIT 10-SecParam, with 1-AuthMech and 11-ComMech)."""

from __future__ import annotations

from harness.checks.conceptual import crypto_catalogue
from harness.checks.conceptual._base import is_none, rows, rule, verdict_of
from harness.profile.ixit import Ixit
from harness.verdict import CheckResult, Evidence

_PLAINTEXT = ("plaintext", "plain text", "in clear", "cleartext", "unencrypted", "unprotected")


@rule("5.4-1-1", "sensitive security parameters are stored securely", ("10-SecParam",),
      contradicted_by=("5.4-1-2",))
def stored_securely(ixit: Ixit) -> CheckResult:
    params = ixit.security_parameters
    table: list[dict[str, object]] = []
    read = Evidence("table", "IXIT 10-SecParam against our catalogue of protection at rest", table)
    parts = []
    for p in params:
        entry = f"IXIT 10-SecParam {p.id}"
        protection = (p.protection or "").lower()
        verdict = crypto_catalogue.assess_storage(p.protection)
        table.append({"parameter": p.id, "kind": p.kind, "storage": p.storage, "protection": p.protection,
                      "our catalogue": verdict.verdict, "deprecated": list(verdict.deprecated),
                      "best practice": list(verdict.best_practice)})
        if p.protection is None:
            parts.append(("PENDING", entry, "no Protection Scheme (protection) declared: ask the supplier"))
        elif is_none(p.protection) or any(w in protection for w in _PLAINTEXT):
            parts.append(("FAIL", entry, f"stored without protection ({p.protection})"))
        elif verdict.deprecated:
            parts.append(("FAIL", entry, f"protected only by {', '.join(verdict.deprecated)}"))
        elif verdict.verdict == "unknown":
            parts.append(("PENDING", entry, f"{p.protection!r} names no protection our reference catalogue knows: "
                                            f"the assessor judges it"))
    # Completeness (test unit d): parameters the other documents name must be listed here.
    known = {p.id for p in params} | {d.data for d in ixit.personal_data}
    for mech in ixit.communication:
        for carried in mech.carries:
            if carried not in known:
                parts.append(("PENDING", f"IXIT 11-ComMech {mech.id}",
                              f"carries {carried!r}, which neither 10-SecParam nor 21-PersData lists: ask the supplier"))
    if any("password" in m.factor.lower() for m in ixit.auth_mech) and not any(p.kind == "password" for p in params):
        parts.append(("PENDING", "IXIT 10-SecParam", "1-AuthMech declares passwords but no parameter of kind "
                                                      "password is listed: ask the supplier"))
    return verdict_of(parts, read, passed=(
        "every declared security parameter is protected at rest by means our reference catalogue agrees "
        "with, and the parameters the other IXIT documents name are all listed: " +
        "; ".join(f"{r['parameter']} ({', '.join(r['best practice'])})" for r in table)))


@rule("5.4-3-1", "no hard-coded critical security parameter is used in operation", ("10-SecParam",),
      contradicted_by=("5.4-3-2",))
def not_hard_coded(ixit: Ixit) -> CheckResult:
    params = ixit.security_parameters
    read = Evidence("table", "IXIT 10-SecParam", rows(params, "id", "kind", "critical", "hard_coded",
                                                      "replaced_before_use", "generation"))
    parts = []
    for p in params:
        entry = f"IXIT 10-SecParam {p.id}"
        if p.critical is None:
            parts.append(("PENDING", entry, "does not say whether it is a critical security parameter "
                                            "(critical): ask the supplier"))
            continue
        if not p.critical:
            continue
        if p.hard_coded is None:
            parts.append(("PENDING", entry, "does not say whether it is hard-coded (hard_coded): ask the supplier"))
        elif p.hard_coded and not p.replaced_before_use:
            parts.append(("FAIL", entry, "a critical parameter hard-coded in the device software and used in operation"))
    critical = [p for p in params if p.critical]
    return verdict_of(parts, read, passed=(
        "no critical security parameter is hard-coded and used in operation: " +
        ", ".join(f"{p.id} ({'replaced before use' if p.hard_coded else 'not hard-coded'})" for p in critical)
        if critical else "IXIT 10-SecParam declares no critical security parameter"))


@rule("5.4-4-1", "critical parameters for updates and associated services are unique per device",
      ("10-SecParam",))
def unique_per_device(ixit: Ixit) -> CheckResult:
    params = ixit.security_parameters
    scoped = [p for p in params if p.critical and set(p.protects) & {"software-updates", "associated-services"}]
    read = Evidence("table", "IXIT 10-SecParam", rows(params, "id", "critical", "protects", "per_device", "generation"))
    parts = []
    for p in params:
        if p.critical and not p.protects:
            parts.append(("PENDING", f"IXIT 10-SecParam {p.id}", "a critical parameter that does not say what it "
                                                                   "protects (protects): ask the supplier"))
    for p in scoped:
        entry = f"IXIT 10-SecParam {p.id}"
        if p.per_device is False:
            parts.append(("FAIL", entry, f"protects {', '.join(p.protects)} and is the same on every device"))
        elif p.per_device is None:
            parts.append(("PENDING", entry, "does not say whether it is unique per device (per_device)"))
        elif not p.generation:
            parts.append(("PENDING", entry, "no Generation Mechanism declared: ask the supplier"))
    return verdict_of(parts, read, passed=(
        "every critical parameter protecting updates or associated services is unique per device: " +
        "; ".join(f"{p.id}: {p.generation}" for p in scoped) if scoped else
        "no critical parameter protects software updates or associated services"))
