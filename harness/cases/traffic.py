"""Test cases judged on what the device sends: credentials and security parameters (5.5-7-2) and
personal data (5.8-2-2) never in plaintext, authentication only over a protected channel
(5.1-3-2), and the rogue broker refused (the MQTT part of 5.5-1-2).

Two sources of facts, used together:

- the broker: a lab broker the harness starts (plain, TLS and rogue listeners, so the transport of
  every message is known), or an existing broker the unit is fixed to, watched with an observer
  account (lab configuration ``broker: {start: false, url, ca, observer}``);
- a passive capture of the unit's packets (tcpdump, filtered to its declared address), dissected
  for plaintext protocols and the credentials they carry (harness.lab.dissect).

With a started broker the plaintext test is a downgrade offer: the harness first provisions the
unit with the plaintext listener, then with the TLS one, and watches what it publishes. With an
observed broker the unit cannot be re-pointed: the harness makes it reconnect (``reconnect_broker``
procedure, else ``reboot``) under capture and watches; the rogue-broker and outage tests are
INCONCLUSIVE with the reason. Test values planted as user data (a Wi-Fi name and key) are what the
checks look for, besides credential fields."""

from __future__ import annotations

import atexit
import contextlib
import os
import secrets
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paho.mqtt.client import topic_matches_sub

from harness.checks.network_auth import RogueBrokerObservation, judge_rogue_broker
from harness.checks.traffic import (
    BrokerLogin,
    Observed,
    Planted,
    WireConversation,
    WireCredential,
    WireView,
    judge_authentication_channel,
    judge_broker_channel,
    judge_personal_data_on_wire,
    judge_security_parameters_on_wire,
)
from harness.redact import REDACTOR
from harness.verdict import CheckResult, Evidence, LabFault, combine

if TYPE_CHECKING:
    from harness.device import Device
    from harness.lab.dissect import WireFacts

PUBLISH_WAIT_S = 30.0


# --- services ---------------------------------------------------------------------------------------
def _services(device: Device) -> Any:
    """``bench.services``, with the observer of an existing broker installed on first use when the
    run did not start lab services (an older pytest plugin treated ``broker: start: false`` as "no
    broker at all")."""
    services = device.bench.services
    cfg = device.bench.lab.broker
    if cfg is None or cfg.start or "capture" in services:
        return services
    from harness.labservices import observe_existing_broker

    cm = observe_existing_broker(device.bench, _workdir(device) / "observer")
    cm.__enter__()
    atexit.register(cm.__exit__, None, None, None)
    return services


def _workdir(device: Device) -> Path:
    base = Path(device.transcript_dir).parent if device.transcript_dir else Path(tempfile.mkdtemp(prefix="traffic-"))
    return base / "capture" / f"p{os.getpid()}"


def observed_broker(device: Device) -> Any | None:
    """The existing broker the unit is fixed to (None with a started lab broker or none)."""
    broker = _services(device).get("broker")
    return broker if getattr(broker, "fixed", False) else None


# --- passive capture ----------------------------------------------------------------------------------
class WireWatch:
    """The unit's packets during a campaign; ``view`` afterwards (or why there is none)."""

    def __init__(self, device: Device) -> None:
        self.device = device
        self.view = WireView([], [], unavailable="the capture did not run")
        self.facts: WireFacts | None = None
        self.stats: dict[str, object] = {}
        self.active = False  # capturing now

    @contextlib.contextmanager
    def running(self) -> Iterator[WireWatch]:
        from harness.lab.dissect import read_capture
        from harness.lab.sniffer import CaptureUnavailable, PacketCapture

        cfg = self.device.bench.lab.capture
        address = self.device.bench.address(self.device.unit_id)
        if not cfg.enabled:
            self.view.unavailable = "packet capture is disabled in the lab configuration (capture: enabled: false)"
        elif not address:
            self.view.unavailable = f"unit {self.device.unit_id} declares no address to filter a capture on"
        if self.view.unavailable != "the capture did not run":
            yield self
            return
        capture = PacketCapture(str(address), _workdir(self.device), interface=cfg.interface, tcpdump=cfg.tcpdump,
                                name=f"{self.device.unit_id}-{int(time.time())}")
        try:
            capture.start()
        except CaptureUnavailable as exc:
            self.view.unavailable = str(exc)
            yield self
            return
        self.active = True
        try:
            yield self
        finally:
            self.active = False
            self.stats = capture.stop()
            try:
                self.facts = read_capture(capture.path, str(address), telnet_ports=_telnet_ports(self.device))
            except Exception as exc:  # an unreadable capture is a lab fault, reported, never a PASS
                self.view.unavailable = f"the capture could not be read: {type(exc).__name__}: {exc}"
            else:
                self.view = to_view(self.facts, complete=bool(self.stats.get("complete")))
            if not cfg.keep_pcap:
                capture.discard()


