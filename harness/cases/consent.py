"""6-2-2 and 6-3-2: consent-based data and the user's consent, watched on the broker the unit
publishes to.

6-2-2: the unit is factory-reset and connected to the broker again (the set-up a user does before
the companion app asks for consent); during the profile's ``consent_window`` (and at least one
publishing period, ``telemetry_interval``) no consent-based data may leave it; then consent is given (``give_consent``) and the data must appear within the window
(the positive control). 6-3-2: consent is given and the data seen, then withdrawn
(``withdraw_consent``); after a settle period of one window, a further window (at least one
publishing period long) must stay free of consent-based data while the unit goes on answering.

Consent-based data is what IXIT 21-PersData declares with ``consent: true``, recognised by its
keywords; the messages are those of the unit's own topics (the MQTT link's ``device`` filter),
without the command topics the profile's procedures publish to."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from paho.mqtt.client import topic_matches_sub

from harness.checks.consent import (
    ConsentItem,
    SentMessage,
    Window,
    carried,
    judge_consent_before_processing,
    judge_consent_withdrawal,
)
from harness.verdict import CheckResult, Evidence, LabFault, Verdict

if TYPE_CHECKING:
    from harness.device import Device

MIN_WINDOW_S = 1.0  # real seconds: below this a periodic publication may fall between two looks


def consent_items(device: Device) -> list[ConsentItem]:
    return [ConsentItem(p.data, list(p.keywords)) for p in device.profile.ixit.personal_data if p.consent]


def window_seconds(device: Device) -> float | None:
    declared = device.profile.settle.get("consent_window")
    if declared is None:
        return None
    return max(float(declared) * device.settle_scale, MIN_WINDOW_S)


def quiet_seconds(device: Device) -> float | None:
    """How long a window that must stay free of consent-based data lasts: the consent window, and
    at least one publishing period of the unit (``telemetry_interval``) — a unit that ignores
    consent but publishes once a minute would otherwise pass a 10 s watch."""
    window = window_seconds(device)
    if window is None:
        return None
    period = device.profile.settle.get("telemetry_interval")
    return max(window, float(period) * device.settle_scale) if period is not None else window


def _render(device: Device, template: str) -> str | None:
    from harness.procedures import render

    variables = device.variables()
    runner = getattr(device, "_runner", None)
    if runner is not None and hasattr(runner, "context"):
        variables = runner.context(variables)
    try:
        return render(template, variables)[0]
    except LabFault:
        return None


def _mqtt_link(device: Device) -> Any | None:
    for link in device.profile.links.values():
        if getattr(link, "type", "") == "mqtt":
            return link
    return None


def unit_filter(device: Device) -> str:
    """The topic filter of the unit's own messages (``device`` topic of the MQTT link), else '#'."""
    link = _mqtt_link(device)
    if link is not None and "device" in link.topics:
        return _render(device, link.topics["device"]) or "#"
    return "#"


def attributed(result: CheckResult, topic_filter: str) -> CheckResult:
    """A FAIL on the broker's messages stands only when they are the unit's: with no ``device``
    topic filter the watch sees every client of the broker (other units on the bench, other
    clients of a shared broker), so a FAIL becomes INCONCLUSIVE with what was seen."""
    if result.verdict != Verdict.FAIL or topic_filter != "#":
        return result
    return CheckResult.inconclusive(f"{result.reason} — but the MQTT link declares no device topic filter "
                                    f"(links.<mqtt>.topics.device), so these messages may be another client's of the "
                                    f"same broker: declare the unit's topics to judge", *result.evidence)


def command_topics(device: Device) -> set[str]:
    """Topics the profile's procedures publish to: what the harness sends, not the unit."""
    link = _mqtt_link(device)
    topics = getattr(link, "topics", {}) or {}
    out: set[str] = set()
    for steps in device.profile.procedures.values():
        if isinstance(steps, str):
            continue
        for step in steps:
            for key, arg in step.items():
                if key.endswith(".publish") and isinstance(arg, str):
                    rendered = _render(device, topics.get(arg, arg))
                    if rendered:
                        out.add(rendered)
    return out


