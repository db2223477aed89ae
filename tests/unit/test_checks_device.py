"""The device-behaviour judges (5.4-1, 5.4-2, 5.4-3, 5.5-4, 5.7-2, 5.8-3), each both ways."""

from __future__ import annotations

import base64

import pytest

from harness.cases.functions import probe_procedure
from harness.cases.sensors import reported_sensors
from harness.checks.firmware_secrets import ScannedImage, SecretFinding, judge_hardcoded_secrets, scan_image
from harness.checks.functions import FunctionProbe, judge_functions_need_auth
from harness.checks.identity import IdentityWrite, judge_identity_tamper
from harness.checks.sensors import DeclaredSensor, judge_sensors_documented
from harness.checks.storage import KnownSecret, StoredLocation, found_form, judge_secrets_at_rest
from harness.checks.tamper import TamperObservation, judge_tamper_response
from harness.verdict import Verdict

PSK = "Zq3-harness-psk-8812"
SECRETS = [KnownSecret("wifi-psk", "the Wi-Fi key the harness stored", PSK),
           KnownSecret("admin-password", "the account's current password", "Other-Pass-1")]
SEALED = "[wifi]\nssid = home\npsk = enc:v1:iVXgM089T13Mo8nSLG5Yc/ZFEuiQlbQg/MkDzL290/9xcbsiMiOYXvU\n"


# -- 5.4-1-2 -----------------------------------------------------------------------------------------
def test_sealed_storage_passes_with_what_was_read() -> None:
    r = judge_secrets_at_rest([StoredLocation("wifi-psk", "/etc/simiot/config", SEALED)], SECRETS)
    assert r.verdict == Verdict.PASS and "/etc/simiot/config" in r.reason


@pytest.mark.parametrize("stored", [PSK, base64.b64encode(PSK.encode()).decode(), PSK.encode().hex().upper()])
def test_a_secret_in_clear_or_merely_encoded_fails_without_its_value(stored: str) -> None:
    content = SEALED.replace("enc:v1:iVXgM089T13Mo8nSLG5Yc/ZFEuiQlbQg/MkDzL290/9xcbsiMiOYXvU", stored)
    r = judge_secrets_at_rest([StoredLocation("wifi-psk", "/etc/simiot/config", content)], SECRETS)
    assert r.verdict == Verdict.FAIL
    assert "wifi-psk" in r.reason and "/etc/simiot/config" in r.reason
    assert PSK not in repr(r)


def test_an_unreadable_location_or_no_known_secret_is_inconclusive() -> None:
    unread = [StoredLocation("wifi-psk", "/etc/simiot/config", SEALED), StoredLocation("token", "/data/tok", None, "timeout")]
    assert judge_secrets_at_rest(unread, SECRETS).verdict == Verdict.INCONCLUSIVE
    assert judge_secrets_at_rest([StoredLocation("p", "/x", SEALED)], [KnownSecret("p", "short", "abc")]).verdict \
        == Verdict.INCONCLUSIVE
    assert "10-SecParam" in judge_secrets_at_rest([], SECRETS).reason


def test_found_form_names_the_encoding() -> None:
    assert found_form(f"x={PSK}", PSK) == "in clear"
    assert found_form(base64.b64encode(PSK.encode()).decode(), PSK) == "Base64 of the clear value"
    assert found_form("nothing here", PSK) is None


# -- 5.4-2-2 -----------------------------------------------------------------------------------------
def test_identity_refused_and_unchanged_passes_changed_fails() -> None:
    ok = IdentityWrite("write_identity", "SIM-C-0001", "TAMPER-1", "rejected", "SIM-C-0001")
    assert judge_identity_tamper([ok]).verdict == Verdict.PASS
    changed = IdentityWrite("write_identity", "SIM-C-0001", "TAMPER-1", "ok", "TAMPER-1")
    r = judge_identity_tamper([ok, changed])
    assert r.verdict == Verdict.FAIL and "TAMPER-1" in r.reason


@pytest.mark.parametrize("write", [
    IdentityWrite("write_identity", "SIM-C-0001", "T", "ok", "SIM-C-0001"),  # claimed, not shown
    IdentityWrite("write_identity", "SIM-C-0001", "T", "timeout", "SIM-C-0001"),  # silence
    IdentityWrite("write_identity", None, "T", "not run", None),
    IdentityWrite("write_identity", "SIM-C-0001", "T", "rejected", None),
])
def test_identity_without_a_shown_refusal_or_read_back_is_inconclusive(write: IdentityWrite) -> None:
    assert judge_identity_tamper([write]).verdict == Verdict.INCONCLUSIVE


# -- 5.4-3-2 -----------------------------------------------------------------------------------------
PEM = (b"-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f\n"
       b"-----END PRIVATE KEY-----\n")
DER_ED25519 = bytes.fromhex("302e020100300506032b657004220420") + bytes(range(32))


def test_scan_finds_keys_default_passwords_tokens_and_declared_secrets() -> None:
    image = (b"HDR" + bytes(40) + PEM + b"\x00" + DER_ED25519 + b"\nservice_password=changeme\n"
             b"api_key: 'x9F2kLq8Zr4TnB7wYp3Vd6Hs'\nlabel=Kd8s-Lq2m-Xz9p\n")
    kinds = [f.kind for f in scan_image(image, {"changeme"}, {"label password of U1/admin": "Kd8s-Lq2m-Xz9p"})]
    assert kinds.count("PEM private key") == 1
    assert "DER PKCS#8 private key" in kinds
    assert "default password in a credential assignment" in kinds
    assert "high-entropy secret in a credential assignment" in kinds
    assert "declared secret" in kinds
    findings = scan_image(image, {"changeme"}, {"label password of U1/admin": "Kd8s-Lq2m-Xz9p"})
    assert all("x9F2kLq8" not in f.detail and "Kd8s" not in f.detail for f in findings)


