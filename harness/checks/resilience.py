"""5.9 resilience and 5.13-1 input validation, judged on what the harness saw around an outage
or a malformed input."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.verdict import CheckResult, Evidence


@dataclass
class PowerLossObservation:
    booted: bool | None  # the boot came back after power returned (None: not observed)
    config_before: dict[str, str]
    config_after: dict[str, str] | None  # None: could not be read
    reconnected: bool | None  # MQTT session back after the outage (None: not applicable/observed)
    instrument: dict[str, object] = field(default_factory=dict)


def judge_power_loss(o: PowerLossObservation) -> CheckResult:
    """5.9-1-2 (and 5.9-2-2's "comes back cleanly"): after a power cut the device boots, keeps its
    configuration and reconnects."""
    rows = [{"setting": k, "before": v, "after": (o.config_after or {}).get(k)} for k, v in o.config_before.items()]
    ev = [Evidence("table", "configuration across the power cut", rows),
          Evidence("table", "recovery", [{"booted": o.booted, "reconnected": o.reconnected}])]
    if o.instrument:
        ev.append(Evidence("table", "instrument", [o.instrument]))
    if o.booted is not True:
        return CheckResult.inconclusive("the device was not seen booting after power returned", *ev)
    if o.config_after is None:
        return CheckResult.inconclusive("the configuration could not be read after the power cut", *ev)
    lost = [r["setting"] for r in rows if r["before"] != r["after"]]
    if lost:
        return CheckResult.failed(f"configuration lost across the power cut: {', '.join(map(str, lost))}", *ev)
    if o.reconnected is False:
        return CheckResult.failed("the device did not reconnect to its broker after the power cut", *ev)
    return CheckResult.passed("the device booted with its configuration" +
                              (" and reconnected" if o.reconnected else ""), *ev)


@dataclass
class OutageObservation:
    local_ok_during: bool | None  # a local function answered over the console during the outage
    reconnected: bool | None  # the device published again after the broker returned
    wait_s: float | None = None


def judge_broker_outage(o: OutageObservation) -> CheckResult:
    """5.9-2-2: with the broker gone, local functions keep working; when it returns, the device
    reconnects by itself."""
    ev = Evidence("table", "broker outage", [{"local function during outage": o.local_ok_during,
                                              "reconnected after": o.reconnected, "waited s": o.wait_s}])
    if o.local_ok_during is False:
        return CheckResult.failed("local functions stopped while the broker was unreachable", ev)
    if o.reconnected is False:
        return CheckResult.failed(f"the device did not reconnect within {o.wait_s:g} s after the broker returned"
                                  if o.wait_s else "the device did not reconnect after the broker returned", ev)
    if o.local_ok_during is None or o.reconnected is None:
        return CheckResult.inconclusive("the outage behaviour could not be fully observed", ev)
    return CheckResult.passed("local functions kept working during the outage and the device reconnected", ev)


@dataclass
class FuzzCase:
    interface: str  # serial | mqtt | http
    input: str  # shown as repr, truncated
    alive_after: bool | None


def judge_input_validation(cases: list[FuzzCase], budget: int) -> CheckResult:
    """5.13-1-2: malformed and oversized input leaves the device alive; the first input after which
    it stopped answering is the finding."""
    crashed = next((c for c in cases if c.alive_after is False), None)
    rows = [{"interface": c.interface, "input": c.input[:120], "alive after": c.alive_after} for c in cases[-20:]]
    ev = Evidence("table", "malformed inputs (last 20)", rows)
    if crashed is not None:
        return CheckResult.failed(f"the device stopped answering after {crashed.interface} input "
                                  f"{crashed.input[:200]}", ev,
                                  Evidence("finding", "input that stopped the device",
                                           {"interface": crashed.interface, "input": crashed.input}))
    unknown = [c for c in cases if c.alive_after is None]
    if unknown or len(cases) < budget:
        return CheckResult.inconclusive(f"{len(cases)} of {budget} inputs judged"
                                        + (f"; liveness unknown after {len(unknown)}" if unknown else ""), ev)
    per = sorted({c.interface for c in cases})
    return CheckResult.passed(f"{len(cases)} malformed inputs over {', '.join(per)}: the device stayed alive", ev)
