"""What the unit's connections carry and how it (re)connects: personal data in transit (5.8-1-2),
critical security parameters in transit (5.5-6-2, sharing the 5.5-7-2 judgement with its own
scope) and an orderly reconnection after a lost connection (5.9-3-2).

Flows are what a passive capture of the unit and the broker it publishes to showed: each with its
transport (``tls``, ``plain``, or ``observed`` for a message an observer of an existing broker
received, whose transport only the packet capture tells) and the text a person on the path could read (for a TLS flow, the
content the broker received, so that the data items it carried are known)."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from harness.checks.consent import names_data
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
    out += [item.data for item in items if names_data(flow.topic, flow.payload, item.words())]
    return sorted(set(out))


# A message seen by an observer subscribed to an existing broker (transport ``observed``) tells
# what the unit published, not whether it came in encrypted: only the packet capture tells.
_TRANSPORT = {"tls": "TLS", "plain": "plaintext"}


def judge_personal_data_in_transit(items: list[DataItem], planted: list[Planted], flows: list[Observed],
                                   wire: WireView) -> CheckResult:
    """5.8-1-2: every flow that carries personal data (a declared item's keywords, or a value the
    harness planted as personal data) is encrypted. FAIL names the flow and the item, never the
    value. PASS needs a complete capture of the unit (flows outside the broker are seen only
    there) and at least one flow with personal data observed."""
    if not items:
        return CheckResult.inconclusive("the profile declares no IXIT 21-PersData, so personal data cannot be "
                                        "recognised in the unit's traffic")
    by_flow: dict[tuple[str, str], dict[str, object]] = {}
    for f in flows:
        found = carries(f, items, planted)
        if found:
            transport = _TRANSPORT.get(f.transport, f"{f.transport} (transport from the capture)")
            row = by_flow.setdefault((f.topic, transport), {"flow": f.topic, "transport": transport, "messages": 0,
                                                            "carries": set()})
            row["messages"] = int(row["messages"]) + 1  # type: ignore[call-overload]
            row["carries"].update(found)  # type: ignore[attr-defined]
    rows = [{**r, "carries": ", ".join(sorted(r["carries"]))} for r in by_flow.values()]  # type: ignore[call-overload]
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
        return CheckResult.inconclusive("the capture was not complete (its end marker did not come through, or the "
                                        "kernel dropped packets), so packets of the unit may be missing", *evidence)
    if not rows:
        return CheckResult.inconclusive("no flow carrying personal data was observed during the capture window "
                                        "(check the keywords of IXIT 21-PersData)", *evidence)
    named = "; ".join(f"{r['carries']} on {r['flow']}" for r in rows)
    if any(r["transport"] != "TLS" for r in rows):
        return CheckResult.passed(f"a complete capture of the unit showed no personal data in clear; personal data "
                                  f"seen: {named}", *evidence)
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
    result.reason = f"critical security parameters in scope: {', '.join(parameters)}; {result.reason}"
    return result


@dataclass
class ReconnectFacts:
    """The unit's connection attempts to its broker while the broker was unreachable."""

    attempts: list[float]  # seconds after the outage began, one per attempt (TCP SYN or TLS ClientHello)
    outage_s: float  # how long the broker was unreachable while watched
    bound_per_minute: float | None  # the profile's declared maximum (IXIT 11-ComMech), None if undeclared
    connected_before: bool  # the unit was connected when the outage began
    reconnected_after: bool  # the unit connected again once the broker was back


def busiest_minute(attempts: list[float]) -> int:
    """The most attempts within any 60 s."""
    times = sorted(attempts)
    best, first = 0, 0
    for last, t in enumerate(times):
        while t - times[first] >= 60.0:
            first += 1
        best = max(best, last - first + 1)
    return best


def judge_orderly_reconnection(facts: ReconnectFacts) -> CheckResult:
    """5.9-3-2: after a lost connection the unit retries in an orderly way — no more attempts than
    the declared bound in any minute — and connects again when it can. A steady retry within the
    bound is orderly (a fixed retry interval is a common design); a pace above the bound is a FAIL
    when the unit showed it: that many attempts within a minute, or a constant gap that exceeds
    it. A burst that slows down, watched for less than a minute, is INCONCLUSIVE."""
    if facts.bound_per_minute is None:
        return CheckResult.inconclusive("the profile declares no reconnection bound (IXIT 23-ResMech "
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
    bound = facts.bound_per_minute
    busiest = busiest_minute(facts.attempts)
    if busiest > bound:
        return CheckResult.failed(f"{busiest} connection attempts within one minute of the {facts.outage_s:.1f} s "
                                  f"outage, more than the declared {bound:g} per minute", *evidence)
    rate = len(facts.attempts) / facts.outage_s * 60.0
    if facts.outage_s < 60.0 and rate > bound:
        # Less than a minute was watched: a steady pace above the bound is shown; a burst that
        # slows down (backoff) may stay within the bound over the whole minute.
        third = max(1, len(gaps) // 3)
        early, late = gaps[:third], gaps[-third:]
        steady = len(gaps) >= 3 and sum(late) / len(late) <= 1.5 * sum(early) / len(early)
        pace = 60.0 / (sum(late) / len(late)) if late and sum(late) > 0 else float("inf")
        if steady and pace > bound:
            return CheckResult.failed(f"no backoff: {len(facts.attempts)} attempts in {facts.outage_s:.1f} s at a "
                                      f"steady gap of about {60.0 / pace:.2f} s, {pace:.0f} per minute, more than "
                                      f"the declared {bound:g} per minute", *evidence)
        return CheckResult.inconclusive(f"{len(facts.attempts)} attempts in {facts.outage_s:.1f} s ({rate:.0f} per "
                                        f"minute at that pace), but the gaps grew and less than a minute was watched: "
                                        f"declare a settle time reconnect_window of 60 s or more to judge the bound",
                                        *evidence)
    if not facts.reconnected_after:
        return CheckResult.inconclusive("the unit did not connect again once the broker was back", *evidence)
    return CheckResult.passed(f"{len(facts.attempts)} connection attempt(s) in {facts.outage_s:.1f} s "
                              f"({rate:.0f} per minute, declared bound {facts.bound_per_minute:g}), reconnected "
                              f"once the broker was back", *evidence)
