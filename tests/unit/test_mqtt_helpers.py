"""Pure helpers of the MQTT link: URLs, topic filter cover, payload display, the bounded inbox,
CONNACK codes as sent on the wire."""

from __future__ import annotations

import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.reasoncodes import ReasonCode

from harness.links.mqtt import (
    MqttLinkError,
    MqttMessage,
    _Inbox,
    _wire_code,
    filter_covers,
    parse_url,
    show_payload,
)


def test_parse_url() -> None:
    assert parse_url("mqtt://10.0.0.5") == (False, "10.0.0.5", 1883)
    assert parse_url("mqtts://broker.lab:8884") == (True, "broker.lab", 8884)
    assert parse_url("mqtt://[::1]:1999") == (False, "::1", 1999)
    for bad in ("http://x", "mqtt://", "mqtt://u:pw@host"):
        with pytest.raises(MqttLinkError):
            parse_url(bad)


@pytest.mark.parametrize(("sub", "wanted", "covers"), [
    ("#", "a/b", True), ("a/#", "a/+/c", True), ("a/+", "a/b", True), ("a/+", "a/#", False),
    ("a/b", "a/+", False), ("a/+/c", "a/b/c", True), ("a/b", "a/b/c", False), ("a/b/c", "a/b", False),
    ("+/+", "a/b", True), ("a/#", "a", True),  # MQTT 4.7.1.2: "a/#" matches "a" too
])
def test_filter_covers(sub: str, wanted: str, covers: bool) -> None:
    assert filter_covers(sub, wanted) is covers


def test_show_payload() -> None:
    assert show_payload(b'{"POWER":"ON"}') == '{"POWER":"ON"}'
    assert show_payload(b"a\nb") == "a\\nb"
    assert show_payload(b"\xff\x00") == "hex:ff00"
    long = show_payload(b"x" * 2000, limit=10)
    assert long.startswith("x" * 10) and "(2000 bytes)" in long


def _msg(topic: str) -> MqttMessage:
    return MqttMessage(topic, b"", 0, False, 0.0)


def test_inbox_is_bounded_and_scans_only_new_messages() -> None:
    inbox = _Inbox(limit=3)
    for i in range(5):
        inbox.append(_msg(f"t/{i}"))
    assert [m.topic for m in inbox.items] == ["t/2", "t/3", "t/4"] and inbox.dropped == 2
    assert [m.seq for m in inbox.since(2)] == [3, 4]
    assert inbox.since(4) == [] and inbox.last_seq == 4
    inbox.remove({3})
    assert [m.seq for m in inbox.since(-1)] == [2, 4]


@pytest.mark.parametrize(("name", "v311"), [("Success", 0), ("Bad user name or password", 4), ("Not authorized", 5)])
def test_connack_code_as_sent(name: str, v311: int) -> None:
    code = ReasonCode(PacketTypes.CONNACK, name)
    assert _wire_code(code, "3.1.1") == v311
    assert _wire_code(code, "5") == code.value  # MQTT 5 sends the reason code itself
