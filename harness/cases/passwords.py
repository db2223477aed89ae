"""Clause 5.1 — No universal default passwords (TS 103 701 5.1-1, 5.1-2, 5.1-4)."""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass, field

from harness.attacks import (
    AttackReport,
    brute_force_settings,
    candidate_credentials,
    run_dictionary,
    run_grouped,
)
from harness.checks import passwords as pw
from harness.device import Device
from harness.profile.resolve import Bench
from harness.redact import REDACTOR
from harness.results import Observations
from harness.testcase import TestCaseContext
from harness.verdict import CheckResult, Evidence, Verdict, combine

# Observation key written per unit by 5.1-1-2 and read by the cross-unit 5.1-2-2.
LABEL_ACCEPTED = "label_password_accepted:{phase}"
# Observation key written per unit by 5.1-1-2 and read by 5.1-4-2: public default credentials the
# unit accepted (findings, shown in clear), so 5.1-4 changes those accounts too.
WORKING_CREDENTIALS = "public_default_credentials_accepted"
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
    found: list[dict[str, str]] = []

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
        report = run_dictionary(device, creds, known_good=(user, label) if label is not None and accepted else None,
                                interface="console")
        found += _findings(report)
        parts.append(_judge(report, phase))
        if label is not None and accepted:
            # A device that also accepts dictionary passwords still has its label password as the
            # current one: later procedures (passwd) must be fed that, not the last hit.
            device.state.user, device.state.password = user, None
        if parts[-1].verdict == Verdict.INCONCLUSIVE:
            break  # the unit stopped answering: a reset and a second round would judge nothing

    if parts and parts[-1].verdict != Verdict.INCONCLUSIVE:
        network = network_dictionary_attacks(device, creds, (user, label) if label is not None and accepted else None)
        for result, report in network.values():
            parts.append(result)
            found += _findings(report)
    observations.record(unit_id, WORKING_CREDENTIALS, found)
    if label is not None:
        parts.append(pw.judge_unique_per_device(unit_id, label, other_label_passwords(device.bench, unit_id)))
    if account.user_defined:
        parts.append(CheckResult.passed("the profile declares that the user must define the password before use",
                                        Evidence("observation", "password kind", "user-defined")))
    return combine(parts, all_passed_reason=(
        "no public default credential logged in before or after a factory reset, and the label "
        "password is unique to this unit"))


def _findings(report: AttackReport) -> list[dict[str, str]]:
    """The public default credentials the unit accepted: findings, declassified for the report."""
    out = []
    for a in report.attempts:
        if a.outcome == "ok":
            REDACTOR.declassify(a.password)  # a working public default is a finding, not a secret
            out.append({"interface": report.interface, "user": a.user, "password": a.password})
    return out


def _judge(report: AttackReport, phase: str) -> CheckResult:
    result = pw.judge_dictionary_attack(report.attempts, report.planned, phase, stopped=report.stopped)
    result.evidence += report.evidence(phase if report.interface in phase else f"{report.interface}, {phase}")
    return result


def network_dictionary_attacks(device: Device, creds: list[pw.Credential],
                               known_good: tuple[str, str] | None) -> dict[str, tuple[CheckResult, AttackReport]]:
    """The same dictionary over every enabled network login the IXIT declares (SSH, HTTP API,
    telnet, MQTT …), on the unit as the factory reset left it. Interfaces whose failed-login
    counter is their own (``policies.brute_force.independent_counters``) are attacked concurrently."""
    from harness.cases.bruteforce import network_logins

    procedures = dict(network_logins(device))

    def attack(name: str) -> tuple[CheckResult, AttackReport]:
        report = run_dictionary(device, creds, known_good=known_good, procedure=procedures[name], interface=name)
        return _judge(report, f"{name} (network login)"), report

    return run_grouped(list(procedures), brute_force_settings(device.profile), attack)


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


@dataclass
class AccountToChange:
    """One account 5.1-4-2 changes: where it comes from, its current password, how to change it,
    and the interface logins on which the new and old passwords are judged."""

    user: str
    password: str | None = field(repr=False)
    source: str
    change: str | None = "change_password"
    logins: list[tuple[str, str]] = field(default_factory=list)  # (interface, login procedure)
    found_on: tuple[str, str] | None = None  # (interface, login procedure) where 5.1-1-2 saw it work
    covered_by: str | None = None  # the account whose change also revoked this credential
    covered_detail: str = ""


# Accounts beyond the IXIT's that 5.1-1-2 found working: a device accepting any password would
# otherwise send the test through every user name of the dictionary.
MAX_FOUND_ACCOUNTS = 5


