"""Clause 5.1 — No universal default passwords (TS 103 701 5.1-1, 5.1-2, 5.1-4)."""

from __future__ import annotations

import secrets

from harness.attacks import candidate_credentials, dictionary_attack
from harness.checks import passwords as pw
from harness.device import Device
from harness.profile.resolve import Bench
from harness.redact import REDACTOR
from harness.results import Observations
from harness.testcase import TestCaseContext
from harness.verdict import CheckResult, Evidence, Verdict, combine

# Observation key written per unit by 5.1-1-2 and read by the cross-unit 5.1-2-2.
LABEL_ACCEPTED = "label_password_accepted:{phase}"
PHASES = ("factory default", "after factory reset")


def unit_facts(bench: Bench, unit_ids: list[str]) -> list[pw.UnitFacts]:
    """Identifiers and label password of each unit that declares one."""
    facts = []
    for uid in unit_ids:
        unit = bench.unit(uid)
        user = next(iter(unit.accounts), None)
        password = bench.password(uid, user) if user else None
        if password is None:
            continue
        facts.append(pw.UnitFacts(unit=uid, serial=unit.serial, mac=unit.mac, model=bench.profile.product.model,
                                  password=password))
    return facts


def other_label_passwords(bench: Bench, unit_id: str) -> dict[str, str]:
    """The label passwords of every other unit of the profile (for the uniqueness check)."""
    out = {}
    for unit in bench.profile.units:
        if unit.id == unit_id or not unit.accounts:
            continue
        password = bench.password(unit.id, next(iter(unit.accounts)))
        if password is not None:
            out[unit.id] = password
    return out


def no_universal_default_password(tc: TestCaseContext, device: Device, dictionary: list[pw.Credential],
                                  observations: Observations) -> CheckResult:
    """5.1-1-2 on a unit in its factory state: label password works and is unique; no public
    default credential logs in, before or after a factory reset."""
    unit_id = device.unit_id
    user = device.default_user()
    label = device.label_password(user)
    account = device.unit.accounts[user]
    creds = candidate_credentials(dictionary, device.unit.accounts)
    tc.measure("credentials_tried_per_phase", len(creds))
    parts: list[CheckResult] = []
    accepted: bool | None = None

    for phase in PHASES:
        if phase == "after factory reset":
            reset = device.factory_reset()
            if not reset.ok:
                parts.append(CheckResult.inconclusive(f"the factory reset did not complete ({reset.detail or reset.outcome})"))
                break
        if label is not None:
            first = device.try_login(user, label)
            accepted = True if first.outcome == "ok" else (
                False if first.outcome in ("rejected", "locked") and first.alive_after else None)
            observations.record(unit_id, LABEL_ACCEPTED.format(phase=phase), accepted)
            parts.append(pw.judge_label_password_in_use(unit_id, accepted, f"{phase}: {first.detail or first.outcome}"))
            if first.outcome == "ok":
                device.logout()
        elif not account.user_defined:
            parts.append(CheckResult.inconclusive(f"unit {unit_id} declares no label password and no user-defined password"))
        attempts = dictionary_attack(device, creds, known_good=(user, label) if label is not None and accepted else None)
        for a in attempts:
            if a.outcome == "ok":
                REDACTOR.declassify(a.password)  # a working public default is a finding, not a secret
        parts.append(pw.judge_dictionary_attack(attempts, len(creds), phase))
        if label is not None and accepted:
            # A device that also accepts dictionary passwords still has its label password as the
            # current one: later procedures (passwd) must be fed that, not the last hit.
            device.state.user, device.state.password = user, None
        if parts[-1].verdict == Verdict.INCONCLUSIVE:
            break  # the unit stopped answering: a reset and a second round would judge nothing

    if parts and parts[-1].verdict != Verdict.INCONCLUSIVE:
        parts += network_dictionary_attacks(device, creds, (user, label) if label is not None and accepted else None)
    if label is not None:
        parts.append(pw.judge_unique_per_device(unit_id, label, other_label_passwords(device.bench, unit_id)))
    if account.user_defined:
        parts.append(CheckResult.passed("the profile declares that the user must define the password before use",
                                        Evidence("observation", "password kind", "user-defined")))
    return combine(parts, all_passed_reason=(
        "no public default credential logged in before or after a factory reset, and the label "
        "password is unique to this unit"))


