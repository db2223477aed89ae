"""A traffic verdict rests only on lab broker listeners proven alive at the end of its capture
window (the harness's own login answered), and names a restart of the lab broker when the one it
rests on was started again after a failed start. (Once a PASS was judged on a broker started again
after its listeners were killed, without saying so.)"""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from harness.cases.traffic import _listeners_proven_alive
from harness.labservices import LabServices
from harness.verdict import LabFault


class FakeBroker:
    def __init__(self, dead: set[str] = frozenset()) -> None:  # type: ignore[assignment]
        self.dead = dead

    def proven_alive(self, kind: str) -> str | None:
        return f"the lab broker's {kind} listener is not running" if kind in self.dead else None

    def url(self, kind: str) -> str:
        return {"plain": "mqtt://127.0.0.1:1883", "tls": "mqtts://127.0.0.1:8883"}[kind]


def _device(services: dict) -> SimpleNamespace:  # type: ignore[type-arg]
    return SimpleNamespace(bench=SimpleNamespace(services=services))


def test_listeners_proven_alive_are_the_evidence() -> None:
    evidence = _listeners_proven_alive(_device({"broker": FakeBroker()}), ("plain", "tls"))
    assert [row["url"] for row in evidence[0].data] == ["mqtt://127.0.0.1:1883", "mqtts://127.0.0.1:8883"]
    assert len(evidence) == 1  # the first start held: no recovery to name


def test_a_listener_gone_at_the_end_is_a_lab_fault() -> None:
    with pytest.raises(LabFault, match="tls listener is not running at the end of the capture window"):
        _listeners_proven_alive(_device({"broker": FakeBroker({"tls"})}), ("plain", "tls"))


def test_a_broker_started_again_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    services = LabServices(SimpleNamespace(lab=SimpleNamespace(broker=None)), tmp_path)  # type: ignore[arg-type]
    services.start_failures.append({"failed at": "2026-01-01T00:00:00.000Z", "cause": "BrokerError: killed"})
    services.started_at = 1.0
    dict.__setitem__(services, "broker", FakeBroker())
    services._cm = object()  # type: ignore[assignment]  # started: no start on lookup
    evidence = _listeners_proven_alive(_device(services), ("plain", "tls"))
    assert evidence[1].name == "lab broker started again after a failed start"
    assert evidence[1].data["earlier starts that failed"][0]["cause"] == "BrokerError: killed"


def test_retained_messages_replayed_to_a_subscription_are_marked(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """After a (re)subscription the broker re-sends what it retained, with a new time stamp: the
    capture marks those as replays (a unit's earlier retained message is not news of this window)."""
    import time

    from harness.lab.capture import BrokerCapture
    from harness.links.mqtt import MqttMessage

    capture = BrokerCapture(SimpleNamespace(started_kinds=("tls",), timeout=1.0, workdir=tmp_path),  # type: ignore[arg-type]
                            kinds=("tls",))
    record = capture._recorder("tls", "mqtts://127.0.0.1:8883")
    with capture.replays("tls"):
        record(MqttMessage(topic="u/state", payload=b"consent=on", qos=0, retain=True, t=time.time()))
    record(MqttMessage(topic="u/state", payload=b"consent=off", qos=0, retain=True, t=time.time()))
    capture._replay_until["tls"] = 0.0  # the window after the SUBACK is over
    record(MqttMessage(topic="u/state", payload=b"consent=off", qos=0, retain=True, t=time.time()))
    record(MqttMessage(topic="u/tele", payload=b"{}", qos=0, retain=False, t=time.time()))
    assert [m.replay for m in capture.messages] == [True, True, False, False]
    assert capture.subscribed and capture.subscribed[0][0] == "tls"
