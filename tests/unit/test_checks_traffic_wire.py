"""5.1-3-2, 5.5-7-2, 5.8-2-2 and the passive part of 5.5-1-2 judged with the facts of a capture:
each FAIL on exactly its defect, PASS without it, INCONCLUSIVE without a capture or a conversation."""

from __future__ import annotations

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

UNIT, BROKER = "127.91.0.1", "127.91.255.1"
TLS = WireConversation(f"{UNIT}:40000 → {BROKER}:8883", "TLS", "ClientHello offering TLS 1.2, 1.3", True, f"{BROKER}:8883")
SSH = WireConversation(f"127.0.0.1:50000 → {UNIT}:22", "SSH", "SSH-2.0-dropbear", False, f"{UNIT}:22")
PLAIN_MQTT = WireConversation(f"{UNIT}:40001 → {BROKER}:1883", "MQTT", "plaintext MQTT 3.1.1 with user name and password",
                              True, f"{BROKER}:1883")
CONNECT_CREDS = [WireCredential(PLAIN_MQTT.conversation, "MQTT", "MQTT CONNECT user name", "the unit"),
                 WireCredential(PLAIN_MQTT.conversation, "MQTT", "MQTT CONNECT password", "the unit")]
NO_CAPTURE = WireView([], [], unavailable="tcpdump cannot capture on lo: permission denied")
PLANTED = [Planted("planted Wi-Fi key", "psk-planted-123", "security"), Planted("planted Wi-Fi name", "harness-ab12", "personal")]


def test_5_1_3_2_plaintext_connect_fails_naming_the_field_not_the_value() -> None:
    r = judge_authentication_channel(WireView([PLAIN_MQTT, TLS], CONNECT_CREDS), [])
    assert r.verdict == "FAIL"
    assert "MQTT CONNECT password" in r.reason and PLAIN_MQTT.conversation in r.reason


def test_5_1_3_2_http_basic_to_the_unit_fails() -> None:
    conv = WireConversation(f"127.0.0.1:50001 → {UNIT}:80", "HTTP", "plaintext HTTP, 1 request(s)", False, f"{UNIT}:80")
    cred = WireCredential(conv.conversation, "HTTP", "HTTP Authorization header (Basic)", "the peer")
    assert judge_authentication_channel(WireView([conv], [cred]), []).verdict == "FAIL"


def test_5_1_3_2_tls_only_passes_with_the_channels_named() -> None:
    r = judge_authentication_channel(WireView([TLS, SSH], [], complete=True), [])
    assert r.verdict == "PASS" and "TLS" in r.reason and "SSH" in r.reason


def test_5_1_3_2_lab_broker_plain_login_fails_even_without_a_capture() -> None:
    logins = [BrokerLogin("plain", "dev-u1", True), BrokerLogin("tls", "dev-u1", True)]
    r = judge_authentication_channel(NO_CAPTURE, logins)
    assert r.verdict == "FAIL" and "plaintext listener" in r.reason


def test_5_1_3_2_without_a_capture_a_tls_login_is_not_enough() -> None:
    logins = [BrokerLogin("plain", "dev-u1", False), BrokerLogin("tls", "dev-u1", True)]
    r = judge_authentication_channel(NO_CAPTURE, logins)
    assert r.verdict == "INCONCLUSIVE" and "permission denied" in r.reason


def test_5_1_3_2_nothing_observed_is_inconclusive() -> None:
    assert judge_authentication_channel(WireView([], []), []).verdict == "INCONCLUSIVE"
    unknown = WireConversation(f"{UNIT}:1 → {BROKER}:9", "unknown", "unrecognised binary", True, f"{BROKER}:9")
    assert judge_authentication_channel(WireView([unknown], []), []).verdict == "INCONCLUSIVE"


def test_5_5_7_2_observed_broker_plaintext_connect_fails() -> None:
    seen = [Observed("observed", "cam/1/state", '{"temp": 21}')]
    r = judge_security_parameters_on_wire(seen, PLANTED, WireView([PLAIN_MQTT], CONNECT_CREDS), transport_known=False)
    assert r.verdict == "FAIL" and "MQTT CONNECT password" in r.reason


