"""Mosquitto 2.0 log lines (copied from a real 2.0.11 run) become the right events."""

from __future__ import annotations

from harness.lab.mosquitto_log import MosquittoLogParser

LOG = """\
1795598153: mosquitto version 2.0.11 starting
1795598153: Opening ipv4 listen socket on port 18885.
1795598153: mosquitto version 2.0.11 running
1795598153: New connection from 127.0.0.1:55885 on port 18885.
1795598153: New client connected from 127.0.0.1:55885 as good (p2, c1, k30, u'alice').
1795598153: Sending CONNACK to good (0, 0)
1795598153: Received SUBSCRIBE from good
1795598153: \tdev/# (QoS 1)
1795598153: good 1 dev/#
1795598153: Received PUBLISH from good (d0, q1, r1, m2, 'dev/x', ... (5 bytes))
1795598153: Sending PUBLISH to good (d0, q1, r0, m1, 'dev/x', ... (5 bytes))
1795598153: Client good disconnected.
1795598153: New connection from 127.0.0.1:33089 on port 18885.
1795598153: Sending CONNACK to 127.0.0.1 (0, 5)
1795598153: Client <unknown> disconnected, not authorised.
1795598153: New client connected from 127.0.0.1:48369 as anon (p2, c1, k30).
1795598154: Client anon closed its connection.
1795598154: Reloading config.
1795598030: New connection from 127.0.0.1:42753 on port 18884.
1795598030: OpenSSL Error[0]: error:0A000418:SSL routines::tlsv1 alert unknown ca
1795598030: Client <unknown> disconnected: Protocol error.
1795598035: Client connection from 127.0.0.1 failed: error:0A000418:SSL routines::tlsv1 alert unknown ca.
1795598035: Error: Address already in use
"""


def parse(text: str):  # type: ignore[no-untyped-def]
    parser = MosquittoLogParser("plain")
    return [e for line in text.splitlines() if (e := parser.parse(line, 1.0)) is not None]


def test_every_known_line_becomes_its_event() -> None:
    kinds = [e.kind for e in parse(LOG)]
    assert kinds == ["ready", "connection", "connected", "connack", "subscribe", "publish", "disconnected",
                     "connection", "connack", "not_authorised", "connected", "disconnected", "reload",
                     "connection", "tls_failure", "disconnected", "tls_failure", "error"]


def test_fields() -> None:
    events = parse(LOG)
    connected = events[2]
    assert (connected.client_id, connected.username, connected.address) == ("good", "alice", "127.0.0.1:55885")
    assert events[3].detail == "0"
    assert events[4].detail == "dev/# q1" and events[4].client_id == "good"
    assert events[5].detail == "dev/x q1 r1 5 bytes" and events[5].client_id == "good"
    refused = events[9]
    assert refused.client_id is None and refused.address == "127.0.0.1"  # from the CONNACK line
    anon = events[10]
    assert anon.client_id == "anon" and anon.username is None
    tls = events[14]
    assert tls.address == "127.0.0.1:42753" and "unknown ca" in (tls.detail or "")
    assert events[16].address == "127.0.0.1" and events[16].detail.endswith("unknown ca")  # type: ignore[union-attr]
    assert events[17].detail == "Address already in use"
    assert [e.seq for e in events] == list(range(1, len(events) + 1))
    assert all(e.transport == "plain" for e in events)


def test_unknown_and_publish_lines_to_others_are_not_events() -> None:
    assert parse("1795598153: Sending PUBLISH to good (d0, q1, r0, m1, 'dev/x', ... (5 bytes))\n"
                 "1795598153: No will message specified.\nnot even a stamp\n") == []


def test_topic_lines_only_after_a_subscribe() -> None:
    assert parse("1795598153: \tdev/# (QoS 1)\n") == []