def _telnet_ports(device: Device) -> list[int]:
    return [int(i.port.split("/")[1]) for i in device.profile.ixit.interfaces
            if (i.kind or "").lower() == "telnet" and i.port and i.port.startswith("tcp/")]


def to_view(facts: WireFacts, *, complete: bool) -> WireView:
    convs = [WireConversation(c.name, c.protocol, c.detail, c.unit_is_client, c.server) for c in facts.conversations]
    creds = [WireCredential(c.name, c.protocol, cred.field, cred.sender)
             for c in facts.conversations for cred in c.credentials]
    return WireView(convs, creds, None, complete)


def _wire_messages(facts: WireFacts | None) -> list[Observed]:
    """What crossed the network in clear, as messages for the content checks."""
    if facts is None:
        return []
    out = []
    for conv in facts.conversations:
        if conv.encrypted or conv.protocol == "empty":
            continue
        for m in conv.messages:
            out.append(Observed("plain", f"{m.protocol} {m.topic} ({conv.name})", m.payload))
        if conv.protocol not in ("MQTT",):  # MQTT contents are its PUBLISHes; other protocols: everything
            out.append(Observed("plain", f"{conv.protocol} {conv.name}", conv.plaintext.decode("utf-8", "replace")))
    return out


# --- the campaign -------------------------------------------------------------------------------------
def _device_filter(device: Device) -> str:
    from harness.procedures import render

    for name, link in device.profile.links.items():
        if getattr(link, "type", "") == "mqtt" and "device" in link.topics:
            variables = device.variables()
            runner = getattr(device, "_runner", None)
            if runner is not None and hasattr(runner, "context"):
                variables = runner.context(variables)  # what procedures see: unit.vars, accounts
            try:
                return render(link.topics["device"], variables)[0]
            except LabFault as exc:
                # Watching every topic is broader, never blinder: judged messages only grow.
                device.note(f"links.{name}.topics.device could not be filled ({exc}); watching every topic")
    return "#"


def _publish_timeout(device: Device) -> float:
    timeout = float(device.profile.settle.get("telemetry_interval", PUBLISH_WAIT_S)) * 2 * device.settle_scale
    return max(timeout, 5.0)


def _fresh(m: Any, since: float) -> bool:
    """Captured at or after ``since`` and sent by the unit then, not a retained message the broker
    replayed to a (re)subscribing capture."""
    return m.t >= since and not getattr(m, "replay", False)


def _wait_publish(device: Device, transport: str, since: float) -> bool:
    """Wait for a message of this unit on ``transport`` captured at or after ``since`` (epoch s)."""
    capture = device.bench.services["capture"]
    topic = _device_filter(device)
    got = capture.wait_for(lambda m: _fresh(m, since) and m.transport == transport and topic_matches_sub(topic, m.topic),
                           timeout=_publish_timeout(device))
    return got is not None


