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
    delivered: bool = True  # False: the link failed before the device got it (not an input at all)
    note: str = ""
    # False: the interface cannot carry this input at all (a 64 KiB URL): skipped, not missing.
    sendable: bool = True
    alive_before: bool | None = None  # the unit answered its probe right before this input
    lab_proof: str = ""  # after a silence: what showed the lab side working (see judge_input_validation)
    lab_fault: str = ""  # after a silence: why the lab side could not be shown working


@dataclass
class InjectionProbe:
    """One value written into a setting: the device's answers and what it stored afterwards."""
    setting: str
    family: str  # how the command is injected: $(…), backticks, ;, |, &&, newline
    input: str  # shown as repr
    delivered: bool
    accepted: bool | None  # True: the device said it took the value; False: it refused; None: no answer
    stored: str | None  # read back after the write (None: could not be read)
    command_output: str | None = None  # the injected command's output where it was seen (None: nowhere)
    seen_in: str = ""  # which answer or read-back showed it
    invalid_kept: bool = False  # a value outside the declared validation (IXIT 29-InpVal) was kept
    alive_after: bool | None = None
    note: str = ""
    alive_before: bool | None = None
    lab_proof: str = ""
    lab_fault: str = ""


@dataclass
class InputValidationObservation:
    alive_at_start: bool | None  # the unit answered before the first input
    fuzz: list[FuzzCase] = field(default_factory=list)
    fuzz_planned: int = 0
    probes: list[InjectionProbe] = field(default_factory=list)
    probes_planned: int = 0
    settings: list[str] = field(default_factory=list)  # settings IXIT 29-InpVal declares for injection
    start_note: str = ""  # why the unit was not alive at start
    notes: list[str] = field(default_factory=list)  # restore of settings, recovery after a finding


def _probe_row(p: InjectionProbe) -> dict[str, object]:
    return {"setting": p.setting, "injection": p.family, "input": p.input[:120], "delivered": p.delivered,
            "accepted": p.accepted, "stored": None if p.stored is None else p.stored[:120],
            "command output": p.command_output, "alive before": p.alive_before, "alive after": p.alive_after}


