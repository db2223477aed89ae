"""Clauses 5.5 and 5.8 — the declared communication mechanisms (IXIT 11-ComMech with 10-SecParam,
13-SoftServ and 21-PersData)."""

from __future__ import annotations

from harness.checks.conceptual import crypto_catalogue
from harness.checks.conceptual._base import is_none, rows, rule, verdict_of
from harness.profile.ixit import CommunicationMechanism, Ixit
from harness.verdict import CheckResult, Evidence


def _judge_mechanisms(ixit: Ixit, selected: list[tuple[CommunicationMechanism, str]], *, need: set[str],
                      scope: str, none_selected: str) -> CheckResult:
    """The test units of 5.5-1-1 over ``selected`` mechanisms (each with why it is in scope),
    requiring the guarantees in ``need``."""
    table, parts = [], []
    for mech, why in selected:
        entry = f"IXIT 11-ComMech {mech.id}"
        text = " ".join(t for t in (mech.security, mech.cryptography) if t)
        crypto = crypto_catalogue.assess(text)
        table.append({"mechanism": mech.id, "in scope because": why, "security": mech.security,
                      "cryptographic details": mech.cryptography, "security guarantees": mech.security_guarantees,
                      "our catalogue": crypto.verdict, "deprecated": list(crypto.deprecated),
                      "best practice": list(crypto.best_practice)})
        if is_none(mech.security) or is_none(mech.cryptography):
            sensitive = why != "declared"
            parts.append(("FAIL" if sensitive else "PENDING", entry,
                          f"no cryptography ({why})" if sensitive else
                          "declared without cryptography while carrying nothing the IXIT names as a security "
                          "parameter or personal data: the assessor judges whether that suits its use"))
            continue
        if not text:
            parts.append(("PENDING", entry, "no security or Cryptographic Details declared: ask the supplier"))
            continue
        if crypto.deprecated:
            parts.append(("FAIL", entry, f"deprecated cryptography: {', '.join(crypto.deprecated)}"))
        elif crypto.verdict == "unknown":
            parts.append(("PENDING", entry, f"{text!r} is not in our reference catalogue: the assessor judges the "
                                            f"supplier's justification"))
        if not mech.security_guarantees:
            parts.append(("PENDING", entry, "no Security Guarantees declared: ask the supplier"))
        elif need - set(mech.security_guarantees):
            parts.append(("FAIL", entry, f"the declared guarantees lack {', '.join(sorted(need - set(mech.security_guarantees)))}"))
    read = Evidence("table", f"IXIT 11-ComMech ({scope})", table or
                    [{"note": none_selected, "mechanisms": [m.id for m in ixit.communication]}])
    return verdict_of(parts, read, passed=(
        f"every mechanism in scope ({scope}) declares {', '.join(sorted(need))} with best-practice cryptography: " +
        "; ".join(f"{r['mechanism']} ({', '.join(r['best practice'])})" for r in table)
        if table else none_selected))


def _critical_ids(ixit: Ixit) -> set[str]:
    return {p.id for p in ixit.security_parameters if p.critical}


def _carrying(ixit: Ixit, ids: set[str], what: str, *, remote_only: bool = False,
              peer: str | None = None) -> list[tuple[CommunicationMechanism, str]]:
    via: dict[str, set[str]] = {}
    for d in ixit.personal_data:
        for mech_id in d.transmitted_via:
            if d.data in ids:
                via.setdefault(mech_id, set()).add(d.data)
    out = []
    for m in ixit.communication:
        carried = (set(m.carries) & ids) | via.get(m.id, set())
        if not carried:
            continue
        if remote_only and not m.remote:
            continue
        if peer is not None and m.peer != peer:
            continue
        out.append((m, f"carries {what} {', '.join(sorted(carried))}"))
    return out


@rule("5.5-1-1", "communication uses best-practice cryptography", ("11-ComMech",), contradicted_by=("5.5-1-2",))
def secure_communication(ixit: Ixit) -> CheckResult:
    protected = {p.id for p in ixit.security_parameters} | {d.data for d in ixit.personal_data}
    why = {m.id: w for m, w in _carrying(ixit, protected, "protected data")}
    selected = [(m, why.get(m.id, "declared")) for m in ixit.communication]
    return _judge_mechanisms(ixit, selected, need={"integrity", "authenticity"}, scope="all mechanisms",
                             none_selected="no communication mechanism declared")


@rule("5.5-5-1", "security-relevant configuration over the network needs authentication", ("13-SoftServ",),
      contradicted_by=("5.5-5-2",))