def network_dictionary_attacks(device: Device, creds: list[pw.Credential],
                               known_good: tuple[str, str] | None) -> list[CheckResult]:
    """The same dictionary over every enabled network login the IXIT declares (SSH, HTTP API,
    telnet, MQTT …), on the unit as the factory reset left it."""
    from harness.cases.bruteforce import network_logins

    out = []
    for name, procedure in network_logins(device):
        attempts = dictionary_attack(device, creds, known_good=known_good, procedure=procedure)
        for a in attempts:
            if a.outcome == "ok":
                REDACTOR.declassify(a.password)
        out.append(pw.judge_dictionary_attack(attempts, len(creds), f"{name} (network login)"))
    return out


def label_password_generation(bench: Bench, wordlist: set[str]) -> CheckResult:
    """5.1-2-1: the declared generation mechanism, and the label passwords of every unit."""
    mechanisms = [m for m in bench.profile.ixit.auth_mech if m.factor == "password"]
    parts = []
    if not mechanisms or not any(m.generation for m in mechanisms):
        parts.append(CheckResult.failed("IXIT 1-AuthMech declares no password generation mechanism"))
    else:
        parts.append(CheckResult.passed("IXIT 1-AuthMech declares the generation mechanism",
                                        Evidence("table", "IXIT 1-AuthMech", [m.model_dump() for m in mechanisms])))
    facts = unit_facts(bench, [u.id for u in bench.profile.units])
    if not facts:
        parts.append(CheckResult.inconclusive("no unit declares a label password to analyse"))
    else:
        parts.append(pw.analyse_label_passwords(facts, wordlist))
    return combine(parts)


def label_passwords_resist_attack(tc: TestCaseContext, bench: Bench, observations: Observations,
                                  wordlist: set[str]) -> CheckResult:
    """5.1-2-2 across units: the label passwords 5.1-1-2 saw working (in any process, by any
    runner) show no regularity an automated attack could exploit."""
    key = LABEL_ACCEPTED.format(phase=PHASES[0])
    seen = observations.read()
    accepted = [uid for uid, facts in seen.items() if facts.get(key) is True]
    tc.add(Evidence("table", "units observed", [
        {"unit": u.id, "label password accepted at factory default": seen.get(u.id, {}).get(key)}
        for u in bench.profile.units]))
    if len(accepted) < 2:
        return CheckResult.inconclusive(
            f"needs the label password observed working on at least 2 units, have {len(accepted)} "
            f"(run 5.1-1-2 on the units first)")
    return pw.analyse_label_passwords(unit_facts(bench, sorted(accepted)), wordlist)


def user_can_change_password(tc: TestCaseContext, device: Device) -> CheckResult:
    """5.1-4-2 on a logged-in unit: the documented change works, the new password logs in and
    the old one is refused. Leaves the harness's idea of the current password right."""
    user = device.state.user or device.default_user()
    old = device.state.password if device.state.password is not None else device.label_password(user)
    new = "Hx-" + secrets.token_urlsafe(12)
    REDACTOR.add(new, "harness-generated new password")
    change = device.run("change_password", user=user, password=old, new_password=new)
    tc.add(Evidence("observation", "change_password procedure", {"outcome": change.outcome, "detail": change.detail}))
    if change.outcome == "timeout":
        device.state.session = "unknown"
        return CheckResult.inconclusive(f"the change-password procedure got no answer ({change.detail})")
    device.mark_changed()
    device.logout()
    new_login = device.try_login(user, new)
    if new_login.outcome == "ok":
        device.mark_changed(password=new)
        device.logout()
    old_login = device.try_login(user, old)
    if old_login.outcome == "ok":
        device.mark_changed(password=old if new_login.outcome != "ok" else None)
        if new_login.outcome != "ok":
            device.state.password = old
    return pw.judge_password_change(change.outcome, new_login, old_login)
