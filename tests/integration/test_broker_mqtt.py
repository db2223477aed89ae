"""MqttLink against the real lab broker (three Mosquitto processes): CONNACK codes, TLS and the
rogue listener, capture per transport, command and reply, expect semantics."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from harness.lab import BrokerCapture, LabBroker, LabCA
from harness.links.mqtt import MqttLink, MqttLinkError, MqttTimeout
from harness.links.serial import ExpectTimeout
from harness.verdict import LabFault

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not os.access("/usr/sbin/mosquitto", os.X_OK),
                                 reason="Mosquitto not installed (make system-deps)")]

ACCOUNTS = {"device": "Dev1ce-Pa55word", "operator": "0perator-Pa55word"}


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return LabCA.create(tmp_path_factory.mktemp("lab-ca"), key_type="ec")


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory, ca: LabCA) -> Iterator[LabBroker]:
    with LabBroker(tmp_path_factory.mktemp("broker"), ca=ca, accounts=ACCOUNTS, timeout=5) as b:
        yield b


def _link(broker: LabBroker, kind: str, tmp: Path, **kw: object) -> MqttLink:
    kw.setdefault("ca", str(broker.ca_path))
    return MqttLink(f"mqtt-{kind}", url=broker.url(kind), timeout=5, transcript_dir=tmp, **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
@pytest.mark.parametrize("kind", ["plain", "tls"])
def test_connack_codes(broker: LabBroker, kind: str, protocol: str, tmp_path: Path) -> None:
    link = _link(broker, kind, tmp_path, protocol=protocol)
    mark = broker.last_seq(kind)
    good = link.connect_attempt("device", ACCOUNTS["device"])
    bad = link.connect_attempt("device", "wrong-password")
    anonymous = link.connect_attempt(None, None)
    again = link.connect_attempt("operator", ACCOUNTS["operator"])  # the broker was alive right after
    link.close()
    refused = 5 if protocol == "3.1.1" else 135  # CONNACK "not authorised" as each protocol sends it
    assert (good.outcome, good.reason_code) == ("ok", 0)
    assert (bad.outcome, bad.reason_code) == ("rejected", refused) and bad.tls_error is None
    assert (anonymous.outcome, anonymous.reason_code) == ("rejected", refused)
    assert again.ok
    # The broker's log is read as it is written: await the last connection's line before counting.
    assert broker.wait_event(kind, lambda e: e.kind == "connected" and e.username == "operator",
                             timeout=5, since=mark) is not None
    events = [e for e in broker.events(kind) if e.seq > mark]
    assert [e.kind for e in events if e.kind == "not_authorised"] == ["not_authorised"] * 2
    assert {e.username for e in events if e.kind == "connected"} == {"device", "operator"}
    text = link.transcript.path.read_text()
    assert "→ rejected" in text and "wrong-password" not in text


def test_tls_trusts_the_lab_ca_and_refuses_the_rogue(broker: LabBroker, tmp_path: Path) -> None:
    mark = broker.last_seq("rogue")
    genuine = _link(broker, "tls", tmp_path).connect_attempt("device", ACCOUNTS["device"])
    rogue = _link(broker, "rogue", tmp_path).connect_attempt("device", ACCOUNTS["device"])
    assert genuine.ok
    impostor = LabCA.load(broker.workdir / "rogue-ca")
    assert impostor.cert.subject == broker.ca.cert.subject and impostor.fingerprint != broker.ca.fingerprint
    assert rogue.outcome == "error" and "unable to get local issuer certificate" in (rogue.tls_error or "")
    failure = broker.wait_event("rogue", lambda e: e.kind == "tls_failure", timeout=5, since=mark)
    assert failure is not None and "unknown ca" in (failure.detail or "")
    assert (failure.address or "").startswith("127.0.0.1")
    assert not [e for e in broker.events("rogue") if e.seq > mark and e.kind == "connected"]
    # Both ways: without the lab CA the genuine listener is refused too, and a client that does not
    # verify (a fooled device) does get through to the rogue one.
    assert _link(broker, "tls", tmp_path, ca=None).connect_attempt("device", ACCOUNTS["device"]).tls_error
    assert _link(broker, "rogue", tmp_path, verify=False).connect_attempt("device", ACCOUNTS["device"]).ok
    with pytest.raises(MqttLinkError) as err:  # the lab's own link to an untrusted broker: lab fault
        _link(broker, "rogue", tmp_path, username="device", password=ACCOUNTS["device"]).open()
    assert isinstance(err.value, LabFault)


def test_capture_records_transport_qos_and_retain(broker: LabBroker, tmp_path: Path) -> None:
    with BrokerCapture(broker, transcript_dir=tmp_path / "capture") as capture:
        for qos, kind in enumerate(("plain", "tls", "rogue")):
            link = _link(broker, kind, tmp_path, username="device", password=ACCOUNTS["device"],
                         verify=kind != "rogue").open()
            link.publish(f"cap/dev1/{kind}", f"hello over {kind}", qos=qos, retain=kind == "tls")
            link.publish("cap/dev1/raw", b"\xde\xad\xbe\xef")
            link.close()
        seen = {}
        for kind in ("plain", "tls", "rogue"):
            msg = capture.wait_for(lambda m, k=kind: m.topic == f"cap/dev1/{k}", timeout=5)
            assert msg is not None
            seen[kind] = msg
        assert capture.wait_for(lambda m: m.topic == "cap/nothing", timeout=0.2) is None
        evidence = capture.to_evidence()
    for qos, kind in enumerate(("plain", "tls", "rogue")):
        msg = seen[kind]
        assert (msg.transport, msg.qos, msg.retain, msg.text) == (kind, qos, kind == "tls", f"hello over {kind}")
    raw = [row for row in evidence.data if row["topic"] == "cap/dev1/raw"]
    assert {row["transport"] for row in raw} == {"plain", "tls", "rogue"}
    assert all(row["payload"] == "deadbeef" and row["encoding"] == "hex" for row in raw)
    # Clear the retained message so later captures on this broker start clean.
    link = _link(broker, "tls", tmp_path, username="device", password=ACCOUNTS["device"]).open()
    link.publish("cap/dev1/tls", b"", retain=True)
    link.close()


class Responder:
    """Plays the device: answers cmnd/dev1/Reset on stat/dev1/RESULT, the way Tasmota does."""

    def __init__(self, broker: LabBroker) -> None:
        self.client = paho.Client(CallbackAPIVersion.VERSION2, client_id="fake-device", reconnect_on_failure=False)
        self.client.username_pw_set("device", ACCOUNTS["device"])
        self.ready = threading.Event()
        self.client.on_connect = lambda c, *_: c.subscribe("cmnd/dev1/#", 1)
        self.client.on_subscribe = lambda *_: self.ready.set()
        self.client.on_message = self._answer
        self.client.connect("127.0.0.1", broker.port("plain"))
        self.client.loop_start()
        assert self.ready.wait(5)

    def _answer(self, client: paho.Client, _u: object, msg: paho.MQTTMessage) -> None:
        if msg.topic == "cmnd/dev1/Reset":
            answer = '{"Reset":"Reset and Restarting"}' if msg.payload == b"1" else '{"Command":"Error"}'
            client.publish("stat/dev1/RESULT", answer, qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_command_and_reply(broker: LabBroker, tmp_path: Path) -> None:
    device = Responder(broker)
    link = _link(broker, "plain", tmp_path, username="operator", password=ACCOUNTS["operator"]).open()
    try:
        reply = link.command("cmnd/dev1/Reset", "1", reply="stat/dev1/RESULT",
                             payload_regex=r'"Reset":"(?P<what>[^"]+)"', qos=1, timeout=5)
        assert reply.groups == {"what": "Reset and Restarting"}
        # Outcomes by name, as a profile's expect_one_of: the device's error reply is its own outcome.
        link.publish("cmnd/dev1/Reset", "99", qos=1)
        name, msg, _ = link.expect_any({"reset": ("stat/dev1/RESULT", r'"Reset"'),
                                        "error": ("stat/dev1/RESULT", r'"Command":"Error"')}, timeout=5)
        assert name == "error" and msg.retain is False
    finally:
        device.close()
        link.close()
    text = link.transcript.path.read_text()
    assert "> PUBLISH cmnd/dev1/Reset [q1] 1" in text and '< stat/dev1/RESULT [q1] {"Reset"' in text


def test_early_messages_wait_and_passed_over_ones_are_consumed(broker: LabBroker, tmp_path: Path) -> None:
    link = _link(broker, "plain", tmp_path, username="operator", password=ACCOUNTS["operator"],
                 subscriptions=["seq/#"]).open()
    other = _link(broker, "plain", tmp_path, username="device", password=ACCOUNTS["device"]).open()
    arrived = threading.Event()
    link.add_listener(lambda m: arrived.set() if m.text == "3" else None)
    try:
        for n in ("1", "2", "3"):
            other.publish("seq/a", n, qos=1)
        assert arrived.wait(5)  # all three are in the inbox before anyone expects them
        assert link.expect("seq/a", "^2$", timeout=1).text == "2"
        assert link.expect("seq/a", timeout=1).text == "3"  # "1" was passed over by the first expect
        with pytest.raises(MqttTimeout) as err:
            link.expect("seq/a", timeout=0.3)
        assert isinstance(err.value, ExpectTimeout) and not isinstance(err.value, LabFault)
    finally:
        other.close()
        link.close()


def test_secret_payload_and_registered_secrets_stay_out(broker: LabBroker, tmp_path: Path) -> None:
    with BrokerCapture(broker, transcript_dir=tmp_path / "capture") as capture:
        link = _link(broker, "plain", tmp_path, username="operator", password=ACCOUNTS["operator"]).open()
        link.publish("cmnd/dev1/Password", "N3w-Device-Secret", qos=1, secret=True)
        link.publish("tele/dev1/leak", f"pw={ACCOUNTS['device']}", qos=1)  # a registered secret
        assert capture.wait_for(lambda m: m.topic == "tele/dev1/leak", timeout=5) is not None
        link.close()
        evidence = capture.to_evidence()
    text = link.transcript.path.read_text()
    assert "«secret payload»" in text and "N3w-Device-Secret" not in text
    assert ACCOUNTS["device"] not in text and "pw=«redacted»" in text
    leak = next(r for r in evidence.data if r["topic"] == "tele/dev1/leak")
    assert leak["payload"] == "pw=«redacted»"


def test_a_fence_orders_what_was_published_before_it(broker: LabBroker, tmp_path: Path) -> None:
    """6-2-2 sets aside what a unit sent before its reset but a busy bench delivered after it: the
    capture's marker through each listener comes back after every message published before it."""
    with BrokerCapture(broker, transcript_dir=tmp_path / "capture") as capture:
        link = _link(broker, "plain", tmp_path, username="device", password=ACCOUNTS["device"]).open()
        for i in range(50):
            link.publish(f"fence/dev1/{i}", "before", qos=1)
        fences = capture.fence(timeout=5)
        link.publish("fence/dev1/after", "after", qos=1)
        after = capture.wait_for(lambda m: m.topic == "fence/dev1/after", timeout=5)
        link.close()
        before = [m for m in capture.messages if m.topic.startswith("fence/dev1/") and m.text == "before"]
    assert set(fences) == {"plain", "tls", "rogue"}
    assert len(before) == 50 and all(m.t <= fences["plain"] for m in before)
    assert after is not None and after.t >= fences["plain"]
    assert not [m for m in capture.messages if m.topic.startswith(BrokerCapture.FENCE_PREFIX)]  # never traffic