def _fresh_login(device: Device, steps: list[dict[str, Any]]) -> None:
    """Log in again under capture, on the console and once on every enabled network interface
    of IXIT 15-Intf that declares a login, so the way users authenticate to the unit (a telnet
    login, HTTP Basic, a password in a query string or form, SSH) is on the wire."""
    from harness.cases.bruteforce import network_logins

    try:
        if device.has("logout") and device.state.session == "logged_in":
            device.logout()
        device.ensure("logged_in")
        steps.append({"offered": "a fresh console login under capture", "device": "logged in", "published": "-"})
    except LabFault as exc:
        device.note(f"fresh login under capture failed: {exc}")
        steps.append({"offered": "a fresh console login under capture", "device": f"failed: {exc}", "published": "-"})
    user = device.state.user or device.default_user()
    password = device.state.password if device.state.password is not None else device.label_password(user)
    if password is None:
        return
    for name, procedure in network_logins(device):
        if not device.has(procedure):
            continue
        try:
            attempt = device.try_login(user, password, procedure=procedure)
            said = attempt.outcome
        except LabFault as exc:
            said = f"failed: {exc}"
        steps.append({"offered": f"a login on {name} ({procedure}) under capture", "device": said, "published": "-"})


def _plant(device: Device) -> list[Planted]:
    planted = {"ssid": f"harness-{secrets.token_hex(4)}", "psk": secrets.token_urlsafe(12)}
    REDACTOR.add(planted["psk"], "planted Wi-Fi key")
    if not device.has("set_user_data"):
        return []
    if not device.run("set_user_data", **planted).ok:
        raise LabFault("the harness could not set the user data it watches for")
    device.mark_changed(user_data=True)
    return [Planted("planted Wi-Fi key", planted["psk"], "security"),
            Planted("planted Wi-Fi name", planted["ssid"], "personal")]


def traffic_campaign(device: Device) -> dict[str, Any]:
    """One campaign per test case: a verdict rests only on traffic seen while its test case ran
    (a broker killed between test cases must not leave an earlier capture to judge on)."""
    services = _services(device)
    capture = services.get("capture")
    if capture is None:
        raise LabFault("no lab broker capture and no observed broker: the device's traffic cannot be watched")
    out = (_observe_campaign if observed_broker(device) is not None else _lab_broker_campaign)(device)
    out["label"] = device.label_password()
    return out


def _broker_alive(device: Device, kinds: tuple[str, ...]) -> None:
    """A lab broker listener that is gone, or an observer that lost it, is a lab fault: silence
    from the unit would prove nothing."""
    broker = device.bench.services.get("broker")
    for kind in kinds:
        if broker is not None and hasattr(broker, "running") and not broker.running(kind):
            raise LabFault(f"the lab broker's {kind} listener is not running: the unit's traffic cannot be watched")
    capture = device.bench.services.get("capture")
    lost = [k for k, link in getattr(capture, "_links", {}).items() if not link.connected]
    if lost:
        raise LabFault(f"the broker observer lost its connection ({', '.join(lost)}): the unit's traffic "
                       f"cannot be watched")


def _listeners_proven_alive(device: Device, kinds: tuple[str, ...]) -> list[Evidence]:
    """At the end of a capture window, prove each lab broker listener the campaign used alive (the
    harness's own login answered by the process the run started) and tie the verdict to them:
    messages count only if they came through one of these listeners. A listener that cannot be
    proven alive is a lab fault: the unit's silence or its messages from before a kill prove
    nothing. Returns the evidence: the listeners proven alive, and a restart of the lab broker
    after a failed start when the verdict rests on a broker started again."""
    broker = device.bench.services.get("broker")
    rows = []
    for kind in kinds:
        why = broker.proven_alive(kind)
        if why is not None:
            raise LabFault(f"{why} at the end of the capture window: the unit's traffic cannot be judged")
        rows.append({"listener": kind, "url": broker.url(kind),
                     "proven alive at": time.strftime("%H:%M:%S", time.gmtime()) + " UTC (CONNACK to the harness's login)"})
    evidence = [Evidence("table", "lab broker listeners proven alive at the end of the capture window", rows)]
    recovery = getattr(device.bench.services, "recovery", None)
    restarted = recovery() if callable(recovery) else None
    if restarted:
        evidence.append(Evidence("observation", "lab broker started again after a failed start", restarted))
    return evidence


