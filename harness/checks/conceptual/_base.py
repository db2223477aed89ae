"""What every conceptual rule shares: the registry, IXIT look-ups, and the cross-check with the
functional verdicts of the same run.

A rule judges the supplier's declared design (ICS/IXIT) mechanically. It never reads prose for
meaning: it reads structured fields, and where only an assessor can decide it says so
(PENDING_REVIEW with the question). A document the rule needs and the supplier did not give is
PENDING_REVIEW ("ask the supplier for IXIT 10-SecParam"), never PASS and never FAIL.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.profile.ixit import Ixit
from harness.verdict import CheckResult, Evidence, Verdict

# Test case id → the records of that test case in this run (one per unit), as the results log keeps
# them (dicts with at least verdict, reason, unit).
Functional = Mapping[str, list[dict[str, Any]]]

# IXIT document name → the Ixit attribute holding it (typed documents only).
DOCUMENT_FIELDS = {
    field.alias: name for name, field in Ixit.model_fields.items() if field.alias
}

# Interface kinds that are network services (a 15-Intf entry with a port is one too).
NETWORK_KINDS = {"ssh", "telnet", "http", "https", "mqtt", "mqtts", "coap", "coaps", "ftp", "web", "rtsp",
                 "upnp", "mdns", "api", "tcp", "udp"}


@dataclass(frozen=True)
class Rule:
    test_case: str
    title: str
    reads: tuple[str, ...]  # IXIT documents the rule needs (PENDING_REVIEW when one is missing)
    judge: Callable[[Ixit], CheckResult]
    contradicted_by: tuple[str, ...] = ()  # functional test cases whose FAIL contradicts a PASS


RULES: dict[str, Rule] = {}


def rule(test_case: str, title: str, reads: tuple[str, ...],
         contradicted_by: tuple[str, ...] = ()) -> Callable[[Callable[[Ixit], CheckResult]], Callable[[Ixit], CheckResult]]:
    def register(fn: Callable[[Ixit], CheckResult]) -> Callable[[Ixit], CheckResult]:
        if test_case in RULES:
            raise ValueError(f"two conceptual rules for {test_case}")
        RULES[test_case] = Rule(test_case, title, reads, fn, contradicted_by)
        return fn
    return register


def supplied(ixit: Ixit, document: str) -> bool:
    """The supplier gave ``document`` (a typed one with content, or an untyped one at all)."""
    attr = DOCUMENT_FIELDS.get(document)
    if attr is None:
        return document in ixit.other and ixit.other[document] not in (None, [], {}, "")
    if attr not in ixit.model_fields_set:
        return False
    value = getattr(ixit, attr)
    if isinstance(value, list):
        return bool(value)
    return value is not None


def ask_supplier(document: str, why: str) -> CheckResult:
    return CheckResult.pending(f"ask the supplier for IXIT {document}: {why}")


def is_none(text: str | None) -> bool:
    """The supplier declared the absence of something ('none', 'no', '-')."""
    return text is not None and text.strip().lower() in {"none", "no", "-", "n/a", "nothing", "plaintext", "plain text"}


def interface_map(ixit: Ixit) -> dict[str, Any]:
    return {i.name: i for i in ixit.interfaces}


def is_network_interface(intf: Any) -> bool:
    return bool(getattr(intf, "port", None)) or str(getattr(intf, "kind", "") or "").lower() in NETWORK_KINDS


def rows(items: list[Any], *fields: str) -> list[dict[str, Any]]:
    """Table rows of the IXIT entries a rule read (only the fields it read)."""
    out = []
    for item in items:
        data = item.model_dump(by_alias=True, exclude_none=True)
        out.append({f: data.get(f) for f in fields if f in data} if fields else data)
    return out


def verdict_of(parts: list[tuple[str, str, str]], read: Evidence, *, passed: str) -> CheckResult:
    """Combine per-entry findings (verdict name 'FAIL'/'PENDING', entry, why) into one result.

    FAIL wins (a declared non-conformant design); otherwise any open point keeps the case with the
    assessor; a PASS names what was checked (``read``)."""
    fails = [f"{entry}: {why}" for v, entry, why in parts if v == "FAIL"]
    pending = [f"{entry}: {why}" for v, entry, why in parts if v == "PENDING"]
    table = Evidence("table", "findings", [{"verdict": v, "IXIT entry": e, "why": w} for v, e, w in parts])
    if fails:
        return CheckResult.failed("; ".join(fails), table, read)
    if pending:
        return CheckResult.pending("; ".join(pending), table, read)
    return CheckResult.passed(passed, read)


# --- functional evidence of the same run ------------------------------------------------------------

def functional_view(latest: Mapping[tuple[str, str | None], Mapping[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """``harness.results.latest_by_case(run_dir)`` regrouped by test case."""
    out: dict[str, list[dict[str, Any]]] = {}
    for (test_case, unit), rec in latest.items():
        out.setdefault(test_case, []).append({"unit": unit, "verdict": str(rec.get("verdict")),
                                              "reason": str(rec.get("reason") or "")})
    return out


def cross_check(rule_: Rule, result: CheckResult, functional: Functional | None) -> CheckResult:
    """A design the IXIT declares conformant, contradicted by what the device showed in this run
    (a functional FAIL of the same provision), is a FAIL. A missing or unjudged functional result
    changes nothing: it is listed as not available."""
    if not rule_.contradicted_by:
        return result
    consulted: list[dict[str, Any]] = []
    contradictions: list[str] = []
    for tc in rule_.contradicted_by:
        recs = list((functional or {}).get(tc, []))
        if not recs:
            consulted.append({"test case": tc, "unit": None, "verdict": "no result in this run", "reason": ""})
            continue
        for rec in recs:
            consulted.append({"test case": tc, "unit": rec.get("unit"), "verdict": rec.get("verdict"),
                              "reason": rec.get("reason", "")})
            if rec.get("verdict") == Verdict.FAIL.value:
                where = f" on {rec['unit']}" if rec.get("unit") not in (None, "*") else ""
                contradictions.append(f"{tc}{where}: {rec.get('reason', '')}")
    evidence = [*result.evidence, Evidence("table", "functional results consulted", consulted)]
    if result.verdict == Verdict.PASS and contradictions:
        return CheckResult.failed(
            f"the IXIT declares a conformant design, but the device contradicts it: {'; '.join(contradictions)}",
            *evidence)
    return CheckResult(result.verdict, result.reason, evidence)


def judge(test_case: str, ixit: Ixit, functional: Functional | None = None) -> CheckResult:
    """The conceptual verdict of ``test_case`` for the profile's IXIT (and this run's functional results)."""
    rule_ = RULES.get(test_case)
    if rule_ is None:
        raise KeyError(f"no conceptual rule for {test_case}")
    missing = [d for d in rule_.reads if not supplied(ixit, d)]
    if missing:
        return ask_supplier(", ".join(missing), f"{test_case} reads {'it' if len(missing) == 1 else 'them'} "
                                                f"and the profile does not give {'it' if len(missing) == 1 else 'them'}")
    return cross_check(rule_, rule_.judge(ixit), functional)
