"""What the unit's connections carry: personal data in transit (5.8-1-2) and critical security
parameters in transit (5.5-6-2).

5.8-1-2: under a passive capture of the unit, the harness writes an owner profile the way the
companion app does (``set_personal_data`` with a planted name and location), gives consent when
IXIT 21-PersData says the data rests on it (``give_consent``) and watches until a flow carrying
personal data has come round twice (a whole publishing cycle, so a side upload made at the same
time is in the capture too). The flows are the unit's messages as the broker received them (with
their transport) and everything the capture saw in clear.

5.5-6-2 runs the 5.5-7-2 campaign (harness.cases.traffic) and judges it for the critical security
parameters IXIT 10-SecParam declares."""

from __future__ import annotations

import secrets
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from paho.mqtt.client import topic_matches_sub

from harness.cases import traffic
from harness.cases.consent import attributed, command_topics, online, unit_filter, window_seconds
from harness.checks.connection import (
    DataItem,
    carries,
    judge_personal_data_in_transit,
    judge_security_parameters_in_transit,
)
from harness.checks.traffic import Observed, Planted, WireView
from harness.verdict import CheckResult, Evidence, LabFault, Verdict

if TYPE_CHECKING:
    from harness.device import Device


def _items(device: Device) -> list[DataItem]:
    return [DataItem(p.data, list(p.keywords)) for p in device.profile.ixit.personal_data]


def _plant(device: Device, steps: list[dict[str, Any]]) -> list[Planted]:
    if not device.has("set_personal_data"):
        steps.append({"step": "set_personal_data", "device": "not declared: judged on the IXIT keywords only"})
        return []
    planted = {"name": f"Alex-{secrets.token_hex(3)}", "location": f"Tampere-{secrets.token_hex(3)}"}
    result = device.run("set_personal_data", **planted)
    if not result.ok:
        raise LabFault(f"the harness could not write the personal data it watches for ({result.outcome}: "
                       f"{result.detail})")
    device.mark_changed(user_data=True)
    steps.append({"step": "set_personal_data (planted owner name and location)", "device": "acknowledged"})
    return [Planted("planted owner name", planted["name"], "personal"),
            Planted("planted location", planted["location"], "personal")]


def _where(transport: str) -> str:
    if transport in ("tls", "plain"):
        return f"{transport} listener of the broker"
    return "seen by the observer of the existing broker"


def personal_data_in_transit(device: Device) -> CheckResult:
    """5.8-1-2"""
    items = _items(device)
    if not items:
        return judge_personal_data_in_transit(items, [], [], WireView([], [], unavailable="not run"))
    capture = device.bench.services.get("capture")
    if capture is None:
        raise LabFault("no lab broker capture and no observed broker: the unit's traffic cannot be watched")
    topic, commands = unit_filter(device), command_topics(device)
    timeout = max(window_seconds(device) or 0.0, traffic._publish_timeout(device))
    steps: list[dict[str, Any]] = []
    watch = traffic.WireWatch(device)

    def mine(m: Any) -> bool:
        return m.topic not in commands and topic_matches_sub(topic, m.topic)

    with watch.running():
        online(device)
        start = time.time()
        planted = _plant(device, steps)
        if any(p.consent for p in device.profile.ixit.personal_data) and device.has("give_consent"):
            ok = device.run("give_consent").ok
            steps.append({"step": "give_consent (the data rests on consent)", "device": "acknowledged" if ok else "no"})
        seen: list[str] = []

        def twice(m: Any) -> bool:
            if m.t < start or not mine(m) or not carries(Observed(m.transport, m.topic, m.text), items, planted):
                return False
            seen.append(m.topic)
            return seen.count(m.topic) >= 2
        cycle = capture.wait_for(twice, timeout=timeout) is not None
        steps.append({"step": "watch until a flow with personal data came round twice",
                      "device": "seen" if cycle else f"not within {timeout:g} s ({len(seen)} seen)"})
    dropped = int(watch.stats.get("packets dropped by kernel", 0) or 0)  # type: ignore[call-overload]
    if dropped:  # packets the kernel dropped may be exactly the ones sent in clear: not a complete capture
        watch.view.complete = False
        steps.append({"step": "capture", "device": f"{dropped} packet(s) dropped by the kernel: capture incomplete"})
    flows = [Observed(m.transport, f"MQTT {m.topic} ({_where(m.transport)})", m.text)
             for m in capture.messages if m.t >= start and mine(m)]
    wire_flows = traffic._wire_messages(watch.facts)  # the unit's own packets: attributable by its address
    result = judge_personal_data_in_transit(items, planted, flows + wire_flows, watch.view)
    if result.verdict == Verdict.FAIL and topic == "#" \
            and judge_personal_data_in_transit(items, planted, wire_flows, watch.view).verdict != Verdict.FAIL:
        result = attributed(result, topic)
    result.evidence.append(Evidence("table", "steps", steps))
    if watch.stats:
        result.evidence.append(Evidence("observation", "packet capture", watch.stats))
    return result