def accounts_to_change(device: Device, found: list[dict[str, str]]) -> list[AccountToChange]:
    """Every account of IXIT 1-AuthMech and of the unit, then every credential 5.1-1-2 found
    working (``found``), each once; the unit's current session account first."""
    primary = device.state.user or device.default_user()
    current = device.state.password if device.state.password is not None else device.label_password(primary)
    out: dict[str, AccountToChange] = {primary: AccountToChange(primary, current, "the account in use")}
    for user in device.unit.accounts:
        out.setdefault(user, AccountToChange(user, device.label_password(user), "declared on the unit"))
    logins = {i.name: i.login for i in device.profile.ixit.interfaces if i.login and i.status == "enabled"}
    for mech in device.profile.ixit.auth_mech:
        if mech.factor != "password":
            continue
        user = getattr(mech, "account", None) or device.default_user()
        acct = out.setdefault(user, AccountToChange(user, device.label_password(user), f"IXIT 1-AuthMech {mech.id}"))
        change = getattr(mech, "change", None)
        if change:
            acct.change = None if change == "none" else change
            acct.source += f"; change declared by IXIT 1-AuthMech {mech.id}"
        if mech.interface in logins and (mech.interface, logins[mech.interface]) not in acct.logins:
            acct.logins.append((mech.interface, logins[mech.interface]))
    extra = 0
    for cred in found:
        user = cred.get("user", "")
        if user in out:
            if out[user].password is None:
                out[user].password = cred.get("password")
            continue
        if extra >= MAX_FOUND_ACCOUNTS:
            continue
        extra += 1
        acct = AccountToChange(user, cred.get("password"), f"public default credential 5.1-1-2 found working on "
                               f"{cred.get('interface', '?')}")
        if cred.get("interface") in logins:
            acct.logins.append((cred["interface"], logins[cred["interface"]]))
            acct.found_on = (cred["interface"], logins[cred["interface"]])
        elif cred.get("interface") == "console":
            acct.found_on = ("console", "login")
        out[user] = acct
    return list(out.values())


def user_can_change_password(tc: TestCaseContext, device: Device,
                             observations: Observations | None = None) -> CheckResult:
    """5.1-4-2 on a logged-in unit: every account (IXIT 1-AuthMech, the unit's, and those 5.1-1-2
    found working) is changed with its documented procedure; the new password logs in and the old
    one is refused (with proof of life) on the console and on the mechanism's own interface. An
    account with no change procedure is FAIL, named. Each change is undone at the end, so the unit
    is left with the passwords it was delivered with (or the evidence says what it was left with)."""
    found = []
    if observations is not None:
        found = observations.read().get(device.unit_id, {}).get(WORKING_CREDENTIALS) or []
    accounts = accounts_to_change(device, found)
    tc.add(Evidence("table", "accounts changed", [
        {"account": a.user, "source": a.source, "change procedure": a.change or "none",
         "interfaces judged": ["console"] + [n for n, _ in a.logins]} for a in accounts]))
    if len(found) > MAX_FOUND_ACCOUNTS:
        tc.add(Evidence("text", "limits", f"{len(found)} working public default credentials were found; only the "
                                          f"first {MAX_FOUND_ACCOUNTS} further accounts are changed"))
    parts = []
    found_accounts = [a for a in accounts[1:] if a.found_on is not None]
    for n, acct in enumerate(accounts):
        if acct.covered_by is not None:
            parts.append(CheckResult.passed(
                f"account {acct.user!r} ({acct.source}): the credential stopped working when {acct.covered_by}'s "
                f"password was changed (the same account under another name)",
                Evidence("observation", f"{acct.user} while {acct.covered_by}'s password was changed",
                         acct.covered_detail)))
            continue
        result = _change_one(tc, device, acct, primary=n == 0,
                             while_changed=lambda: _revoked_with(device, accounts[0].user, found_accounts))
        parts.append(result)
        if n == 0:
            if result.verdict == Verdict.INCONCLUSIVE and device.state.session == "unknown":
                break  # the unit stopped answering: the other accounts would judge nothing
            # Logins as other accounts below move the harness's idea of "current": keep the primary's.
            primary_user, primary_password = device.state.user, device.state.password
        else:
            device.state.user, device.state.password = primary_user, primary_password
    return combine(parts, all_passed_reason=(
        f"every account ({', '.join(a.user for a in accounts)}) was changed with its documented procedure (or "
        f"stopped working with the account it belongs to): the new password logs in and the old one is refused "
        f"by a live device"))


def _revoked_with(device: Device, changed: str, found: list[AccountToChange]) -> None:
    """While ``changed``'s password is changed: a credential 5.1-1-2 found working that no longer
    logs in (refused by a live device) was that account under another name (a password-only
    console ignores the user name); one that still works is an account of its own."""
    for acct in found:
        if acct.covered_by is not None or acct.found_on is None or acct.password is None:
            continue
        interface, procedure = acct.found_on
        attempt = device.try_login(acct.user, acct.password, procedure=procedure)
        if attempt.outcome == "ok" and procedure == "login":
            device.logout()
        if attempt.refused_alive and attempt.outcome == "rejected":
            acct.covered_by = changed
            acct.covered_detail = f"refused on {interface} by a live device ({attempt.detail or attempt.outcome})"


