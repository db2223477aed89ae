"""The dissection of a capture (harness.lab.dissect): packets built with scapy, as a capture of the
unit would hold them; findings name the field and never carry the value."""

from __future__ import annotations

import base64
import json

import pytest
from scapy.contrib.mqtt import MQTT, MQTTConnect, MQTTPublish
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

from harness.lab.dissect import describe, read_capture
from harness.redact import Redactor

UNIT, PEER = "127.91.0.1", "127.91.255.1"


def conversation(client: tuple[str, int], server: tuple[str, int], up: list[bytes], down: list[bytes] = (),
                 *, syn: bool = True) -> list:
    """A TCP conversation: handshake, the client's segments, the server's segments."""
    (ca, cp), (sa, sp) = client, server
    pkts = []
    cseq, sseq = 1000, 5000
    if syn:
        pkts.append(Ether() / IP(src=ca, dst=sa) / TCP(sport=cp, dport=sp, flags="S", seq=cseq - 1))
        pkts.append(Ether() / IP(src=sa, dst=ca) / TCP(sport=sp, dport=cp, flags="SA", seq=sseq - 1, ack=cseq))
    for data in up:
        pkts.append(Ether() / IP(src=ca, dst=sa) / TCP(sport=cp, dport=sp, flags="PA", seq=cseq) / data)
        cseq += len(data)
    for data in down:
        pkts.append(Ether() / IP(src=sa, dst=ca) / TCP(sport=sp, dport=cp, flags="PA", seq=sseq) / data)
        sseq += len(data)
    return pkts


def mqtt_connect(user: bytes | None, password: bytes | None) -> bytes:
    return bytes(MQTT() / MQTTConnect(protoname=b"MQTT", protolevel=4, clientId=b"cam-1",
                                      usernameflag=int(user is not None), passwordflag=int(password is not None),
                                      username=user or b"", password=password or b""))


def mqtt_publish(topic: bytes, payload: bytes) -> bytes:
    return bytes(MQTT(QOS=0) / MQTTPublish(topic=topic, value=payload))


def test_mqtt_connect_credentials_named_not_shown() -> None:
    red = Redactor()
    up = [mqtt_connect(b"cam-user", b"Sup3r-secret-pw"), mqtt_publish(b"cam/1/state", b'{"temp": 21}')]
    facts = describe(conversation((UNIT, 40001), (PEER, 1883), up), UNIT, redactor=red)
    [conv] = facts.conversations
    assert conv.protocol == "MQTT" and conv.unit_is_client and not conv.encrypted
    assert {c.field for c in conv.credentials} == {"MQTT CONNECT user name", "MQTT CONNECT password"}
    assert all(c.sender == "the unit" for c in conv.credentials)
    assert [(m.topic, m.payload) for m in conv.messages] == [("cam/1/state", '{"temp": 21}')]
    rows = json.dumps(facts.rows())
    assert "Sup3r-secret-pw" not in rows and "MQTT CONNECT password" in rows
    assert red.redact("pw=Sup3r-secret-pw") == "pw=«redacted»"


def test_mqtt_connect_split_over_segments_and_retransmitted() -> None:
    data = mqtt_connect(b"u", b"Split-secret-99")
    pkts = conversation((UNIT, 40002), (PEER, 1883), [data[:7], data[7:]])
    pkts.insert(3, pkts[2].copy())  # the first segment again: a retransmission
    [conv] = describe(pkts, UNIT, redactor=Redactor()).conversations
    assert {c.field for c in conv.credentials} == {"MQTT CONNECT user name", "MQTT CONNECT password"}


def test_mqtt_on_an_unusual_port_and_without_credentials() -> None:
    [conv] = describe(conversation((UNIT, 40003), (PEER, 18830), [mqtt_connect(None, None)]), UNIT,
                      redactor=Redactor()).conversations
    assert conv.protocol == "MQTT" and conv.credentials == []


