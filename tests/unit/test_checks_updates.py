"""Update, secure-boot, model-designation and resilience checks judged on facts, both ways."""

from __future__ import annotations

from harness.checks.resilience import (
    FuzzCase,
    OutageObservation,
    PowerLossObservation,
    judge_broker_outage,
    judge_input_validation,
    judge_power_loss,
)
from harness.checks.updates import (
    UpdateCrypto,
    UpdateRound,
    judge_authenticity,
    judge_model_designation,
    judge_negative_update,
    judge_secure_boot,
    judge_update_crypto,
    judge_valid_update,
)


def rnd(kind: str, outcome: str, after: str | None, offered: str = "1.5.0") -> UpdateRound:
    return UpdateRound(kind, "pkg", offered, outcome, "update: " + outcome, "1.4.2", after)


def test_valid_update_both_ways() -> None:
    assert judge_valid_update(rnd("valid", "installed", "1.5.0")).verdict == "PASS"
    assert judge_valid_update(rnd("valid", "refused", "1.4.2")).verdict == "FAIL"
    assert judge_valid_update(rnd("valid", "timeout", None)).verdict == "INCONCLUSIVE"
    same = UpdateRound("valid", "pkg", "1.5.0", "installed", "update: installing 1.5.0", "1.5.0", "1.5.0")
    assert judge_valid_update(same).verdict == "PASS"
    silent = UpdateRound("valid", "pkg", "1.5.0", "refused", "update: rejected", "1.5.0", "1.5.0")
    assert judge_valid_update(silent).verdict == "FAIL"
    after_tamper = UpdateRound("valid", "pkg", "1.5.0", "refused", "rejected: older", "1.5.1", "1.5.1")
    assert judge_valid_update(after_tamper).verdict == "INCONCLUSIVE"


def test_negative_updates_both_ways() -> None:
    assert judge_negative_update(rnd("flip_byte", "refused", "1.4.2")).verdict == "PASS"
    assert judge_negative_update(rnd("flip_byte", "installed", "1.5.0")).verdict == "FAIL"
    assert judge_negative_update(rnd("rollback", "installed", "1.4.1", offered="1.4.1")).verdict == "FAIL"
    # Silence is not a refusal, even when the version happens to stay.
    assert judge_negative_update(rnd("strip_signature", "timeout", "1.4.2")).verdict == "INCONCLUSIVE"
    assert judge_negative_update(rnd("strip_signature", "refused", None)).verdict == "INCONCLUSIVE"
    rounds = [rnd("flip_byte", "refused", "1.4.2"), rnd("strip_signature", "refused", "1.4.2")]
    assert judge_authenticity(rounds, ("flip_byte", "strip_signature")).verdict == "PASS"
    assert judge_authenticity(rounds, ("flip_byte", "foreign_signature")).verdict == "INCONCLUSIVE"
    rounds.append(rnd("foreign_signature", "installed", "1.5.0"))
    assert judge_authenticity(rounds, ("flip_byte", "foreign_signature")).verdict == "FAIL"


def test_update_crypto_and_secure_boot() -> None:
    assert judge_update_crypto(UpdateCrypto("Ed25519", ["https"], None)).verdict == "PASS"
    assert judge_update_crypto(UpdateCrypto(None, ["http"], None)).verdict == "FAIL"
    assert judge_update_crypto(UpdateCrypto("rsa-pkcs1-sha1", ["https"], None)).verdict == "FAIL"
    assert judge_secure_boot(rnd("flip_byte", "refused", "1.4.2")).verdict == "PASS"
    assert judge_secure_boot(rnd("flip_byte", "installed", "1.5.0")).verdict == "FAIL"


def test_model_designation() -> None:
    assert judge_model_designation("model SimIoT Hub H1 rev B", "SimIoT Hub H1").verdict == "PASS"
    assert judge_model_designation("model Generic IoT", "SimIoT Hub H1").verdict == "FAIL"
    assert judge_model_designation(None, "SimIoT Hub H1").verdict == "INCONCLUSIVE"


def test_power_loss_both_ways() -> None:
    keep = PowerLossObservation(True, {"ssid": "Lab"}, {"ssid": "Lab"}, True)
    assert judge_power_loss(keep).verdict == "PASS"
    lost = PowerLossObservation(True, {"ssid": "Lab"}, {"ssid": ""}, True)
    assert judge_power_loss(lost).verdict == "FAIL"
    dead = PowerLossObservation(None, {"ssid": "Lab"}, None, None)
    assert judge_power_loss(dead).verdict == "INCONCLUSIVE"


def test_broker_outage_both_ways() -> None:
    assert judge_broker_outage(OutageObservation(True, True, 3)).verdict == "PASS"
    assert judge_broker_outage(OutageObservation(True, False, 3)).verdict == "FAIL"
    assert judge_broker_outage(OutageObservation(None, True)).verdict == "INCONCLUSIVE"


def test_input_validation_both_ways() -> None:
    fine = [FuzzCase("serial", repr("x" * i), True) for i in range(10)]
    assert judge_input_validation(fine, 10).verdict == "PASS"
    crash = fine[:3] + [FuzzCase("mqtt", "'{\"a\": [[[[['", False)]
    r = judge_input_validation(crash, 10)
    assert r.verdict == "FAIL" and "mqtt" in r.reason
    assert judge_input_validation(fine[:4], 10).verdict == "INCONCLUSIVE"