def _change_one(tc: TestCaseContext, device: Device, acct: AccountToChange, *, primary: bool,
                while_changed: Callable[[], None] | None = None) -> CheckResult:
    name = f"account {acct.user!r} ({acct.source})"
    if acct.change is None:
        return CheckResult.failed(f"{name}: the IXIT declares no way for the user to change its password",
                                  Evidence("finding", "password the user cannot change",
                                           {"account": acct.user, "source": acct.source}))
    if not device.has(acct.change):
        return CheckResult.failed(f"{name}: the profile has no procedure {acct.change!r} to change it, so the user "
                                  f"has no documented way to change its password",
                                  Evidence("finding", "password the user cannot change",
                                           {"account": acct.user, "source": acct.source}))
    if acct.password is None:
        return CheckResult.inconclusive(f"{name}: no current password is known to start the change from")
    old = acct.password
    if not primary or device.state.session != "logged_in" or device.state.user != acct.user:
        entry = device.try_login(acct.user, old)
        if entry.outcome != "ok":
            return CheckResult.inconclusive(f"{name}: could not log in on the console to change it "
                                            f"({entry.outcome}: {entry.detail})")
    new = "Hx-" + secrets.token_urlsafe(12)
    REDACTOR.add(new, "harness-generated new password")
    change = device.run(acct.change, user=acct.user, password=old, new_password=new)
    tc.add(Evidence("observation", f"{acct.change} for {acct.user}", {"outcome": change.outcome,
                                                                      "detail": change.detail}))
    if change.outcome == "timeout":
        device.state.session = "unknown"
        return CheckResult.inconclusive(f"{name}: the change-password procedure got no answer ({change.detail})")
    device.mark_changed()
    device.logout()
    # The old password first, then the new one, whose session is kept for changing back: every
    # login counts on devices that tire of them.
    old_login = device.try_login(acct.user, old)
    if old_login.outcome == "ok":
        device.logout()
    if primary and while_changed is not None and change.outcome == "ok" and old_login.refused_alive:
        while_changed()
    new_login = device.try_login(acct.user, new)
    result = pw.judge_password_change(change.outcome, new_login, old_login, change_detail=change.detail)
    parts = [result]
    if change.outcome == "ok" and new_login.outcome == "ok":
        for interface, procedure in acct.logins:
            parts.append(_judge_on_interface(device, acct.user, interface, procedure, new, old))
    current = new if new_login.outcome == "ok" else (old if old_login.outcome == "ok" else None)
    restored = _restore(device, acct, current, new, old, primary=primary)
    tc.add(Evidence("observation", f"restore {acct.user}", restored))
    result = combine(parts)
    result.reason = f"{name}: {result.reason}"
    return result


def _judge_on_interface(device: Device, user: str, interface: str, procedure: str, new: str, old: str) -> CheckResult:
    """The changed password holds on the mechanism's own interface too (SSH, web API …)."""
    new_login = device.try_login(user, new, procedure=procedure)
    old_login = device.try_login(user, old, procedure=procedure)
    result = pw.judge_password_change("ok", new_login, old_login)
    result.reason = f"on {interface}: {result.reason}"
    return result


def _restore(device: Device, acct: AccountToChange, current: str | None, new: str, old: str, *,
             primary: bool) -> dict[str, object]:
    """Change the password back to the delivered one (from the session the new password opened)
    and prove it logs in; say what was left. The primary account's session stays open."""
    delivered_is_label = old == device.label_password(acct.user)
    if current == old:
        state: dict[str, object] = {"left with": "the delivered password (the change did not take)"}
    elif current is None:
        state = {"left with": "unknown: neither the new nor the old password logged in"}
    else:
        back = device.run(acct.change or "change_password", user=acct.user, password=new, new_password=old)
        device.logout()
        check = device.try_login(acct.user, old)
        if check.outcome == "ok":
            state = {"left with": "the delivered password (changed back and logged in)"}
            current = old
        else:
            state = {"left with": "the harness-generated password (changing back failed)",
                     "change back": back.outcome, "login with the delivered password": check.outcome}
            if not device.try_login(acct.user, new).outcome == "ok":
                current = None
    if device.state.session == "logged_in" and not primary:
        device.logout()
    if primary:
        device.state.user = acct.user
        device.state.password = None if (current == old and delivered_is_label) else current
        if current is None:
            device.state.session = "unknown"
    return state
