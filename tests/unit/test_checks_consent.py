"""The consent, data-in-transit, reconnection and update-setting judges (harness.checks.consent,
connection, update_settings), each proven both ways on hand-made facts."""

from __future__ import annotations

from harness.checks.connection import (
    DataItem,
    ReconnectFacts,
    judge_orderly_reconnection,
    judge_personal_data_in_transit,
    judge_security_parameters_in_transit,
)
from harness.checks.consent import (
    ConsentItem,
    SentMessage,
    Window,
    carried,
    judge_consent_before_processing,
    judge_consent_withdrawal,
)
from harness.checks.traffic import Observed, Planted, WireConversation, WireCredential, WireView
from harness.checks.update_settings import SettingRead, judge_update_setting, reading
from harness.verdict import Verdict

ITEMS = [ConsentItem("usage statistics", ["usage"]), ConsentItem("location", ["location"])]
TELEMETRY = SentMessage(0.1, "tls", "hub/1/telemetry", '{"uptime": 3, "temperature": 21.5}')
USAGE = SentMessage(0.3, "tls", "hub/1/usage", '{"usage": {"scenes_run": 3}, "location": "Tampere-1"}')


def window(label: str, *messages: SentMessage) -> Window:
    return Window(label, 2.0, list(messages))


# -- 6-2-2 -----------------------------------------------------------------------------------------
def test_keywords_match_whole_words_only() -> None:
    assert carried(USAGE, ITEMS) == ["usage statistics", "location"]
    assert carried(SentMessage(0, "tls", "hub/1/telemetry", '{"usages_total": 1, "relocation": 0}'), ITEMS) == []


def test_consent_before_processing_passes_with_silence_then_data() -> None:
    r = judge_consent_before_processing(ITEMS, window("before", TELEMETRY), window("after", TELEMETRY, USAGE),
                                        consent_given=True, connected=True)
    assert r.verdict == Verdict.PASS, r.reason
    assert "usage statistics" in r.reason and "hub/1/usage" in r.reason


def test_data_before_consent_fails_naming_item_and_topic() -> None:
    r = judge_consent_before_processing(ITEMS, window("before", TELEMETRY, USAGE), window("after", USAGE),
                                        consent_given=True, connected=True)
    assert r.verdict == Verdict.FAIL
    assert "location, usage statistics on hub/1/usage" in r.reason
    assert "Tampere-1" not in r.reason  # the item, never the value


def test_consent_before_processing_needs_the_positive_control() -> None:
    r = judge_consent_before_processing(ITEMS, window("before", TELEMETRY), window("after", TELEMETRY),
                                        consent_given=True, connected=True)
    assert r.verdict == Verdict.INCONCLUSIVE and "keywords" in r.reason


def test_consent_before_processing_inconclusive_without_items_connection_or_ack() -> None:
    assert judge_consent_before_processing([], window("b"), window("a"), consent_given=True,
                                           connected=True).verdict == Verdict.INCONCLUSIVE
    assert "21-PersData" in judge_consent_before_processing([], window("b"), window("a"), consent_given=True,
                                                            connected=True).reason
    assert judge_consent_before_processing(ITEMS, window("b"), window("a", USAGE), consent_given=True,
                                           connected=False).verdict == Verdict.INCONCLUSIVE
    assert judge_consent_before_processing(ITEMS, window("b", TELEMETRY), window("a", USAGE), consent_given=False,
                                           connected=True).verdict == Verdict.INCONCLUSIVE


# -- 6-3-2 -----------------------------------------------------------------------------------------
def test_withdrawal_passes_when_data_stops_and_unit_goes_on() -> None:
    r = judge_consent_withdrawal(ITEMS, window("given", USAGE), window("withdrawn", TELEMETRY),
                                 withdrawal_acknowledged=True, alive_after=True)
    assert r.verdict == Verdict.PASS, r.reason


def test_data_after_withdrawal_fails() -> None:
    r = judge_consent_withdrawal(ITEMS, window("given", USAGE), window("withdrawn", TELEMETRY, USAGE),
                                 withdrawal_acknowledged=True, alive_after=True)
    assert r.verdict == Verdict.FAIL and "hub/1/usage" in r.reason


