"""Clause 5.1 — the declared authentication mechanisms (IXIT 1-AuthMech with 15-Intf)."""

from __future__ import annotations

from harness.checks.conceptual import crypto_catalogue
from harness.checks.conceptual._base import interface_map, is_network_interface, rows, rule, verdict_of
from harness.profile.ixit import AuthMechanism, Ixit
from harness.verdict import CheckResult, Evidence

# Interface kinds that carry a password without any cryptography.
CLEARTEXT_KINDS = {"telnet", "ftp", "http"}

# Brute-force prevention methods TS 103 701 names (delays, suspension, lock-out, entropy, 2FA).
_BRUTE_FORCE = ("delay", "lockout", "lock-out", "lock out", "locks", "locked", "suspen", "rate limit", "rate-limit",
                "throttl", "back-off", "backoff", "429", "retry-after", "two-factor", "2fa", "mfa", "multi-factor", "captcha", "entropy")


def _password_mechanisms(ixit: Ixit) -> list[AuthMechanism]:
    return [m for m in ixit.auth_mech if "password" in m.factor.lower() and m.user_authentication]


def _interfaces_of(mech: AuthMechanism) -> list[str]:
    return [n for n in [mech.interface, *mech.interfaces] if n]


@rule("5.1-1-1", "passwords are unique per unit or defined by the user", ("1-AuthMech",),
      contradicted_by=("5.1-1-2",))
def unique_or_user_defined(ixit: Ixit) -> CheckResult:
    mechanisms = _password_mechanisms(ixit)
    read = Evidence("table", "IXIT 1-AuthMech (password mechanisms for users)",
                    rows(mechanisms, "id", "factor", "password_kind", "generation") or
                    [{"note": "no password-based user authentication declared", "mechanisms": [m.id for m in ixit.auth_mech]}])
    parts = []
    for m in mechanisms:
        entry = f"IXIT 1-AuthMech {m.id}"
        if m.password_kind == "shared":
            parts.append(("FAIL", entry, "the same password on every unit, not defined by the user"))
        elif m.password_kind is None:
            parts.append(("PENDING", entry, "does not say whether the password is user-defined or unique per unit "
                                            "(password_kind): ask the supplier"))
    return verdict_of(parts, read, passed=(
        "every password-based user authentication is user-defined or unique per unit: " +
        ", ".join(f"{m.id} ({m.password_kind})" for m in mechanisms) if mechanisms else
        "IXIT 1-AuthMech declares no password-based user authentication"))


@rule("5.1-3-1", "authentication uses best-practice cryptography", ("1-AuthMech", "15-Intf"),
      contradicted_by=("5.1-3-2",))
def authentication_cryptography(ixit: Ixit) -> CheckResult:
    mechanisms = [m for m in ixit.auth_mech if m.user_authentication]
    intfs = interface_map(ixit)
    table = []
    parts = []
    for m in mechanisms:
        entry = f"IXIT 1-AuthMech {m.id}"
        crypto = crypto_catalogue.assess(m.cryptography)
        table.append({"mechanism": m.id, "security guarantees": m.security_guarantees,
                      "cryptographic details": m.cryptography, "our catalogue": crypto.verdict,
                      "deprecated": list(crypto.deprecated), "best practice": list(crypto.best_practice),
                      "interfaces": _interfaces_of(m)})
        for name in _interfaces_of(m):
            intf = intfs.get(name)
            if intf is None or intf.status != "enabled":
                continue
            kind = str(intf.kind or "").lower()
            if kind in CLEARTEXT_KINDS and not intf.tls:
                parts.append(("FAIL", f"{entry} on IXIT 15-Intf {name}",
                              f"{kind} carries the password without cryptography"))
        if m.cryptography is None:
            parts.append(("PENDING", entry, "no Cryptographic Details (cryptography): ask the supplier"))
        elif crypto.deprecated:
            parts.append(("FAIL", entry, f"deprecated cryptography: {', '.join(crypto.deprecated)}"))
        elif crypto.verdict == "unknown":
            parts.append(("PENDING", entry, f"{m.cryptography!r} is not in our reference catalogue: the assessor "
                                            f"judges the supplier's justification"))
        missing = {"integrity", "authenticity"} - set(m.security_guarantees)
        if not m.security_guarantees:
            parts.append(("PENDING", entry, "no Security Guarantees declared: ask the supplier"))
        elif missing:
            parts.append(("FAIL", entry, f"the declared guarantees lack {', '.join(sorted(missing))}"))
    read = Evidence("table", "IXIT 1-AuthMech against our cryptography catalogue", table)
    if not mechanisms:
        return verdict_of([("PENDING", "IXIT 1-AuthMech", "no user authentication mechanism declared")], read,
                          passed="")
    return verdict_of(parts, read, passed=(
        "every user authentication mechanism declares integrity and authenticity with best-practice "
        "cryptography: " + "; ".join(f"{r['mechanism']} ({', '.join(r['best practice'])})" for r in table)))


@rule("5.1-5-1", "brute force over the network is made impracticable", ("1-AuthMech", "15-Intf"),
      contradicted_by=("5.1-5-2",))
def brute_force_prevention(ixit: Ixit) -> CheckResult:
    intfs = interface_map(ixit)
    networked = []
    for m in ixit.auth_mech:
        names = _interfaces_of(m)
        on_network = m.network if m.network is not None else any(
            n in intfs and intfs[n].status == "enabled" and is_network_interface(intfs[n]) for n in names)
        if on_network:
            networked.append(m)
    read = Evidence("table", "IXIT 1-AuthMech (mechanisms addressable over a network)",
                    rows(networked, "id", "interface", "interfaces", "brute_force") or
                    [{"note": "no mechanism is addressable over a network interface",
                      "mechanisms": [f"{m.id} on {', '.join(_interfaces_of(m)) or '?'}" for m in ixit.auth_mech]}])
    parts = []
    for m in networked:
        entry = f"IXIT 1-AuthMech {m.id}"
        text = (m.brute_force or "").strip().lower()
        if m.brute_force is None:
            parts.append(("PENDING", entry, "no Brute Force Prevention declared: ask the supplier"))
        elif not text or text in {"none", "no", "-", "nothing"}:
            parts.append(("FAIL", entry, "declares no brute-force prevention on a network interface"))
        elif not any(k in text for k in _BRUTE_FORCE):
            parts.append(("PENDING", entry, f"{m.brute_force!r} is none of the methods the TS names (delays, "
                                            f"suspension, lock-out, entropy, two factors): the assessor judges it"))
    # Completeness: every enabled network login of 15-Intf is a mechanism of 1-AuthMech.
    named = {n for m in ixit.auth_mech for n in _interfaces_of(m)}
    for i in ixit.interfaces:
        if i.status == "enabled" and i.login and is_network_interface(i) and i.name not in named:
            parts.append(("PENDING", f"IXIT 15-Intf {i.name}", "a network login no 1-AuthMech mechanism names "
                                                                "(interface/interfaces): ask the supplier"))
    if not ixit.auth_mech:
        return verdict_of([("PENDING", "IXIT 1-AuthMech", "no mechanism declared")], read, passed="")
    return verdict_of(parts, read, passed=(
        "every network-addressable mechanism declares a brute-force prevention: " +
        "; ".join(f"{m.id}: {m.brute_force}" for m in networked) if networked else
        "no authentication mechanism is addressable over a network interface"))