def test_scan_ignores_placeholders_and_ordinary_payload() -> None:
    image = b"block 000: ABCDEFGHIJKLMNOPQRSTUVWXYZ\npassword=%s\npasswd: ${PASSWORD}\ntoken=abc\n" * 20
    assert scan_image(image, {"admin", "1234"}, {"short": "admin"}) == []


def test_judge_hardcoded_secrets_both_ways() -> None:
    clean = ScannedImage("updates.valid", 4230)
    assert judge_hardcoded_secrets([clean]).verdict == Verdict.PASS
    dirty = ScannedImage("updates.valid", 4230, [SecretFinding(0x1064, "PEM private key", "PRIVATE KEY block")])
    r = judge_hardcoded_secrets([clean, dirty])
    assert r.verdict == Verdict.FAIL and "0x1064" in r.reason
    assert judge_hardcoded_secrets([ScannedImage("updates.valid", 0, [], "cannot read")]).verdict == Verdict.INCONCLUSIVE


# -- 5.5-4-2 -----------------------------------------------------------------------------------------
def test_functions_refused_by_a_live_unit_pass_an_answer_fails() -> None:
    refused = FunctionProbe("logs", "probe_logs", "rejected", "HTTP 401", alive_after=True)
    assert judge_functions_need_auth([refused]).verdict == Verdict.PASS
    answered = FunctionProbe("reboot", "probe_reboot", "ok", "HTTP 202")
    r = judge_functions_need_auth([refused, answered])
    assert r.verdict == Verdict.FAIL and "reboot" in r.reason


@pytest.mark.parametrize("probe", [
    FunctionProbe("logs", "probe_logs", "rejected", alive_after=False),
    FunctionProbe("logs", "probe_logs", "timeout"),
    FunctionProbe("logs", "probe_logs", "http_404"),
    FunctionProbe("logs", "probe_logs", "not_probed", "the profile declares no such procedure"),
])
def test_functions_without_a_shown_refusal_are_inconclusive(probe: FunctionProbe) -> None:
    assert judge_functions_need_auth([probe]).verdict == Verdict.INCONCLUSIVE


def test_probe_procedure_prefers_the_declared_field() -> None:
    class Svc:
        name, probe = "wifi-scan", None
    assert probe_procedure(Svc()) == "probe_wifi_scan"
    Svc.probe = "call_scan"
    assert probe_procedure(Svc()) == "call_scan"


# -- 5.7-2-2 -----------------------------------------------------------------------------------------
def test_tamper_alert_and_restriction_pass() -> None:
    r = judge_tamper_response(TamperObservation("ok", "ok", False, True, network_before=True))
    assert r.verdict == Verdict.PASS


@pytest.mark.parametrize("obs", [
    TamperObservation("ok", "absent", False, True, True),  # no alert
    TamperObservation("ok", "ok", True, True, True),  # still answering
])
def test_tamper_without_alert_or_restriction_fails(obs: TamperObservation) -> None:
    assert judge_tamper_response(obs).verdict == Verdict.FAIL


@pytest.mark.parametrize("obs", [
    None,
    TamperObservation("timeout", "", None, None),
    TamperObservation("ok", "ok", False, False, True),  # silent because dead
    TamperObservation("ok", "ok", False, True, False),  # never answered at all
    TamperObservation("ok", "", False, True, True),  # no way to see the alert
])
def test_tamper_that_proves_nothing_is_inconclusive(obs: TamperObservation | None) -> None:
    assert judge_tamper_response(obs).verdict == Verdict.INCONCLUSIVE


# -- 5.8-3-1 -----------------------------------------------------------------------------------------
PAGE = "<h2>Sensors</h2><p>A temperature sensor and a humidity sensor.</p>"
DECLARED = [DeclaredSensor("temperature", "temperature", "https://x/spec", PAGE),
            DeclaredSensor("humidity", "humidity", "https://x/spec", PAGE)]


def test_documented_sensors_pass_an_undeclared_microphone_fails() -> None:
    assert judge_sensors_documented(["temperature", "humidity"], DECLARED).verdict == Verdict.PASS
    r = judge_sensors_documented(["temperature", "humidity", "microphone"], DECLARED)
    assert r.verdict == Verdict.FAIL and "microphone" in r.reason


def test_a_declared_sensor_its_page_does_not_name_fails() -> None:
    declared = [DeclaredSensor("microphone", "microphone", "https://x/spec", PAGE)]
    assert judge_sensors_documented(["microphone"], declared).verdict == Verdict.FAIL


@pytest.mark.parametrize("reported,declared", [
    (None, DECLARED), ([], DECLARED),
    (["temperature"], [DeclaredSensor("temperature", None, "https://x/spec", None, "HTTP 404")]),
    (["temperature"], [DeclaredSensor("temperature", None, None, None)]),
])
def test_sensors_not_observed_or_documentation_not_read_are_inconclusive(reported: list[str] | None,
                                                                         declared: list[DeclaredSensor]) -> None:
    assert judge_sensors_documented(reported, declared).verdict == Verdict.INCONCLUSIVE


def test_reported_sensors_parsing() -> None:
    assert reported_sensors("temperature  ambient, 0.1 C\r\nhumidity     relative\r\n") == ["temperature", "humidity"]
    assert reported_sensors("temperature, humidity") == ["temperature", "humidity"]
    assert reported_sensors(["a", " "]) == ["a"]
    assert reported_sensors(None) is None