def test_withdrawal_silence_without_proof_of_life_is_inconclusive() -> None:
    # A broker that died during the window would look exactly like this: never a PASS.
    r = judge_consent_withdrawal(ITEMS, window("given", USAGE), window("withdrawn"),
                                 withdrawal_acknowledged=True, alive_after=False)
    assert r.verdict == Verdict.INCONCLUSIVE


def test_withdrawal_needs_data_while_consent_stood_and_an_acknowledgement() -> None:
    assert judge_consent_withdrawal(ITEMS, window("given", TELEMETRY), window("withdrawn", TELEMETRY),
                                    withdrawal_acknowledged=True, alive_after=True).verdict == Verdict.INCONCLUSIVE
    assert judge_consent_withdrawal(ITEMS, window("given", USAGE), window("withdrawn", TELEMETRY),
                                    withdrawal_acknowledged=False, alive_after=True).verdict == Verdict.INCONCLUSIVE


# -- 5.8-1-2 ---------------------------------------------------------------------------------------
DATA = [DataItem("owner name", ["owner"]), DataItem("location", ["location"])]
PLANTED = [Planted("planted location", "Tampere-ab12", "personal")]
TLS_CONV = WireConversation("10.0.0.2:4000 → 10.0.0.1:8883", "TLS", "TLS 1.3", True, "10.0.0.1:8883")


def wire(*convs: WireConversation, complete: bool = True) -> WireView:
    return WireView(list(convs), [], None, complete)


def test_personal_data_only_over_tls_passes() -> None:
    flows = [Observed("tls", "MQTT hub/1/usage", '{"location": "Tampere-ab12"}')]
    r = judge_personal_data_in_transit(DATA, PLANTED, flows, wire(TLS_CONV))
    assert r.verdict == Verdict.PASS and "location" in r.reason


def test_personal_data_in_clear_fails_naming_flow_not_value() -> None:
    flows = [Observed("tls", "MQTT hub/1/usage", '{"location": "Tampere-ab12"}'),
             Observed("plain", "HTTP POST /v1/owner-profile (10.0.0.2:4001 → 10.0.0.1:8883)",
                      '{"owner": "Alex", "location": "Tampere-ab12"}')]
    r = judge_personal_data_in_transit(DATA, PLANTED, flows, wire(TLS_CONV))
    assert r.verdict == Verdict.FAIL
    assert "HTTP POST /v1/owner-profile" in r.reason and "planted location" in r.reason
    assert "Tampere-ab12" not in r.reason


def test_personal_data_pass_needs_a_complete_capture_and_an_observed_flow() -> None:
    flows = [Observed("tls", "MQTT hub/1/usage", '{"location": "x"}')]
    assert judge_personal_data_in_transit(DATA, [], flows, WireView([], [], "no tcpdump")).verdict == Verdict.INCONCLUSIVE
    assert judge_personal_data_in_transit(DATA, [], flows, wire(TLS_CONV, complete=False)).verdict == Verdict.INCONCLUSIVE
    telemetry = [Observed("tls", "MQTT hub/1/telemetry", '{"uptime": 3}')]
    assert judge_personal_data_in_transit(DATA, [], telemetry, wire(TLS_CONV)).verdict == Verdict.INCONCLUSIVE
    assert judge_personal_data_in_transit([], [], flows, wire(TLS_CONV)).verdict == Verdict.INCONCLUSIVE


# -- 5.5-6-2 ---------------------------------------------------------------------------------------
def test_security_parameters_in_transit_shares_the_5_5_7_judgement_with_its_scope() -> None:
    flows = [Observed("tls", "hub/1/telemetry", '{"uptime": 3}')]
    r = judge_security_parameters_in_transit(["wifi-psk"], flows, [], wire(TLS_CONV), transport_known=True)
    assert r.verdict == Verdict.PASS
    assert r.evidence[0].name.startswith("critical security parameters in scope")
    clear = wire(TLS_CONV)
    clear.credentials = [WireCredential("10.0.0.2:4000 → 10.0.0.1:1883", "MQTT", "MQTT CONNECT password", "the unit")]
    assert judge_security_parameters_in_transit(["wifi-psk"], flows, [], clear,
                                                transport_known=True).verdict == Verdict.FAIL
    assert judge_security_parameters_in_transit([], flows, [], clear,
                                                transport_known=True).verdict == Verdict.INCONCLUSIVE