class BrokerWatch:
    """The unit's messages as the lab broker's capture (or the observer of an existing broker) received them."""

    def __init__(self, device: Device, items: list[ConsentItem]) -> None:
        services = device.bench.services
        self.capture = services.get("capture")
        if self.capture is None:
            raise LabFault("no lab broker capture and no observed broker: the unit's messages cannot be watched")
        self.items = items
        self.topic = unit_filter(device)
        self.commands = command_topics(device)
        self.in_flight: list[str] = []  # the unit's messages received after a fence's start, sent before it

    def _mine(self, m: Any) -> bool:
        # A retained message the broker replays on a (re)subscription is old news, not something
        # the unit sent now (harness.lab.capture marks it).
        return (not getattr(m, "replay", False) and m.topic not in self.commands
                and topic_matches_sub(self.topic, m.topic))

    def _consent_based(self, m: Any) -> bool:
        return bool(carried(SentMessage(0.0, m.transport, m.topic, m.text), self.items))

    def wait_consent_based(self, since: float, timeout: float) -> bool:
        """Wait (event-driven, bounded) for a consent-based message of the unit after ``since``."""
        got = self.capture.wait_for(lambda m: m.t >= since and self._mine(m) and self._consent_based(m),
                                    timeout=timeout)
        return got is not None

    def wait_any(self, since: float, timeout: float) -> bool:
        """Any message of the unit after ``since``: the unit and the watched broker both still work."""
        return self.capture.wait_for(lambda m: m.t >= since and self._mine(m), timeout=timeout) is not None

    def fence(self) -> dict[str, float]:
        """Receipt times of a marker through each listener of the lab broker's capture (empty for
        an observed broker, whose capture cannot publish)."""
        fence = getattr(self.capture, "fence", None)
        return fence() if fence is not None else {}

    def window(self, label: str, start: float, end: float, *, fences: dict[str, float] | None = None) -> Window:
        """The unit's messages received in [start, end]; with ``fences``, those a listener
        delivered before its marker are set aside in ``in_flight`` (sent before ``start``)."""
        msgs = []
        for m in self.capture.messages:
            if not (start <= m.t <= end and self._mine(m)):
                continue
            if fences and m.t < fences.get(m.transport, 0.0):
                self.in_flight.append(f"{m.transport} {m.topic} at +{m.t - start:.3f} s")
                continue
            msgs.append(SentMessage(m.t - start, m.transport, m.topic, m.text))
        return Window(label, max(0.0, end - start), msgs)


def online(device: Device) -> bool:
    """Connect the unit to the lab broker (if it is not; a broker fixed in its firmware is only
    observed) and wait, bounded, for its first message after that: a unit that has just connected
    may not yet have subscribed to its commands. True when the lab broker logged the connection or
    a message of the unit came."""
    from harness.cases.traffic import observed_broker

    start = time.time()
    connected = False
    if observed_broker(device) is None:
        connected = device.connect_broker() == "connected"  # DeviceStateError (a lab-side fault) otherwise
    capture = device.bench.services.get("capture")
    if capture is not None:
        topic, commands = unit_filter(device), command_topics(device)
        timeout = float(device.profile.settle.get("broker_connect", 30.0))
        seen = capture.wait_for(lambda m: m.t >= start and m.topic not in commands and topic_matches_sub(topic, m.topic),
                                timeout=timeout)
        connected = connected or seen is not None
    return connected


def _missing(device: Device, procedures: tuple[str, ...]) -> CheckResult | None:
    absent = [p for p in procedures if not device.has(p)]
    if absent:
        return CheckResult.inconclusive(f"the profile declares no {' and no '.join(absent)} procedure, so consent "
                                        f"cannot be given or withdrawn by the harness")
    if window_seconds(device) is None:
        return CheckResult.inconclusive("the profile declares no settle time consent_window (how long after consent "
                                        "or its withdrawal the unit's data flow changes)")
    return None


