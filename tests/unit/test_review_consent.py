"""Verdicts the consent and connection judges must not reach on devices unlike the simulator:
a keyword in the device's own acknowledgement, a fixed retry interval within the bound, an
initial burst that backs off within a short watch."""

from __future__ import annotations

from harness.checks.connection import (
    DataItem,
    ReconnectFacts,
    busiest_minute,
    carries,
    judge_orderly_reconnection,
    judge_personal_data_in_transit,
)
from harness.checks.consent import (
    ConsentItem,
    SentMessage,
    Window,
    carried,
    judge_consent_before_processing,
    names_data,
)
from harness.checks.traffic import Observed, WireView
from harness.verdict import Verdict

OWNER = [ConsentItem("owner name", ["owner"]), ConsentItem("usage statistics", ["usage"])]


def test_an_acknowledgement_naming_the_setting_carries_no_data() -> None:
    ack = SentMessage(0.1, "tls", "hub/1/result", '{"Owner": "saved"}')
    assert carried(ack, OWNER) == []
    for payload in ('{"Consent": "1 to consent to usage analytics, 0 to withdraw"}', '{"owner": ""}',
                    '{"owner": null}', '{"usage": false}', '{"Owner": "error: JSON object expected"}'):
        assert carried(SentMessage(0, "tls", "hub/1/result", payload), OWNER) == [], payload


def test_data_under_a_keyword_key_or_topic_is_still_recognised() -> None:
    assert carried(SentMessage(0, "tls", "hub/1/result", '{"Owner": {"name": "Alex", "location": ""}}'),
                   OWNER) == ["owner name"]
    assert carried(SentMessage(0, "tls", "hub/1/usage", '{"active_minutes": 3}'), OWNER) == ["usage statistics"]
    assert carried(SentMessage(0, "tls", "hub/1/event", '{"type": "usage", "n": 3}'), OWNER) == ["usage statistics"]
    assert names_data("t", "owner=Alex&x=1", ["owner"])  # not JSON: any whole word
    assert not names_data("hub/1/usage", '{}', ["usage"])


def test_an_ack_in_the_window_before_consent_is_no_fail() -> None:
    before = Window("before consent", 5.0, [SentMessage(0.2, "tls", "hub/1/result", '{"Owner": "saved"}')])
    after = Window("after consent", 5.0, [SentMessage(0.3, "tls", "hub/1/usage", '{"usage": {"scenes": 3}}')])
    r = judge_consent_before_processing(OWNER, before, after, consent_given=True, connected=True)
    assert r.verdict == Verdict.PASS, r.reason


def test_personal_data_pass_does_not_rest_on_an_acknowledgement() -> None:
    items = [DataItem("owner name", ["owner"])]
    assert carries(Observed("plain", "hub/1/result", '{"Owner": "saved"}'), items, []) == []
    wire = WireView([], [], complete=True)
    only_ack = [Observed("tls", "MQTT hub/1/result", '{"Owner": "saved"}')]
    r = judge_personal_data_in_transit(items, [], only_ack, wire)
    assert r.verdict == Verdict.INCONCLUSIVE, r.reason
    plain_ack = [Observed("plain", "MQTT hub/1/result", '{"Owner": "saved"}'),
                 Observed("tls", "MQTT hub/1/profile", '{"owner": "Alex"}')]
    assert judge_personal_data_in_transit(items, [], plain_ack, wire).verdict == Verdict.PASS


def reconnect(attempts: list[float], outage: float, bound: float) -> ReconnectFacts:
    return ReconnectFacts(attempts, outage, bound, True, True)


def test_a_fixed_retry_interval_within_the_bound_passes() -> None:
    # A Tasmota-style MqttRetry of 10 s: six attempts a minute, declared bound 10.
    r = judge_orderly_reconnection(reconnect([0.0, 10.0, 20.0, 30.0, 40.0, 50.0], 60.0, 10.0))
    assert r.verdict == Verdict.PASS, r.reason


def test_a_burst_that_backs_off_in_a_short_window_is_not_a_fail() -> None:
    # 1 s doubling: 0, 1, 3, 7 within 8 s is 30 per minute at that pace, yet 6 in the whole minute.
    r = judge_orderly_reconnection(reconnect([0.0, 1.0, 3.0, 7.0], 8.0, 10.0))
    assert r.verdict == Verdict.INCONCLUSIVE and "reconnect_window" in r.reason


def test_shown_excess_fails() -> None:
    assert busiest_minute([0.0, 30.0, 59.0, 61.0, 90.0, 119.5]) == 3
    r = judge_orderly_reconnection(reconnect([i * 5.0 for i in range(24)], 120.0, 10.0))
    assert r.verdict == Verdict.FAIL and "within one minute" in r.reason
    jittery = [0.0, 0.05, 0.11, 0.15, 0.21, 0.26, 0.3, 0.36]  # a storm with timing jitter
    r = judge_orderly_reconnection(reconnect(jittery, 2.0, 60.0))
    assert r.verdict == Verdict.FAIL and "backoff" in r.reason