# -- 5.9-3-2 ---------------------------------------------------------------------------------------
def facts(attempts: list[float], outage: float = 10.0, bound: float | None = 30.0, **kw: bool) -> ReconnectFacts:
    return ReconnectFacts(attempts, outage, bound, kw.get("connected_before", True), kw.get("reconnected_after", True))


def test_backoff_within_the_bound_passes() -> None:
    assert judge_orderly_reconnection(facts([0.0, 1.0, 3.0, 7.0])).verdict == Verdict.PASS


def test_a_reconnect_storm_fails() -> None:
    storm = [i * 0.05 for i in range(150)]
    r = judge_orderly_reconnection(facts(storm))
    assert r.verdict == Verdict.FAIL and "per minute" in r.reason


def test_constant_gaps_above_the_bound_fail_as_no_backoff() -> None:
    r = judge_orderly_reconnection(facts([0.0, 0.5, 1.0, 1.5, 2.0], outage=2.5, bound=60.0))
    assert r.verdict == Verdict.FAIL and "backoff" in r.reason


def test_reconnection_inconclusive_without_bound_attempts_or_connection() -> None:
    assert judge_orderly_reconnection(facts([0.0, 1.0], bound=None)).verdict == Verdict.INCONCLUSIVE
    assert judge_orderly_reconnection(facts([])).verdict == Verdict.INCONCLUSIVE
    assert judge_orderly_reconnection(facts([0.0, 1.0], connected_before=False)).verdict == Verdict.INCONCLUSIVE
    assert judge_orderly_reconnection(facts([0.0, 1.0, 3.0], reconnected_after=False)).verdict == Verdict.INCONCLUSIVE


# -- 5.3-6-2 ---------------------------------------------------------------------------------------
def reads(*values: str | None) -> list[SettingRead]:
    steps = ("factory state", "after switching off", "after switching on again")
    return [SettingRead(s, v) for s, v in zip(steps, values, strict=False)]


def test_update_setting_on_off_on_passes() -> None:
    assert judge_update_setting(reads("on", "off", "on")).verdict == Verdict.PASS
    assert reading("Enabled") is True and reading("0") is False and reading("maybe") is None


def test_update_setting_off_by_default_fails() -> None:
    r = judge_update_setting(reads("off", "off", "on"))
    assert r.verdict == Verdict.FAIL and "factory state" in r.reason


def test_update_setting_that_cannot_be_switched_off_fails() -> None:
    assert judge_update_setting(reads("on", "on", "on")).verdict == Verdict.FAIL
    assert judge_update_setting(reads("on", "off", "off")).verdict == Verdict.FAIL


def test_update_setting_unread_is_inconclusive() -> None:
    assert judge_update_setting([]).verdict == Verdict.INCONCLUSIVE
    assert judge_update_setting(reads(None)).verdict == Verdict.INCONCLUSIVE
    assert judge_update_setting(reads("on", "maybe")).verdict == Verdict.INCONCLUSIVE
    assert judge_update_setting(reads("on")).verdict == Verdict.INCONCLUSIVE


def test_the_reconnection_is_awaited_past_the_units_next_backoff() -> None:
    """A unit backing off 2, 4, 8 s is mid-wait when the broker returns: its next attempt may come
    16 s after its last, so the wait covers twice the last gap plus the declared connect time."""
    from types import SimpleNamespace

    from harness.cases.connection import reconnect_wait
    device = SimpleNamespace(profile=SimpleNamespace(settle={"broker_connect": 10}))
    assert reconnect_wait(device, [0.0, 2.0, 6.0, 14.0]) == 10 + 16  # type: ignore[arg-type]
    assert reconnect_wait(device, []) == 10  # type: ignore[arg-type]