def _step(device: Device, procedure: str) -> tuple[bool, str]:
    result = device.run(procedure)
    return result.ok, "acknowledged" if result.ok else f"{result.outcome}: {result.detail}"


def consent_before_processing(device: Device) -> CheckResult:
    """6-2-2"""
    items = consent_items(device)
    missing = _missing(device, ("give_consent", "factory_reset"))
    if missing is not None or not items:
        return missing or judge_consent_before_processing(items, Window("", 0.0), Window("", 0.0),
                                                          consent_given=False, connected=False)
    seconds = window_seconds(device) or MIN_WINDOW_S
    quiet = quiet_seconds(device) or seconds
    watch = BrokerWatch(device, items)
    steps: list[dict[str, Any]] = []
    reset = device.factory_reset()
    device.mark_changed(user_data=True)
    if not reset.ok:
        raise LabFault(f"the factory reset did not complete ({reset.outcome}: {reset.detail})")
    steps.append({"step": "factory reset", "device": "done"})
    start = time.time()
    # Messages the unit sent before the reset may reach the capture after it on a busy bench: a
    # marker through each listener separates them (they are shown, not judged).
    fences = watch.fence()
    connected = online(device)
    steps.append({"step": "connected to the broker (the set-up before consent)",
                  "device": "connected" if connected else "not shown connected"})
    watch.wait_consent_based(start, quiet)  # returns early on the first consent-based message
    end = time.time()
    before = watch.window("after a factory reset, before consent", start, end, fences=fences)
    if watch.in_flight:
        steps.append({"step": "messages sent before the reset, received after it (not judged)",
                      "device": "; ".join(watch.in_flight[:10])})
    given, said = _step(device, "give_consent")
    steps.append({"step": "give_consent", "device": said})
    mark = time.time()
    if given:
        watch.wait_consent_based(mark, seconds)
    after = watch.window("after consent", mark, time.time())
    result = judge_consent_before_processing(items, before, after, consent_given=given, connected=connected)
    result.evidence.append(Evidence("table", "steps", steps))
    return attributed(result, watch.topic)


def consent_withdrawal(device: Device) -> CheckResult:
    """6-3-2"""
    items = consent_items(device)
    missing = _missing(device, ("give_consent", "withdraw_consent"))
    if missing is not None or not items:
        return missing or judge_consent_withdrawal(items, Window("", 0.0), Window("", 0.0),
                                                   withdrawal_acknowledged=False, alive_after=False)
    seconds = window_seconds(device) or MIN_WINDOW_S
    quiet = quiet_seconds(device) or seconds
    watch = BrokerWatch(device, items)
    steps: list[dict[str, Any]] = []
    online(device)
    start = time.time()
    given_ok, said = _step(device, "give_consent")
    device.mark_changed(user_data=True)
    steps.append({"step": "give_consent", "device": said})
    if given_ok:
        watch.wait_consent_based(start, seconds)
    given = watch.window("while consent stands", start, time.time())
    withdrawn_ok, said = _step(device, "withdraw_consent")
    steps.append({"step": "withdraw_consent", "device": said})
    settle_end = time.time() + seconds
    steps.append({"step": f"settle {seconds:g} s (consent_window)", "device": "-"})
    # The settle period lets messages already under way arrive; only the window after it is judged.
    watch.capture.wait_for(lambda m: False, timeout=seconds)
    watch.wait_consent_based(settle_end, quiet)
    withdrawn = watch.window("after the withdrawal and its settle time", settle_end, time.time())
    alive = watch.wait_any(time.time(), quiet)  # the unit's next message of any kind: one publishing period
    steps.append({"step": "proof of life after the window: a message of the unit through the watched broker",
                  "device": "seen" if alive else "none"})
    result = judge_consent_withdrawal(items, given, withdrawn, withdrawal_acknowledged=withdrawn_ok,
                                      alive_after=alive)
    result.evidence.append(Evidence("table", "steps", steps))
    return attributed(result, watch.topic)