def test_http_credentials_in_every_place() -> None:
    red = Redactor()
    basic = base64.b64encode(b"admin:Basic-pw-123").decode()
    req1 = (f"GET /cm?user=admin&password=Query-pw-456&cmnd=Power HTTP/1.1\r\nHost: {UNIT}\r\n"
            f"Authorization: Basic {basic}\r\nCookie: sid=Cookie-val-789\r\n\r\n").encode()
    body = b"username=admin&pwd=Form-pw-000"
    req2 = (b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
    resp = b"HTTP/1.1 200 OK\r\nSet-Cookie: session=Set-cookie-val; HttpOnly\r\nContent-Length: 2\r\n\r\nok"
    [conv] = describe(conversation((PEER, 50000), (UNIT, 80), [req1 + req2], [resp]), UNIT, redactor=red).conversations
    assert conv.protocol == "HTTP" and not conv.unit_is_client
    fields = {c.field for c in conv.credentials}
    assert {"HTTP Authorization header (Basic)", "HTTP query parameter 'user'", "HTTP query parameter 'password'",
            "HTTP Cookie 'sid'", "HTTP form field 'username'", "HTTP form field 'pwd'",
            "HTTP Set-Cookie 'session'"} <= fields
    assert "HTTP query parameter 'cmnd'" not in fields
    text = red.redact("Basic-pw-123 Query-pw-456 Cookie-val-789 Form-pw-000 Set-cookie-val")
    assert "pw-" not in text and "val" not in text
    assert all("pw-" not in json.dumps(r) for r in [conv.to_dict()])


def test_telnet_login_seen_from_the_prompts() -> None:
    down = [b"\xff\xfb\x01\xff\xfb\x03", b"cam login: ", b"admin\r\nPassword: ", b"\r\n# "]
    up = [b"\xff\xfd\x01", b"admin\r\n", b"Telnet-pw-111\r\n"]
    [conv] = describe(conversation((PEER, 50001), (UNIT, 23), up, down), UNIT, redactor=Redactor()).conversations
    assert conv.protocol == "telnet"
    assert {c.field for c in conv.credentials} == {"telnet login name", "telnet password"}
    assert b"Telnet-pw-111" in conv.plaintext  # kept for the planted-value search, never in evidence
    assert "Telnet-pw-111" not in json.dumps(conv.to_dict())


def test_tls_and_ssh_are_encrypted() -> None:
    from scapy.layers.tls.extensions import ServerName, TLS_Ext_ServerName, TLS_Ext_SupportedVersion_CH
    from scapy.layers.tls.handshake import TLSClientHello
    from scapy.layers.tls.record import TLS

    hello = bytes(TLS(msg=[TLSClientHello(ext=[TLS_Ext_ServerName(servernames=[ServerName(servername=b"cloud.example")]),
                                               TLS_Ext_SupportedVersion_CH(versions=[0x0304, 0x0303])])]))
    pkts = conversation((UNIT, 40010), (PEER, 8883), [hello])
    pkts += conversation((PEER, 50002), (UNIT, 22), [b"SSH-2.0-OpenSSH_9.6\r\n"], [b"SSH-2.0-dropbear\r\n"])
    facts = describe(pkts, UNIT, redactor=Redactor())
    by_proto = {c.protocol: c for c in facts.conversations}
    assert set(by_proto) == {"TLS", "SSH"} and all(c.encrypted for c in facts.conversations)
    assert "1.3" in by_proto["TLS"].detail and "cloud.example" in by_proto["TLS"].detail
    assert by_proto["TLS"].credentials == [] and by_proto["TLS"].plaintext == b""


def test_only_the_units_packets_count_and_the_client_is_found_without_syn() -> None:
    pkts = conversation(("127.0.0.1", 40020), (PEER, 1883), [mqtt_connect(b"x", b"other-device-pw")])
    pkts += conversation((UNIT, 40021), (PEER, 1883), [mqtt_publish(b"t", b"v")], syn=False)
    facts = describe(pkts, UNIT, redactor=Redactor())
    [conv] = facts.conversations
    assert conv.client == f"{UNIT}:40021" and conv.unit_is_client
    assert facts.packets == 1


def test_empty_and_unknown_conversations() -> None:
    pkts = conversation((UNIT, 40030), (PEER, 1883), [])
    pkts += conversation((UNIT, 40031), (PEER, 9999), [b"hello there\n"])
    facts = describe(pkts, UNIT, redactor=Redactor())
    assert sorted(c.protocol for c in facts.conversations) == ["empty", "unknown"]


def test_read_capture_from_a_pcap_file(tmp_path: pytest.TempPathFactory) -> None:
    path = tmp_path / "u.pcap"  # type: ignore[operator]
    wrpcap(str(path), conversation((UNIT, 40040), (PEER, 1883), [mqtt_connect(b"u", b"File-pw-222")]))
    # A capture cut inside its last packet (tcpdump killed mid-write) still yields what came before.
    data = path.read_bytes()
    path.write_bytes(data + data[24:40])
    facts = read_capture(path, UNIT, redactor=Redactor())
    assert [c.protocol for c in facts.conversations] == ["MQTT"]
    assert facts.conversations[0].credentials


def test_tls_seen_from_its_middle_is_still_tls() -> None:
    app_data = b"\x17\x03\x03\x00\x20" + bytes(32)
    facts = describe(conversation((UNIT, 40050), (PEER, 8883), [app_data], [app_data], syn=False), UNIT,
                     redactor=Redactor())
    [conv] = facts.conversations
    assert conv.protocol == "TLS" and conv.encrypted and conv.unit_is_client


def test_mqtt_joined_after_its_connect_is_still_mqtt() -> None:
    up = [mqtt_publish(b"cam/1/telemetry", b'{"ssid": "harness-1234"}'), b"\xc0\x00"]  # PUBLISH, PINGREQ
    [conv] = describe(conversation((UNIT, 40060), (PEER, 1883), up, [b"\xd0\x00"], syn=False), UNIT,
                      redactor=Redactor()).conversations
    assert conv.protocol == "MQTT" and "after the CONNECT" in conv.detail
    assert [m.topic for m in conv.messages] == ["cam/1/telemetry"]
    # random binary is not taken for MQTT
    [odd] = describe(conversation((UNIT, 40061), (PEER, 1883), [b"\x35\x99\x01\x02garbage"], syn=False), UNIT,
                     redactor=Redactor()).conversations
    assert odd.protocol == "unknown"


def test_user_names_and_short_values_are_not_turned_into_secrets() -> None:
    red = Redactor()
    req = b"GET /cm?user=admin&password=Long-enough-1&key=1 HTTP/1.1\r\nHost: x\r\n\r\n"
    [conv] = describe(conversation((PEER, 50003), (UNIT, 80), [req]), UNIT, redactor=red).conversations
    assert {"HTTP query parameter 'user'", "HTTP query parameter 'password'", "HTTP query parameter 'key'"} \
        <= {c.field for c in conv.credentials}
    assert red.redact("admin set key 1 with Long-enough-1") == "admin set key 1 with «redacted»"