def _one_cycle(device: Device, since: float, topic: str, transport: str | None = None) -> bool:
    """After the unit's first message, wait (event-driven, bounded) until one of its periodic
    (not retained) topics comes round a second time: a whole publishing cycle has then been seen.
    Retained messages do not count: a will and the "online" state that follows a reconnect share
    a topic without being periodic (the observers subscribe with retain-as-published, so the flag
    is the unit's). False when nothing periodic repeated in time."""
    capture = device.bench.services["capture"]
    seen: set[str] = set()

    def repeated(m: Any) -> bool:
        if m.t < since or m.retain or not topic_matches_sub(topic, m.topic) \
                or (transport and m.transport != transport):
            return False
        if m.topic in seen:
            return True
        seen.add(m.topic)
        return False

    return capture.wait_for(repeated, timeout=_publish_timeout(device)) is not None


def _lab_broker_campaign(device: Device) -> dict[str, Any]:
    if not device.has("connect_broker"):
        raise LabFault("no connect_broker procedure: the unit cannot be pointed at the lab broker")
    capture = device.bench.services["capture"]
    _broker_alive(device, ("plain", "tls"))
    watch = WireWatch(device)
    steps: list[dict[str, Any]] = []
    logins: list[BrokerLogin] = []
    with watch.running():
        if watch.active:
            _fresh_login(device, steps)
        device.ensure("logged_in")
        planted = _plant(device)
        start = time.time()  # captured messages carry wall-clock times; indices shift in a bounded capture
        account = device.broker_vars()["user"]
        answer = device.connect_broker(listener="plain_url")
        logins.append(BrokerLogin("plain", account, answer == "connected"))
        published = answer == "connected" and _wait_publish(device, "plain", start)
        if published:  # what it sends in clear over a whole cycle, not only its first message
            _one_cycle(device, start, _device_filter(device), "plain")
        steps.append({"offered": "plaintext listener", "device": answer, "published": published})
        mark = time.time()
        try:
            answer = device.connect_broker()
        except LabFault as exc:
            answer = str(exc)
        logins.append(BrokerLogin("tls", account, answer == "connected"))
        published = answer == "connected" and _wait_publish(device, "tls", mark)
        steps.append({"offered": "TLS listener", "device": answer, "published": published})
        _broker_alive(device, ("plain", "tls"))
        broker_evidence = _listeners_proven_alive(device, ("plain", "tls"))
    live = {row["url"] for row in broker_evidence[0].data}
    topic = _device_filter(device)
    observed = [Observed(m.transport, m.topic, m.payload.decode("utf-8", errors="replace"))
                for m in capture.messages
                if _fresh(m, start) and m.listener in live and topic_matches_sub(topic, m.topic)]
    observed += _wire_messages(watch.facts)
    return {"observed": observed, "steps": steps, "planted": planted, "wire": watch.view, "facts": watch.facts,
            "logins": logins, "transport_known": True, "whole_cycle": True, "stats": watch.stats,
            "broker": broker_evidence}