def security_parameters_in_transit(device: Device) -> CheckResult:
    """5.5-6-2"""
    parameters = [p.id for p in device.profile.ixit.security_parameters if p.critical]
    if not parameters:
        return judge_security_parameters_in_transit([], [], [], WireView([], [], unavailable="not run"),
                                                    transport_known=False)
    t = traffic.traffic_campaign(device)
    planted = list(t["planted"])
    if t["label"]:
        planted.append(Planted("label password", t["label"], "security"))
    result = judge_security_parameters_in_transit(parameters, t["observed"], planted, t["wire"],
                                                  transport_known=t["transport_known"], whole_cycle=t["whole_cycle"])
    result.evidence.append(Evidence("table", "broker offers", t["steps"]))
    if t["stats"]:
        result.evidence.append(Evidence("observation", "packet capture", t["stats"]))
    result.evidence.extend(t.get("broker", []))
    return result


# --- 5.9-3-2: orderly reconnection -------------------------------------------------------------------
DEFAULT_RECONNECT_WINDOW_S = 60.0  # device seconds the broker stays away when undeclared: a whole minute, the unit of the bound
MIN_OUTAGE_S = 2.0  # real seconds: enough for a few retries of any backoff floor


def reconnect_bound(device: Device) -> float | None:
    """IXIT 23-ResMech ``reconnect_max_per_minute`` (a mapping, or a list of mappings)."""
    doc = device.profile.ixit.other.get("23-ResMech")
    entries = doc if isinstance(doc, list) else [doc]
    for entry in entries:
        if isinstance(entry, dict) and entry.get("reconnect_max_per_minute") is not None:
            return float(entry["reconnect_max_per_minute"])
    return None


def reconnect_wait(device: Device, syns: list[float]) -> float:
    """How long to await the unit's connection once the broker is back (real seconds). A unit that
    backs off may be mid-wait when the broker returns: its next attempt can come up to twice its
    last gap after its last attempt (exponential backoff doubles), and then it needs the declared
    broker_connect time to get through."""
    connect = float(device.profile.settle.get("broker_connect", 30.0))
    gaps = [b - a for a, b in zip(syns, syns[1:], strict=False)]
    return connect + 2.0 * max(gaps[-1:] or [0.0])


def _syn_times(path: Path, unit: str, host: str, port: int) -> list[float]:
    """Epoch times of the unit's connection attempts (TCP SYN without ACK) to host:port. A SYN
    the kernel retransmits (same source port and sequence number, when nothing answered) is the
    same attempt: only its first is counted."""
    import scapy.layers.inet  # noqa: F401  (registers the layers PcapReader decodes)
    import scapy.layers.inet6  # noqa: F401
    import scapy.layers.l2  # noqa: F401
    from scapy.layers.inet import IP, TCP
    from scapy.utils import PcapReader

    first: dict[tuple[int, int], float] = {}
    try:
        with PcapReader(str(path)) as reader:
            for i, pkt in enumerate(reader):
                if i >= 200_000:
                    break
                if IP in pkt and TCP in pkt and pkt[IP].src == unit and pkt[IP].dst == host \
                        and pkt[TCP].dport == port and (int(pkt[TCP].flags) & 0x12) == 0x02:
                    first.setdefault((int(pkt[TCP].sport), int(pkt[TCP].seq)), float(pkt.time))
    except EOFError:
        pass  # a capture cut in its last packet: what came before stands
    return sorted(first.values())