def test_messages_of_an_observed_broker_are_not_plaintext() -> None:
    """Observed-broker mode: the observer cannot tell the transport; only the capture can."""
    items = [DataItem("owner name", ["owner"])]
    seen = [Observed("observed", "MQTT cloud/1/profile (observed broker)", '{"owner": "Alex-1a2b3c"}')]
    r = judge_personal_data_in_transit(items, [], seen, WireView([], [], complete=True))
    assert r.verdict == Verdict.PASS and "no personal data in clear" in r.reason, r.reason
    r = judge_personal_data_in_transit(items, [], seen, WireView([], [], unavailable="capture disabled"))
    assert r.verdict == Verdict.INCONCLUSIVE, r.reason
    clear = seen + [Observed("plain", "MQTT cloud/1/profile (10.0.0.5:40000 > 1.2.3.4:1883)", '{"owner": "Alex"}')]
    r = judge_personal_data_in_transit(items, [], clear, WireView([], [], complete=True))
    assert r.verdict == Verdict.FAIL and "10.0.0.5" in r.reason and "observed broker" not in r.reason


def test_a_retransmitted_syn_is_one_connection_attempt(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from scapy.layers.inet import IP, TCP
    from scapy.utils import wrpcap

    from harness.cases.connection import _syn_times

    def syn(t: float, sport: int, seq: int, flags: str = "S") -> object:
        pkt = IP(src="10.0.0.5", dst="10.0.0.1") / TCP(sport=sport, dport=8883, seq=seq, flags=flags)
        pkt.time = t
        return pkt

    # One attempt nobody answered (the kernel retransmits its SYN at 1 s and 3 s), then a second one.
    packets = [syn(100.0, 40000, 7), syn(101.0, 40000, 7), syn(103.0, 40000, 7), syn(110.0, 40001, 99),
               syn(110.1, 40001, 100, "SA")]
    path = tmp_path / "c.pcap"
    wrpcap(str(path), packets)
    assert _syn_times(path, "10.0.0.5", "10.0.0.1", 8883) == [100.0, 110.0]


def test_a_quiet_window_lasts_at_least_one_publishing_period() -> None:
    from types import SimpleNamespace

    from harness.cases.consent import quiet_seconds, window_seconds

    def device(settle: dict, scale: float = 1.0) -> object:
        return SimpleNamespace(profile=SimpleNamespace(settle=settle), settle_scale=scale)

    # A unit that publishes once a minute: a 10 s watch before consent would see nothing even if it ignored consent.
    assert quiet_seconds(device({"consent_window": 10, "telemetry_interval": 60})) == 60.0  # type: ignore[arg-type]
    assert quiet_seconds(device({"consent_window": 10, "telemetry_interval": 5})) == 10.0  # type: ignore[arg-type]
    assert quiet_seconds(device({"consent_window": 10})) == window_seconds(device({"consent_window": 10}))  # type: ignore[arg-type]
    assert quiet_seconds(device({"telemetry_interval": 60})) is None  # type: ignore[arg-type]
    assert quiet_seconds(device({"consent_window": 10, "telemetry_interval": 60}, 0.1)) == 6.0  # type: ignore[arg-type]


def test_the_update_setting_is_offered_in_the_spellings_devices_use() -> None:
    from harness.cases.update_settings import setting_variables

    assert setting_variables(False) == {"auto_update": "off", "auto_update_bool": "false", "auto_update_number": "0"}
    assert setting_variables(True)["auto_update_number"] == "1"


def test_a_fail_on_every_topic_of_a_shared_broker_is_not_attributed_to_the_unit() -> None:
    from harness.cases.consent import attributed
    from harness.verdict import CheckResult

    fail = CheckResult.failed("consent-based data left the unit before the user consented: usage on hub/2/usage")
    r = attributed(fail, "#")
    assert r.verdict == Verdict.INCONCLUSIVE and "topics.device" in r.reason and "hub/2/usage" in r.reason
    assert attributed(fail, "hub/1/#") is fail
    ok = CheckResult.passed("none")
    assert attributed(ok, "#") is ok


def test_a_setting_applied_later_is_read_back_within_setting_apply() -> None:
    from types import SimpleNamespace

    from harness.cases.update_settings import read_back
    from harness.checks.update_settings import SettingRead, judge_update_setting

    class CloudSynced:
        """The app's switch reaches the unit through the cloud: the third read shows it."""

        def __init__(self, settle: dict) -> None:
            self.profile = SimpleNamespace(settle=settle)
            self.settle_scale = 0.01
            self.reads = 0

        def run(self, procedure: str, **_: str) -> object:
            self.reads += 1
            value = "off" if self.reads >= 3 else "on"
            return SimpleNamespace(ok=True, captures={"auto_update": value}, outcome="ok", detail="")

    device = CloudSynced({"setting_apply": 300})  # 3 s at this scale
    assert read_back(device, "after switching off", False).raw == "off" and device.reads == 3  # type: ignore[arg-type]
    undeclared = CloudSynced({})
    assert read_back(undeclared, "after switching off", False).raw == "on" and undeclared.reads == 1  # type: ignore[arg-type]
    r = judge_update_setting([SettingRead("factory state", "on"), SettingRead("after switching off", "on")])
    assert r.verdict == Verdict.FAIL and "setting_apply" in r.reason