def _observe_campaign(device: Device) -> dict[str, Any]:
    capture = device.bench.services["capture"]
    broker = observed_broker(device)
    _broker_alive(device, ())
    watch = WireWatch(device)
    steps: list[dict[str, Any]] = []
    topic = _device_filter(device)
    with watch.running():
        if watch.active:
            _fresh_login(device, steps)
        planted = _plant(device) if device.has("set_user_data") else []
        start = time.time()
        # A fresh connection, so that its CONNECT (and any credential in it) is on the wire.
        how = "reconnect_broker" if device.has("reconnect_broker") else "reboot" if device.has("reboot") else None
        if how is not None:
            result = device.run(how)
            said = "done" if result.ok else f"{result.outcome}: {result.detail}"
            steps.append({"offered": f"{how} (the broker is fixed in firmware)", "device": said, "published": "-"})
        got = capture.wait_for(lambda m: _fresh(m, start) and topic_matches_sub(topic, m.topic),
                               timeout=_publish_timeout(device))
        cycle = got is not None and _one_cycle(device, start, topic)
        said = ("published a whole cycle" if cycle else "published, no topic repeated in time") if got \
            else "published nothing in time"
        steps.append({"offered": f"observing {broker.url() if broker else 'the broker'}", "device": said,
                      "published": got is not None})
        _broker_alive(device, ())
    observed = [Observed(m.transport, m.topic, m.payload.decode("utf-8", errors="replace"))
                for m in capture.messages if _fresh(m, start) and topic_matches_sub(topic, m.topic)]
    observed += _wire_messages(watch.facts)
    return {"observed": observed, "steps": steps, "planted": planted, "wire": watch.view, "facts": watch.facts,
            "logins": [], "transport_known": False, "whole_cycle": cycle, "stats": watch.stats}


# --- the test cases -----------------------------------------------------------------------------------
def _judge(device: Device, judge: Any) -> CheckResult:
    t = traffic_campaign(device)
    planted = list(t["planted"])
    if t["label"]:
        planted.append(Planted("label password", t["label"], "security"))
    result = judge(t["observed"], planted, t["wire"], transport_known=t["transport_known"],
                   whole_cycle=t["whole_cycle"])
    result.evidence.append(Evidence("table", "broker offers", t["steps"]))
    if t["stats"]:
        result.evidence.append(Evidence("observation", "packet capture", t["stats"]))
    result.evidence.extend(t.get("broker", []))
    return result


def security_parameters_protected(device: Device) -> CheckResult:
    """5.5-7-2"""
    return _judge(device, judge_security_parameters_on_wire)


def personal_data_protected(device: Device) -> CheckResult:
    """5.8-2-2"""
    return _judge(device, judge_personal_data_on_wire)


def authentication_channel(device: Device) -> CheckResult:
    """5.1-3-2: the unit authenticates (and is authenticated) only over channels with best-practice
    cryptography, judged from the capture and the lab broker's log of the unit's logins."""
    t = traffic_campaign(device)
    result = judge_authentication_channel(t["wire"], t["logins"])
    result.evidence.append(Evidence("table", "campaign", t["steps"]))
    if t["stats"]:
        result.evidence.append(Evidence("observation", "packet capture", t["stats"]))
    result.evidence.extend(t.get("broker", []))
    return result


def rogue_broker(device: Device) -> CheckResult:
    """The MQTT part of 5.5-1-2: the unit is pointed at a listener whose certificate comes from an
    unknown CA; it must abort the handshake (and stay alive). With a broker fixed in firmware: the
    capture shows whether the unit's broker connection uses TLS at all, and the rogue part is
    INCONCLUSIVE with the reason."""
    fixed = observed_broker(device)
    if fixed is not None:
        t = traffic_campaign(device)
        return combine([judge_broker_channel(t["wire"], fixed.host), CheckResult.inconclusive(fixed.no_rogue_reason)])
    broker = device.bench.services["broker"]
    since = broker.last_seq("rogue")
    said = device.connect_broker(listener="rogue_url")
    first = broker.wait_event("rogue", lambda e: e.kind in ("tls_failure", "connected"), timeout=15.0, since=since)
    events = [e for e in broker.events("rogue") if e.seq > since]
    account = device.broker_vars()["user"]
    obs = RogueBrokerObservation(
        connected_clients=[e.client_id or "" for e in events if e.kind == "connected" and e.username == account],
        tls_failures=[f"{e.address}: {e.detail}" for e in events if e.kind == "tls_failure"],
        device_said=said if first is not None else f"{said}; the rogue listener logged no handshake",
        alive_after=device.prove_alive_network())
    try:
        device.connect_broker()  # back to the genuine broker for the test cases that follow
    except LabFault as exc:
        device.note(f"could not reconnect the unit to the lab broker: {exc}")
    return judge_rogue_broker(obs)