def judge_input_validation(o: InputValidationObservation) -> CheckResult:
    """5.13-1-2, judged by effect: no injected command ran (its output in no answer and no
    read-back), no value outside the declared validation was kept, and the device stayed alive
    after every malformed input. Only inputs that reached a live device count.

    A silent unit is a crash (FAIL) only when the harness can tell it from a lab freeze (a dead
    serial server, a hung instrument, a stalled harness): the unit answered its probe right before
    the input, the input was delivered without a link error, the unit then missed its probe (asked
    twice; a link error is a lab fault, not silence) *and* the lab side was shown working by
    something independent of that silence: the bench cut and restored the unit's power (the
    instrument answered) and the unit answered again over the same link. A lab that froze cannot
    do that, a crashed unit can. Without that proof (no ``power_cycle`` procedure, the instrument
    not answering, the unit still silent after the power cycle) the silence is INCONCLUSIVE with
    what is missing, never a FAIL."""
    ev = [Evidence("table", "malformed inputs (last 20)",
                   [{"interface": c.interface, "input": c.input[:120], "delivered": c.delivered,
                     "alive before": c.alive_before, "alive after": c.alive_after} for c in o.fuzz[-20:]])]
    if o.probes:
        ev.append(Evidence("table", "values written into settings", [_probe_row(p) for p in o.probes]))
    if o.notes:
        ev.append(Evidence("text", "around the inputs", "; ".join(o.notes)))
    if o.alive_at_start is not True:
        return CheckResult.inconclusive("the unit did not answer before the first input"
                                        + (f" ({o.start_note})" if o.start_note else "") + ": nothing was sent", *ev)
    executed = [p for p in o.probes if p.command_output]
    if executed:
        p = executed[0]
        return CheckResult.failed(
            f"the device ran a command injected into setting {p.setting} ({p.family}): its output "
            f"{p.command_output[:80]!r} appeared in {p.seen_in}", *ev,
            Evidence("finding", "command injection", {"setting": p.setting, "input": p.input,
                                                      "output": p.command_output, "seen in": p.seen_in}))
    kept = [p for p in o.probes if p.invalid_kept]
    if kept:
        p = kept[0]
        return CheckResult.failed(f"the device accepted and kept an invalid value in setting {p.setting}: "
                                  f"{p.stored!r} (outside the validation IXIT 29-InpVal declares)", *ev,
                                  Evidence("finding", "invalid value kept", {"setting": p.setting, "input": p.input,
                                                                             "stored": p.stored}))
    silent = next((c for c in [*o.fuzz, *o.probes] if c.delivered and c.alive_after is False), None)
    if silent is not None:
        where = silent.interface if isinstance(silent, FuzzCase) else f"setting {silent.setting}"
        if silent.alive_before is not True:
            return CheckResult.inconclusive(
                f"the unit did not answer after {where} input {silent.input[:120]}, but it was not proven alive "
                "right before it: a crash cannot be told from an earlier stop or a lab fault", *ev)
        if not silent.lab_proof:
            return CheckResult.inconclusive(
                f"the unit stopped answering after {where} input {silent.input[:120]}, but the lab side was not "
                f"shown working ({silent.lab_fault or 'no proof recorded'}): a lab freeze cannot be told from a "
                "crash", *ev)
        return CheckResult.failed(f"the device stopped answering after {where} input {silent.input[:200]}", *ev,
                                  Evidence("finding", "input that stopped the device",
                                           {"interface": where, "input": silent.input,
                                            "lab side shown working by": silent.lab_proof}))
    delivered = [c for c in [*o.fuzz, *o.probes] if c.delivered]
    if not delivered:
        return CheckResult.inconclusive("0 inputs reached the device"
                                        + _first_note([*o.fuzz, *o.probes]), *ev)
    gaps = []
    undelivered = [c for c in [*o.fuzz, *o.probes] if not c.delivered and getattr(c, "sendable", True)]
    if undelivered:
        gaps.append(f"{len(undelivered)} inputs not delivered{_first_note(undelivered)}")
    unknown = [c for c in delivered if c.alive_after is None]
    if unknown:
        gaps.append(f"liveness unknown after {len(unknown)} inputs")
    unanswered = [p for p in o.probes if p.delivered and p.accepted is None]
    if unanswered:
        gaps.append(f"the device neither took nor refused {len(unanswered)} writes{_first_note(unanswered)}")
    unread = [p for p in o.probes if p.delivered and p.stored is None]
    if unread:
        gaps.append(f"the stored value could not be read back after {len(unread)} writes")
    if len(o.fuzz) < o.fuzz_planned or len(o.probes) < o.probes_planned:
        gaps.append(f"{len(o.fuzz) + len(o.probes)} of {o.fuzz_planned + o.probes_planned} inputs judged")
    if not o.settings:
        gaps.append("no setting to inject into: IXIT 29-InpVal declares none (with set_setting/read_setting "
                    "procedures), and liveness alone does not show that input is validated")
    if gaps:
        return CheckResult.inconclusive("; ".join(gaps), *ev)
    sent = [c for c in o.fuzz if c.delivered]
    per = sorted({c.interface for c in sent})
    skipped = len(o.fuzz) - len(sent)
    fuzz_text = (f"{len(sent)} malformed inputs over {', '.join(per)}"
                 + (f" ({skipped} the interface cannot carry)" if skipped else "") + "; ") if sent else ""
    return CheckResult.passed(
        f"{fuzz_text}{len(o.probes)} command injections into {', '.join(o.settings)}: no command output in any "
        "answer or read-back, no invalid value kept, and the device stayed alive", *ev)


def _first_note(cases: list[FuzzCase | InjectionProbe]) -> str:
    note = next((c.note for c in cases if c.note), "")
    return f" ({note[:160]})" if note else ""
