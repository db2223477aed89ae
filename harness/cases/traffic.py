"""Test cases judged on what the device sends through the lab broker: credentials and security
parameters (5.5-7-2) and personal data (5.8-2-2) never in plaintext, and the rogue broker refused
(the MQTT part of 5.5-1-2).

The plaintext test is a downgrade offer: the harness first provisions the unit with the lab
broker's *plaintext* listener. A device that refuses it, or connects over TLS only, sends nothing
readable; one that accepts it is watched until it publishes. Then the unit is provisioned with
the TLS listener and watched again. Test values planted as user data (a Wi-Fi name and key) are
what the check looks for, besides credential-like fields."""

from __future__ import annotations

import secrets
import time
from typing import TYPE_CHECKING, Any

from paho.mqtt.client import topic_matches_sub

from harness.checks.network_auth import RogueBrokerObservation, judge_rogue_broker
from harness.checks.traffic import Observed, Planted, judge_personal_data, judge_security_parameters
from harness.redact import REDACTOR
from harness.verdict import CheckResult, Evidence, LabFault

if TYPE_CHECKING:
    from harness.device import Device

PUBLISH_WAIT_S = 30.0


def _device_filter(device: Device) -> str:
    from harness.procedures import render

    for link in device.profile.links.values():
        if getattr(link, "type", "") == "mqtt" and "device" in link.topics:
            return render(link.topics["device"], device.variables())[0]
    return "#"


def _wait_publish(device: Device, transport: str, since: float) -> bool:
    """Wait for a message of this unit on ``transport`` captured at or after ``since`` (epoch s)."""
    capture = device.bench.services["capture"]
    topic = _device_filter(device)
    timeout = float(device.profile.settle.get("telemetry_interval", PUBLISH_WAIT_S)) * 2 * device.settle_scale
    got = capture.wait_for(lambda m: m.t >= since and m.transport == transport and topic_matches_sub(topic, m.topic),
                           timeout=max(timeout, 5.0))
    return got is not None


def traffic_campaign(device: Device) -> dict[str, Any]:
    if "traffic" in device.cache:
        return device.cache["traffic"]
    capture = device.bench.services.get("capture")
    if capture is None or not device.has("connect_broker"):
        raise LabFault("no lab broker capture or connect_broker procedure: the device's traffic cannot be watched")
    device.ensure("logged_in")
    planted = {"ssid": f"harness-{secrets.token_hex(4)}", "psk": secrets.token_urlsafe(12)}
    REDACTOR.add(planted["psk"], "planted Wi-Fi key")
    if not device.run("set_user_data", **planted).ok:
        raise LabFault("the harness could not set the user data it watches for")
    device.mark_changed(user_data=True)
    start = time.time()  # captured messages carry wall-clock times; indices shift in a bounded capture
    steps = []
    answer = device.connect_broker(listener="plain_url")
    published = answer == "connected" and _wait_publish(device, "plain", start)
    steps.append({"offered": "plaintext listener", "device": answer, "published": published})
    mark = time.time()
    try:
        answer = device.connect_broker()
    except LabFault as exc:
        answer = str(exc)
    published = answer == "connected" and _wait_publish(device, "tls", mark)
    steps.append({"offered": "TLS listener", "device": answer, "published": published})
    topic = _device_filter(device)
    observed = [Observed(m.transport, m.topic, m.payload.decode("utf-8", errors="replace"))
                for m in capture.messages if m.t >= start and topic_matches_sub(topic, m.topic)]
    out = {"observed": observed, "steps": steps,
           "planted": [Planted("planted Wi-Fi key", planted["psk"], "security"),
                       Planted("planted Wi-Fi name", planted["ssid"], "personal")],
           "label": device.label_password()}
    device.cache["traffic"] = out
    return out


def _judge(device: Device, judge: Any) -> CheckResult:
    t = traffic_campaign(device)
    planted = list(t["planted"])
    if t["label"]:
        planted.append(Planted("label password", t["label"], "security"))
    result = judge(t["observed"], planted)
    result.evidence.append(Evidence("table", "broker offers", t["steps"]))
    return result


def security_parameters_protected(device: Device) -> CheckResult:
    """5.5-7-2"""
    return _judge(device, judge_security_parameters)


def personal_data_protected(device: Device) -> CheckResult:
    """5.8-2-2"""
    return _judge(device, judge_personal_data)


def rogue_broker(device: Device) -> CheckResult:
    """The MQTT part of 5.5-1-2: the unit is pointed at a listener whose certificate comes from an
    unknown CA; it must abort the handshake (and stay alive)."""
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