def configuration_authenticated(ixit: Ixit) -> CheckResult:
    services = ixit.services
    known = {m.id for m in ixit.auth_mech}
    read = Evidence("table", "IXIT 13-SoftServ", rows(services, "name", "interface", "network", "allows_configuration",
                                                      "authenticated", "auth_mechanism"))
    parts = []
    configurable = []
    for s in services:
        entry = f"IXIT 13-SoftServ {s.name}"
        if s.allows_configuration is None:
            parts.append(("PENDING", entry, "does not say whether it allows security-relevant configuration "
                                            "(allows_configuration): ask the supplier"))
            continue
        if not s.allows_configuration:
            continue
        configurable.append(s)
        if s.authenticated is False or (s.authenticated is None and not s.auth_mechanism):
            parts.append(("FAIL", entry, "allows security-relevant configuration without authentication"))
        elif s.auth_mechanism and s.auth_mechanism not in known:
            parts.append(("PENDING", entry, f"names 1-AuthMech {s.auth_mechanism!r}, which IXIT 1-AuthMech does "
                                            f"not list: ask the supplier"))
    return verdict_of(parts, read, passed=(
        "every service allowing security-relevant configuration requires authentication: " +
        ", ".join(f"{s.name} ({s.auth_mechanism or 'authenticated'})" for s in configurable)
        if configurable else "no declared service allows security-relevant configuration"))


@rule("5.5-6-1", "critical security parameters are encrypted in transit", ("10-SecParam", "11-ComMech"),
      contradicted_by=("5.5-6-2",))
def critical_in_transit(ixit: Ixit) -> CheckResult:
    return _judge_mechanisms(ixit, _carrying(ixit, _critical_ids(ixit), "critical parameter(s)"),
                             need={"confidentiality", "integrity", "authenticity"},
                             scope="mechanisms carrying critical security parameters",
                             none_selected="no declared mechanism carries a critical security parameter")


@rule("5.5-7-1", "critical parameters over remotely accessible interfaces are confidential", ("10-SecParam", "11-ComMech"),
      contradicted_by=("5.5-7-2",))
def critical_remote(ixit: Ixit) -> CheckResult:
    return _judge_mechanisms(ixit, _carrying(ixit, _critical_ids(ixit), "critical parameter(s)", remote_only=True),
                             need={"confidentiality", "integrity", "authenticity"},
                             scope="remotely accessible mechanisms carrying critical security parameters",
                             none_selected="no remotely accessible mechanism carries a critical security parameter")


@rule("5.8-1-1", "personal data is confidential in transit", ("21-PersData", "11-ComMech"),
      contradicted_by=("5.8-1-2",))
def personal_in_transit(ixit: Ixit) -> CheckResult:
    ids = {d.data for d in ixit.personal_data}
    result = _judge_mechanisms(ixit, _carrying(ixit, ids, "personal data"),
                               need={"confidentiality", "integrity", "authenticity"},
                               scope="mechanisms carrying personal data",
                               none_selected="no declared mechanism carries personal data")
    known = {m.id for m in ixit.communication}
    unknown = [(d.data, via) for d in ixit.personal_data for via in d.transmitted_via if via not in known]
    if unknown and result.verdict.value == "PASS":
        return CheckResult.pending("; ".join(
            f"IXIT 21-PersData {data}: transmitted via {via!r}, which 11-ComMech does not list: ask the supplier"
            for data, via in unknown), *result.evidence)
    return result


@rule("5.8-2-1", "sensitive personal data to associated services is confidential", ("21-PersData", "11-ComMech"),
      contradicted_by=("5.8-2-2",))
def sensitive_to_services(ixit: Ixit) -> CheckResult:
    ids = {d.data for d in ixit.personal_data if d.sensitive}
    carriers = {m.id for m, _ in _carrying(ixit, ids, "")}
    unknown_peer = [m for m in ixit.communication if m.peer is None and m.id in carriers]
    result = _judge_mechanisms(ixit, _carrying(ixit, ids, "sensitive personal data", peer="associated-service"),
                               need={"confidentiality", "integrity", "authenticity"},
                               scope="mechanisms carrying sensitive personal data to associated services",
                               none_selected="no declared mechanism carries sensitive personal data to an associated service")
    if unknown_peer and result.verdict.value == "PASS":
        return CheckResult.pending(
            "; ".join(f"IXIT 11-ComMech {m.id}: carries sensitive personal data and does not say whether its "
                      f"partner is an associated service (peer): ask the supplier" for m in unknown_peer),
            *result.evidence)
    return result