def test_5_5_7_2_observed_broker_over_tls_passes_and_needs_the_capture() -> None:
    seen = [Observed("observed", "cam/1/state", '{"temp": 21, "ssid": "harness-ab12"}')]
    assert judge_security_parameters_on_wire(seen, PLANTED, WireView([TLS], [], complete=True), transport_known=False).verdict == "PASS"
    r = judge_security_parameters_on_wire(seen, PLANTED, NO_CAPTURE, transport_known=False)
    assert r.verdict == "INCONCLUSIVE" and "permission denied" in r.reason
    # a capture that saw no broker connection of the unit cannot say over what the messages came
    assert judge_security_parameters_on_wire(seen, PLANTED, WireView([SSH], [], complete=True), transport_known=False).verdict \
        == "INCONCLUSIVE"


def test_5_5_7_2_started_broker_keeps_its_own_transport_knowledge() -> None:
    seen = [Observed("tls", "hub/1/telemetry", '{"temp": 21}')]
    assert judge_security_parameters_on_wire(seen, PLANTED, NO_CAPTURE, transport_known=True).verdict == "PASS"
    leak = [Observed("plain", "hub/1/telemetry", '{"k": "psk-planted-123"}')]
    assert judge_security_parameters_on_wire(leak, PLANTED, NO_CAPTURE, transport_known=True).verdict == "FAIL"


def test_5_8_2_2_personal_data_from_the_wire() -> None:
    wire_plain = [Observed("plain", "MQTT cam/1/state", '{"ssid": "harness-ab12"}')]
    view = WireView([PLAIN_MQTT], [], complete=True)
    assert judge_personal_data_on_wire(wire_plain, PLANTED, view, transport_known=False).verdict == "FAIL"
    observed = [Observed("observed", "cam/1/state", '{"ssid": "harness-ab12"}')]
    assert judge_personal_data_on_wire(observed, PLANTED, WireView([TLS], [], complete=True), transport_known=False).verdict == "PASS"
    assert judge_personal_data_on_wire(observed, PLANTED, NO_CAPTURE, transport_known=False).verdict == "INCONCLUSIVE"


def test_5_5_1_2_passive_broker_channel() -> None:
    assert judge_broker_channel(WireView([PLAIN_MQTT], CONNECT_CREDS), BROKER).verdict == "FAIL"
    assert judge_broker_channel(WireView([TLS], [], complete=True), BROKER).verdict == "PASS"
    assert judge_broker_channel(WireView([SSH], [], complete=True), BROKER).verdict == "INCONCLUSIVE"
    assert judge_broker_channel(NO_CAPTURE, BROKER).verdict == "INCONCLUSIVE"


def test_5_5_1_2_bytes_the_dissector_could_not_place_prove_nothing() -> None:
    odd = WireConversation(f"{UNIT}:40002 → {BROKER}:8883", "unknown", "unrecognised binary", True, f"{BROKER}:8883")
    assert judge_broker_channel(WireView([odd, TLS], [], complete=True), BROKER).verdict == "PASS"
    assert judge_broker_channel(WireView([odd], []), BROKER).verdict == "INCONCLUSIVE"


def test_observed_content_pass_needs_a_whole_publishing_cycle() -> None:
    seen = [Observed("plain", "MQTT cam/1/state (x)", '{"online": true}')]
    view = WireView([PLAIN_MQTT], [], complete=True)
    r = judge_personal_data_on_wire(seen, PLANTED, view, transport_known=False, whole_cycle=False)
    assert r.verdict == "INCONCLUSIVE" and "whole cycle" in r.reason
    assert judge_personal_data_on_wire(seen, PLANTED, view, transport_known=False).verdict == "PASS"
    # a defect seen in the part that was observed stays a FAIL
    leak = [Observed("plain", "MQTT cam/1/telemetry (x)", '{"ssid": "harness-ab12"}')]
    assert judge_personal_data_on_wire(leak, PLANTED, view, transport_known=False, whole_cycle=False).verdict == "FAIL"


def test_a_capture_not_confirmed_complete_never_passes() -> None:
    partial = WireView([TLS, SSH], [], complete=False)
    assert judge_authentication_channel(partial, []).verdict == "INCONCLUSIVE"
    assert judge_broker_channel(partial, BROKER).verdict == "INCONCLUSIVE"
    seen = [Observed("observed", "cam/1/state", '{"temp": 21}')]
    assert judge_security_parameters_on_wire(seen, PLANTED, partial, transport_known=False).verdict == "INCONCLUSIVE"
    # what it did show stays a FAIL
    assert judge_authentication_channel(WireView([PLAIN_MQTT], CONNECT_CREDS), []).verdict == "FAIL"