def orderly_reconnection(device: Device) -> CheckResult:
    """5.9-3-2: the lab broker's TLS listener goes away for the declared window under a packet
    capture; the unit's connection attempts (TCP SYNs to the broker) are counted and their gaps
    measured, in device seconds (real seconds divided by the settle scale)."""
    from urllib.parse import urlsplit

    from harness.checks.connection import ReconnectFacts, judge_orderly_reconnection
    from harness.lab.sniffer import CaptureUnavailable, PacketCapture

    bound = reconnect_bound(device)
    if bound is None:
        return judge_orderly_reconnection(ReconnectFacts([], 0.0, None, False, False))
    broker = device.bench.services.get("broker")
    if broker is None:
        return CheckResult.inconclusive("the run has no lab broker: the lost connection cannot be staged")
    if getattr(broker, "fixed", False):
        return CheckResult.inconclusive(broker.no_outage_reason)
    cfg = device.bench.lab.capture
    address = device.bench.address(device.unit_id)
    if not cfg.enabled or not address:
        return CheckResult.inconclusive("no packet capture of the unit (capture disabled or no unit address): its "
                                        "connection attempts cannot be counted")
    scale = device.settle_scale or 1.0
    declared = float(device.profile.settle.get("reconnect_window", DEFAULT_RECONNECT_WINDOW_S))
    outage_real = max(declared * scale, MIN_OUTAGE_S)
    connected = online(device)
    parts = urlsplit(broker.url("tls"))
    host, port = str(parts.hostname), int(parts.port or 8883)
    capture = PacketCapture(str(address), traffic._workdir(device), interface=cfg.interface, tcpdump=cfg.tcpdump,
                            name=f"{device.unit_id}-reconnect-{int(time.time())}")
    try:
        capture.start()
    except CaptureUnavailable as exc:
        return CheckResult.inconclusive(f"no packet capture of the unit, so its connection attempts cannot be "
                                        f"counted: {exc}")
    observer = device.bench.services.get("capture")
    stopped = time.time()
    try:
        broker.stop_instance("tls")
        stopped = time.time()
        # The outage lasts the declared window (a device time, scaled): nothing to wait for but the clock.
        threading.Event().wait(outage_real)
    finally:
        ended = time.time()
        since = device.broker_mark("tls")
        broker.start_instance("tls")
        if observer is not None:
            observer.reattach("tls")
        stats = capture.stop()
    try:
        syns = [t - stopped for t in _syn_times(capture.path, str(address), host, port) if stopped <= t <= ended]
    finally:
        if not cfg.keep_pcap:
            capture.discard()
    reconnected = device.await_broker("tls", since=since, timeout=reconnect_wait(device, syns))
    # The harness's own MQTT links lost their session with the listener that went away: the next
    # procedure opens them again on the listener that is back.
    device.reopen_links("mqtt")
    facts = ReconnectFacts([t / scale for t in syns], (ended - stopped) / scale, bound, connected, reconnected)
    result = judge_orderly_reconnection(facts)
    result.evidence.append(Evidence("observation", "packet capture", {**stats, "broker": f"{host}:{port}",
                                                                      "settle scale": scale}))
    if (not stats.get("complete") or stats.get("packets dropped by kernel")) and result.verdict == "PASS":
        return CheckResult.inconclusive("the capture was not confirmed complete, so connection attempts may be "
                                        "missing from the count", *result.evidence)
    return result
