"""What the unit's connections carry and how it (re)connects: personal data in transit (5.8-1-2),
critical security parameters in transit (5.5-6-2, sharing the 5.5-7-2 judgement with its own
scope) and an orderly reconnection after a lost connection (5.9-3-2).

Flows are what a passive capture of the unit and the broker it publishes to showed: each with its
transport (``tls`` or ``plain``) and the text a person on the path could read (for a TLS flow, the
content the broker received, so that the data items it carried are known)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass, field

from harness.checks.traffic import Observed, Planted, WireView, judge_security_parameters_on_wire
from harness.verdict import CheckResult, Evidence


@dataclass
class DataItem:
    """An IXIT 21-PersData entry: its name and the words that name it in traffic."""

    data: str
    keywords: list[str] = field(default_factory=list)

    def words(self) -> list[str]:
        return [k for k in (self.keywords or [self.data]) if k.strip()]


def _variants(value: str) -> list[str]:
    raw = value.encode()
    return [value, base64.b64encode(raw).decode(), raw.hex()]


def carries(flow: Observed, items: list[DataItem], planted: list[Planted]) -> list[str]:
    text = f"{flow.topic}\n{flow.payload}"
    out = [p.name for p in planted if len(p.value) >= 4 and any(v in text for v in _variants(p.value))]
    out += [item.data for item in items
            if any(re.search(rf"(?<![A-Za-z0-9_]){re.escape(w)}(?![A-Za-z0-9_])", text, re.I) for w in item.words())]
    return sorted(set(out))


def judge_personal_data_in_transit(items: list[DataItem], planted: list[Planted], flows: list[Observed],
                                   wire: WireView) -> CheckResult:
    """5.8-1-2: every flow that carries personal data (a declared item's keywords, or a value the
    harness planted as personal data) is encrypted. FAIL names the flow and the item, never the
    value. PASS needs a complete capture of the unit (flows outside the broker are seen only
    there) and at least one flow with personal data observed."""
    if not items:
        return CheckResult.inconclusive("the profile declares no IXIT 21-PersData, so personal data cannot be "
                                        "recognised in the unit's traffic")
    rows = []
    for f in flows:
        found = carries(f, items, planted)
        if found:
            rows.append({"flow": f.topic, "transport": "TLS" if f.transport == "tls" else "plaintext",
                         "carries": ", ".join(found)})
    evidence = [Evidence("table", "flows carrying personal data (values not shown)", rows),
                Evidence("table", "flows observed", [{"transport": t, "flows": sum(1 for f in flows if f.transport == t)}
                                                     for t in sorted({f.transport for f in flows})])]
    if wire.unavailable is None:
        evidence.append(Evidence("table", "captured conversations of the unit",
                                 [{"conversation": c.conversation, "protocol": c.protocol, "detail": c.detail}
                                  for c in wire.conversations]))
    clear = [r for r in rows if r["transport"] == "plaintext"]
    if clear:
        named = "; ".join(f"{r['carries']} on {r['flow']}" for r in clear)
        return CheckResult.failed(f"personal data sent unencrypted: {named}", *evidence)
    if wire.unavailable is not None:
        return CheckResult.inconclusive(f"no capture of the unit's packets, so flows outside the watched broker "
                                        f"were not seen: {wire.unavailable}", *evidence)
    if not wire.complete:
        return CheckResult.inconclusive("the capture was not confirmed complete (its end marker did not come "
                                        "through), so packets of the unit may be missing", *evidence)
    if not rows:
        return CheckResult.inconclusive("no flow carrying personal data was observed during the capture window "
                                        "(check the keywords of IXIT 21-PersData)", *evidence)
    named = "; ".join(f"{r['carries']} on {r['flow']}" for r in rows)
    return CheckResult.passed(f"personal data observed only over TLS: {named}", *evidence)


def judge_security_parameters_in_transit(parameters: list[str], flows: list[Observed], planted: list[Planted],
                                         wire: WireView, *, transport_known: bool,
                                         whole_cycle: bool = True) -> CheckResult:
    """5.5-6-2: critical security parameters are encrypted in transit, on every interface. The
    observation is the one 5.5-7-2 makes (the unit's flows under capture, credentials and planted
    secrets searched in whatever crossed in clear); the scope differs: 5.5-6 covers the IXIT
    10-SecParam entries declared critical whatever interface carries them, so the parameters in
    scope must be declared."""
    if not parameters:
        return CheckResult.inconclusive("the profile declares no critical security parameter in IXIT 10-SecParam "
                                        "(critical: true), so the scope of 5.5-6 is unknown")
    result = judge_security_parameters_on_wire(flows, planted, wire, transport_known=transport_known,
                                               whole_cycle=whole_cycle)
    result.evidence.insert(0, Evidence("table", "critical security parameters in scope (IXIT 10-SecParam)",
                                       [{"parameter": p} for p in parameters]))
    return result


@dataclass
class ReconnectFacts:
    """The unit's connection attempts to its broker while the broker was unreachable."""

    attempts: list[float]  # seconds after the outage began, one per attempt (TCP SYN or TLS ClientHello)
    outage_s: float  # how long the broker was unreachable while watched
    bound_per_minute: float | None  # the profile's declared maximum (IXIT 11-ComMech), None if undeclared
    connected_before: bool  # the unit was connected when the outage began
    reconnected_after: bool  # the unit connected again once the broker was back


def judge_orderly_reconnection(facts: ReconnectFacts) -> CheckResult:
    """5.9-3-2: after a lost connection the unit retries in an orderly way — no more attempts than
    the declared bound, with growing gaps (backoff) — and connects again when it can."""
    if facts.bound_per_minute is None:
        return CheckResult.inconclusive("the profile declares no reconnection bound (IXIT 11-ComMech "
                                        "reconnect_max_per_minute)")
    if not facts.connected_before:
        return CheckResult.inconclusive("the unit was not shown connected before the broker went away")
    gaps = [b - a for a, b in zip(facts.attempts, facts.attempts[1:], strict=False)]
    evidence = [Evidence("observation", "reconnection attempts during the outage",
                         {"attempts": len(facts.attempts), "outage s": round(facts.outage_s, 2),
                          "gaps s": [round(g, 3) for g in gaps[:50]],
                          "declared bound per minute": facts.bound_per_minute,
                          "reconnected after": facts.reconnected_after})]
    if facts.outage_s <= 0 or not facts.attempts:
        return CheckResult.inconclusive("no connection attempt of the unit was seen while the broker was away",
                                        *evidence)
    rate = len(facts.attempts) / facts.outage_s * 60.0
    if rate > facts.bound_per_minute:
        return CheckResult.failed(f"{len(facts.attempts)} connection attempts in {facts.outage_s:.1f} s "
                                  f"({rate:.0f} per minute), more than the declared {facts.bound_per_minute:g} per "
                                  f"minute", *evidence)
    if len(gaps) >= 3 and max(gaps) <= min(gaps) * 1.2:
        return CheckResult.failed(f"no backoff: {len(facts.attempts)} attempts at a constant gap of about "
                                  f"{sum(gaps) / len(gaps):.2f} s", *evidence)
    if not facts.reconnected_after:
        return CheckResult.inconclusive("the unit did not connect again once the broker was back", *evidence)
    return CheckResult.passed(f"{len(facts.attempts)} connection attempt(s) in {facts.outage_s:.1f} s "
                              f"({rate:.0f} per minute, declared bound {facts.bound_per_minute:g}), reconnected "
                              f"once the broker was back", *evidence)
