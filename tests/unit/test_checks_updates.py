"""Update, secure-boot, model-designation and resilience checks judged on facts, both ways."""

from __future__ import annotations

from harness.checks.resilience import (
    OutageObservation,
    PowerLossObservation,
    judge_broker_outage,
    judge_power_loss,
)
from harness.checks.updates import (
    SECURE_INSTALL_KINDS,
    CampaignRecord,
    UpdateCrypto,
    UpdateRound,
    changed,
    judge_authenticity,
    judge_model_designation,
    judge_negative_update,
    judge_secure_boot,
    judge_secure_installation,
    judge_update_crypto,
    judge_valid_update,
)


def rnd(kind: str, outcome: str, after: str | None, offered: str = "1.5.0", before: str | None = "1.4.2",
        delivered: bool | None = True) -> UpdateRound:
    return UpdateRound(kind, "pkg", offered, outcome, "update: " + outcome, before, after, from_delivered=delivered)


def test_valid_update_both_ways() -> None:
    assert judge_valid_update(rnd("valid", "installed", "1.5.0")).verdict == "PASS"
    assert judge_valid_update(rnd("valid", "refused", "1.4.2")).verdict == "FAIL"
    assert judge_valid_update(rnd("valid", "timeout", None)).verdict == "INCONCLUSIVE"
    # Already at the valid version: the package is not newer, nothing is shown either way.
    assert judge_valid_update(rnd("valid", "installed", "1.5.0", before="1.5.0")).verdict == "INCONCLUSIVE"
    # Ran after a manipulated package was installed: proves nothing about the delivered firmware.
    after_tamper = rnd("valid", "installed", "1.5.0", before="1.5.0", delivered=False)
    r = judge_valid_update(after_tamper)
    assert r.verdict == "INCONCLUSIVE" and "delivered" in r.reason
    assert judge_valid_update(rnd("valid", "refused", "1.5.1", before="1.5.1", delivered=False)).verdict \
        == "INCONCLUSIVE"
    assert judge_valid_update(rnd("valid", "installed", "1.5.0", before=None)).verdict == "INCONCLUSIVE"


def test_unread_version_is_never_a_change() -> None:
    # Seen: "installed a tampered package: None → 4.0.0" after an HTTP 422 and a failed version read.
    unread = rnd("flip_byte", "refused", "4.0.0", offered="4.0.0", before=None)
    assert not changed(unread)
    r = judge_negative_update(unread)
    assert r.verdict == "INCONCLUSIVE" and "before" in r.reason
    assert judge_secure_boot(unread).verdict == "INCONCLUSIVE"
    assert not changed(rnd("flip_byte", "refused", None))
    assert changed(rnd("flip_byte", "refused", "1.5.0"))


def test_negative_updates_both_ways() -> None:
    assert judge_negative_update(rnd("flip_byte", "refused", "1.4.2")).verdict == "PASS"
    assert judge_negative_update(rnd("flip_byte", "installed", "1.5.0")).verdict == "FAIL"
    assert judge_negative_update(rnd("rollback", "installed", "1.4.1", offered="1.4.1")).verdict == "FAIL"
    # Silence is not a refusal, even when the version happens to stay.
    assert judge_negative_update(rnd("strip_signature", "timeout", "1.4.2")).verdict == "INCONCLUSIVE"
    assert judge_negative_update(rnd("strip_signature", "refused", None)).verdict == "INCONCLUSIVE"
    # A refusal on a unit that already runs a manipulated package's version may mean "same version".
    assert judge_negative_update(rnd("strip_signature", "refused", "1.5.0", before="1.5.0",
                                     delivered=False)).verdict == "INCONCLUSIVE"
    rounds = [rnd("flip_byte", "refused", "1.4.2"), rnd("strip_signature", "refused", "1.4.2")]
    assert judge_authenticity(rounds, ("flip_byte", "strip_signature")).verdict == "PASS"
    assert judge_authenticity(rounds, ("flip_byte", "foreign_signature")).verdict == "INCONCLUSIVE"
    rounds.append(rnd("foreign_signature", "installed", "1.5.0"))
    assert judge_authenticity(rounds, ("flip_byte", "foreign_signature")).verdict == "FAIL"


def _secure_rounds() -> list[UpdateRound]:
    return [rnd(k, "refused", "1.4.2") for k in SECURE_INSTALL_KINDS] + [rnd("valid", "installed", "1.5.0")]


def test_secure_installation_both_ways() -> None:
    ok = judge_secure_installation(_secure_rounds())
    assert ok.verdict == "PASS", ok.reason
    # Any manipulated package installed: updates are not installed securely (5.3-2-2 FAIL) even
    # though the valid round could only run afterwards on the manipulated version.
    for kind in SECURE_INSTALL_KINDS:
        rounds = [r for r in _secure_rounds() if r.kind not in (kind, "valid")]
        rounds += [rnd(kind, "installed", "1.5.0"), rnd("valid", "installed", "1.5.0", before="1.5.0",
                                                        delivered=False)]
        r = judge_secure_installation(rounds)
        assert r.verdict == "FAIL" and "not installed securely" in r.reason, (kind, r.reason)
    # A signed downgrade is judged under 5.3-10, not here.
    rounds = _secure_rounds() + [rnd("rollback", "installed", "1.4.1", offered="1.4.1", before="1.5.0",
                                     delivered=None)]
    assert judge_secure_installation(rounds).verdict == "PASS"
    # The valid package refused on the delivered firmware.
    rounds = [r for r in _secure_rounds() if r.kind != "valid"] + [rnd("valid", "refused", "1.4.2")]
    assert judge_secure_installation(rounds).verdict == "FAIL"
    assert judge_secure_installation(_secure_rounds()[:2]).verdict == "INCONCLUSIVE"


def test_campaign_record() -> None:
    kept = CampaignRecord("1.4.2", "1.4.2", "restore_firmware ok")
    assert kept.left_on_delivered and kept.evidence().data[0]["firmware at start"] == "1.4.2"
    assert not CampaignRecord("1.4.2", "1.5.0", "no restore_firmware").left_on_delivered
    assert not CampaignRecord(None, None, "").left_on_delivered


def test_update_crypto_and_secure_boot() -> None:
    assert judge_update_crypto(UpdateCrypto("Ed25519", ["https"], None)).verdict == "PASS"
    assert judge_update_crypto(UpdateCrypto(None, ["http"], None, signature_seen=False)).verdict == "FAIL"
    # A format the harness reads byte by byte: whether it is signed is not known, not a finding.
    assert judge_update_crypto(UpdateCrypto(None, ["http"], None)).verdict == "INCONCLUSIVE"
    assert judge_update_crypto(UpdateCrypto("", [], None)).verdict == "INCONCLUSIVE"
    assert judge_update_crypto(UpdateCrypto("rsa-pkcs1-sha1", ["https"], None)).verdict == "FAIL"
    assert judge_secure_boot(rnd("flip_byte", "refused", "1.4.2")).verdict == "PASS"
    assert judge_secure_boot(rnd("flip_byte", "installed", "1.5.0")).verdict == "FAIL"


def test_model_designation() -> None:
    assert judge_model_designation("model SimIoT Hub H1 rev B", "SimIoT Hub H1").verdict == "PASS"
    assert judge_model_designation("model Generic IoT", "SimIoT Hub H1").verdict == "FAIL"
    assert judge_model_designation(None, "SimIoT Hub H1").verdict == "INCONCLUSIVE"
    assert judge_model_designation("", "SimIoT Hub H1").verdict == "INCONCLUSIVE"
    assert judge_model_designation("model X", " ").verdict == "INCONCLUSIVE"


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
