"""5.5-1 TLS judgement: every rule both ways, recorded sslyze results (Heartbleed, ROBOT), and
missing data is never a PASS. No network: facts are built here or read from fixtures/tls/."""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import replace
from pathlib import Path

import pytest

from harness.checks import tls_policies
from harness.checks.crypto import CertificateFact, CipherSuiteFact, TlsFacts, judge_tls
from harness.links.tls import TlsUnreachable, facts_from_sslyze_json
from harness.verdict import CheckResult, Verdict

ROOT = Path(__file__).resolve().parents[2]
RECORDED = ROOT / "fixtures" / "tls"
GCM = "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256"


def findings(result: CheckResult) -> list[str]:
    return [e.name for e in result.evidence if e.kind == "finding"]


def advisories(result: CheckResult) -> list[str]:
    return [e.data for e in result.evidence if e.kind == "observation" and e.name == "advisory"]


def recorded(name: str) -> dict:
    return json.loads((RECORDED / name).read_text(encoding="utf-8"))


def good_facts(**changes) -> TlsFacts:
    """An endpoint that meets Mozilla intermediate: TLS 1.2 + 1.3, ECDHE-GCM, P-256 certificate."""
    x25519 = {"kx_type": "ECDH", "kx_bits": 253, "kx_curve": "X25519"}
    facts = TlsFacts(
        host="192.0.2.1", port=443,
        versions={"SSL 2.0": False, "SSL 3.0": False, "TLS 1.0": False, "TLS 1.1": False,
                  "TLS 1.2": True, "TLS 1.3": True},
        cipher_suites={v: [] for v in ("SSL 2.0", "SSL 3.0", "TLS 1.0", "TLS 1.1")}
        | {"TLS 1.2": [CipherSuiteFact(GCM, "ECDHE-ECDSA-AES128-GCM-SHA256", 128, **x25519)],
           "TLS 1.3": [CipherSuiteFact("TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256", 128, **x25519)]},
        certificates=[CertificateFact("EC", 256, "secp256r1", "ecdsa-with-SHA256", "sha256", 256,
                                      "2026-01-01T00:00:00+00:00", "2026-03-01T00:00:00+00:00", "CN=dev")],
        curves=["X25519", "secp256r1", "secp384r1"], heartbleed=False, robot="NOT_VULNERABLE_RSA_NOT_SUPPORTED",
        scanner="test")
    for key, value in changes.items():
        setattr(facts, key, value)
    return facts


def with_suite(version: str, suite: CipherSuiteFact, facts: TlsFacts | None = None) -> TlsFacts:
    facts = facts or good_facts()
    facts.versions[version] = True
    facts.cipher_suites[version] = [*facts.cipher_suites.get(version, []), suite]
    return facts


# --- the good configuration -----------------------------------------------------------------------

@pytest.mark.parametrize("policy", ["rfc8996", "mozilla-intermediate"])
def test_good_configuration_passes_and_lists_what_was_checked(policy):
    result = judge_tls(good_facts(), policy)
    assert result.verdict == Verdict.PASS, result.reason
    assert "checked protocol versions" in result.reason and "ROBOT" in result.reason
    assert any(e.name == "policy" for e in result.evidence)
    assert findings(result) == []


def test_default_policy_is_mozilla_intermediate():
    result = judge_tls(with_suite("TLS 1.2", CipherSuiteFact("TLS_RSA_WITH_AES_128_CBC_SHA")))
    assert findings(result) == ["Mozilla intermediate: cipher TLS_RSA_WITH_AES_128_CBC_SHA not allowed (TLS 1.2)"]


def test_unknown_policy_is_refused():
    with pytest.raises(ValueError, match="unknown TLS policy"):
        judge_tls(good_facts(), "mozilla-old")


# --- protocol versions ----------------------------------------------------------------------------

@pytest.mark.parametrize(("version", "rule"), [("SSL 2.0", "RFC 6176"), ("SSL 3.0", "RFC 7568"),
                                               ("TLS 1.0", "RFC 8996"), ("TLS 1.1", "RFC 8996")])
@pytest.mark.parametrize("policy", tls_policies.TLS_POLICY_NAMES)
def test_deprecated_version_fails_under_every_policy(version, rule, policy):
    facts = good_facts()
    if policy == "mozilla-modern":
        facts.versions["TLS 1.2"] = False
    assert judge_tls(facts, policy).verdict == Verdict.PASS
    facts.versions[version] = True
    result = judge_tls(facts, policy)
    assert result.verdict == Verdict.FAIL
    assert f"{rule}: {version} accepted" in findings(result)


def test_modern_refuses_tls12_intermediate_allows_it():
    facts = good_facts()
    assert "Mozilla modern: TLS 1.2 not allowed" in findings(judge_tls(facts, "mozilla-modern"))
    assert judge_tls(facts, "mozilla-intermediate").verdict == Verdict.PASS


def test_unknown_version_support_is_inconclusive_never_pass():
    facts = good_facts()
    del facts.versions["TLS 1.0"]
    facts.errors["TLS 1.0"] = "ERROR CONNECTIVITY_ISSUE: timed out"
    result = judge_tls(facts, "rfc8996")
    assert result.verdict == Verdict.INCONCLUSIVE
    assert "TLS 1.0 support (ERROR CONNECTIVITY_ISSUE: timed out)" in result.reason
    facts.versions["TLS 1.1"] = True  # a defect seen elsewhere still stands
    assert judge_tls(facts, "rfc8996").verdict == Verdict.FAIL


# --- cipher suites and key exchange ---------------------------------------------------------------

def test_cipher_not_in_mozilla_list_fails_only_under_mozilla():
    facts = with_suite("TLS 1.2", CipherSuiteFact("TLS_RSA_WITH_AES_128_CBC_SHA", "AES128-SHA", 128))
    assert judge_tls(facts, "rfc8996").verdict == Verdict.PASS
    result = judge_tls(facts, "mozilla-intermediate")
    assert findings(result) == ["Mozilla intermediate: cipher TLS_RSA_WITH_AES_128_CBC_SHA not allowed (TLS 1.2)"]


def test_cipher_accepted_in_several_versions_is_one_finding_naming_them():
    facts = good_facts()
    facts.versions["TLS 1.0"] = True
    suite = CipherSuiteFact("TLS_RSA_WITH_AES_128_CBC_SHA")
    facts.cipher_suites["TLS 1.0"] = [suite]
    facts.cipher_suites["TLS 1.2"].append(suite)
    result = judge_tls(facts, "mozilla-intermediate")
    assert "Mozilla intermediate: cipher TLS_RSA_WITH_AES_128_CBC_SHA not allowed (TLS 1.0, TLS 1.2)" in findings(result)
    assert "RFC 8996: TLS 1.0 accepted" in findings(result)


def test_tls13_suite_outside_the_list_fails():
    facts = with_suite("TLS 1.3", CipherSuiteFact("TLS_AES_128_CCM_8_SHA256"))
    assert findings(judge_tls(facts)) == ["Mozilla intermediate: cipher TLS_AES_128_CCM_8_SHA256 not allowed (TLS 1.3)"]


def test_small_dh_group_fails_2048_passes():
    suite = CipherSuiteFact("TLS_DHE_RSA_WITH_AES_128_GCM_SHA256", kx_type="DH", kx_bits=1024)
    result = judge_tls(with_suite("TLS 1.2", suite))
    assert findings(result) == [
        "Mozilla intermediate: DH key exchange DH group 1024 bits < 2048 (TLS_DHE_RSA_WITH_AES_128_GCM_SHA256 (TLS 1.2))"]
    assert judge_tls(with_suite("TLS 1.2", replace(suite, kx_bits=2048))).verdict == Verdict.PASS


def test_x25519_reported_as_253_bits_is_not_small():
    suite = CipherSuiteFact(GCM, kx_type="ECDH", kx_bits=253, kx_curve="X25519")
    assert judge_tls(with_suite("TLS 1.2", suite)).verdict == Verdict.PASS
    small = CipherSuiteFact(GCM, kx_type="ECDH", kx_bits=192, kx_curve="secp192r1")
    assert "ECDH key exchange secp192r1 192 bits < 256" in " ".join(findings(judge_tls(with_suite("TLS 1.2", small))))


def test_small_group_fails_strong_group_outside_the_list_is_advisory():
    result = judge_tls(good_facts(curves=["X25519", "X448", "secp521r1"]))
    assert result.verdict == Verdict.PASS
    assert any("X448" in a for a in advisories(result))
    result = judge_tls(good_facts(curves=["X25519", "secp160r1"]))
    assert findings(result) == ["Mozilla intermediate: key exchange group secp160r1 (160 bits) < 256"]


def test_groups_not_scanned_is_inconclusive_under_mozilla_not_rfc():
    facts = good_facts(curves=None)
    assert judge_tls(facts, "mozilla-intermediate").verdict == Verdict.INCONCLUSIVE
    assert judge_tls(facts, "rfc8996").verdict == Verdict.PASS


# --- certificate ----------------------------------------------------------------------------------

def rsa_cert(bits: int = 2048, sig: str = "sha256WithRSAEncryption", hash_: str | None = "sha256",
             hash_bits: int | None = 256) -> CertificateFact:
    return CertificateFact("RSA", bits, None, sig, hash_, hash_bits, "2026-01-01T00:00:00+00:00",
                           "2026-06-01T00:00:00+00:00", "CN=dev")


def test_rsa_1024_fails_2048_passes():
    assert judge_tls(good_facts(certificates=[rsa_cert(2048)])).verdict == Verdict.PASS
    result = judge_tls(good_facts(certificates=[rsa_cert(1024)]))
    assert findings(result) == ["certificate RSA key 1024 bits < 2048"]
    assert judge_tls(good_facts(certificates=[rsa_cert(1024)]), "rfc8996").verdict == Verdict.PASS


@pytest.mark.parametrize(("sig", "hash_", "bits", "text"), [
    ("sha1WithRSAEncryption", "sha1", 160, "certificate signature sha1WithRSAEncryption: SHA-1 signature"),
    ("md5WithRSAEncryption", "md5", 128, "certificate signature md5WithRSAEncryption: MD5 signature"),
    ("sha224WithRSAEncryption", "sha224", 224,
     "certificate signature sha224WithRSAEncryption: hash sha224 (224 bits) weaker than SHA-256"),
])
def test_weak_signature_hash_fails(sig, hash_, bits, text):
    assert findings(judge_tls(good_facts(certificates=[rsa_cert(2048, sig, hash_, bits)]))) == [text]


def test_strong_signature_not_named_by_mozilla_is_advisory_only():
    result = judge_tls(good_facts(certificates=[rsa_cert(2048, "sha384WithRSAEncryption", "sha384", 384)]))
    assert result.verdict == Verdict.PASS
    assert any("sha384WithRSAEncryption" in a for a in advisories(result))


def test_key_type_outside_the_policy_fails():
    ed = CertificateFact("Ed25519", 256, None, "ed25519", None, None)
    assert "Mozilla intermediate: certificate key type Ed25519 not allowed (allowed: EC, RSA)" in findings(
        judge_tls(good_facts(certificates=[ed])))
    modern = good_facts(certificates=[rsa_cert(2048)])
    modern.versions["TLS 1.2"] = False
    assert findings(judge_tls(modern, "mozilla-modern")) == [
        "Mozilla modern: certificate key type RSA not allowed (allowed: EC)"]


def test_ec_curve_small_fails_strong_unlisted_is_advisory():
    p521 = CertificateFact("EC", 521, "secp521r1", "ecdsa-with-SHA512", "sha512", 512)
    result = judge_tls(good_facts(certificates=[p521]))
    assert result.verdict == Verdict.PASS and any("secp521r1" in a for a in advisories(result))
    p192 = CertificateFact("EC", 192, "secp192r1", "ecdsa-with-SHA256", "sha256", 256)
    assert findings(judge_tls(good_facts(certificates=[p192]))) == ["certificate EC key secp192r1 192 bits < 256"]


def test_long_lifespan_is_an_advisory_not_a_finding():
    cert = rsa_cert()
    cert.not_after = "2046-01-01T00:00:00+00:00"
    result = judge_tls(good_facts(certificates=[cert]))
    assert result.verdict == Verdict.PASS
    assert any("lifespan" in a for a in advisories(result))


def test_missing_certificate_is_inconclusive():
    facts = good_facts(certificates=[])
    facts.errors["certificate"] = "ERROR BUG_IN_SSLYZE"
    result = judge_tls(facts)
    assert result.verdict == Verdict.INCONCLUSIVE and "certificate (ERROR BUG_IN_SSLYZE)" in result.reason


# --- Heartbleed and ROBOT, on recorded sslyze results -----------------------------------------------

def test_recorded_clean_scan_passes():
    facts = facts_from_sslyze_json(recorded("clean.json"))
    assert facts.heartbleed is False and facts.robot == "NOT_VULNERABLE_RSA_NOT_SUPPORTED"
    assert facts.versions_accepted == ["TLS 1.2", "TLS 1.3"] and facts.errors == {}
    assert facts.scanner.startswith("sslyze ")
    for policy in ("rfc8996", "mozilla-intermediate"):
        assert judge_tls(facts, policy).verdict == Verdict.PASS


@pytest.mark.parametrize("policy", ["rfc8996", "mozilla-intermediate"])
def test_recorded_heartbleed_fails_on_exactly_heartbleed(policy):
    facts = facts_from_sslyze_json(recorded("heartbleed.json"))
    result = judge_tls(facts, policy)
    assert findings(result) == ["Heartbleed (CVE-2014-0160): the server answers heartbeats with its memory"]
    assert judge_tls(replace(facts, heartbleed=False), policy).verdict == Verdict.PASS


def test_recorded_robot_fails_on_exactly_robot():
    facts = facts_from_sslyze_json(recorded("robot.json"))
    assert facts.robot == "VULNERABLE_STRONG_ORACLE"
    result = judge_tls(facts, "rfc8996")
    assert findings(result) == ["ROBOT: VULNERABLE_STRONG_ORACLE (RSA PKCS#1 v1.5 decryption padding oracle)"]
    assert judge_tls(replace(facts, robot="NOT_VULNERABLE_NO_ORACLE"), "rfc8996").verdict == Verdict.PASS
    assert "ROBOT: VULNERABLE_WEAK_ORACLE" in findings(judge_tls(replace(facts, robot="VULNERABLE_WEAK_ORACLE"),
                                                                 "rfc8996"))[0]
    # The server behind the recording offers static RSA key exchange: intermediate also says so.
    assert "Mozilla intermediate: cipher TLS_RSA_WITH_AES_128_GCM_SHA256 not allowed (TLS 1.2)" in findings(
        judge_tls(facts))


def test_robot_inconsistent_or_missing_is_inconclusive():
    facts = facts_from_sslyze_json(recorded("clean.json"))
    assert judge_tls(replace(facts, robot="UNKNOWN_INCONSISTENT_RESULTS")).verdict == Verdict.INCONCLUSIVE
    assert judge_tls(replace(facts, robot=None)).verdict == Verdict.INCONCLUSIVE
    assert judge_tls(replace(facts, heartbleed=None)).verdict == Verdict.INCONCLUSIVE


def test_scan_command_error_in_recording_becomes_an_inconclusive_part():
    data = recorded("heartbleed.json")
    attempt = data["server_scan_results"][0]["scan_result"]["robot"]
    attempt.update(status="ERROR", error_reason="CONNECTIVITY_ISSUE", result=None,
                   error_trace="Traceback...\nsslyze.errors.ConnectionToServerTimedOut: timed out\n")
    facts = facts_from_sslyze_json(data)
    assert facts.robot is None
    assert facts.errors["robot"] == "ERROR CONNECTIVITY_ISSUE: sslyze.errors.ConnectionToServerTimedOut: timed out"
    assert judge_tls(facts).verdict == Verdict.FAIL  # Heartbleed was still seen
    assert judge_tls(replace(facts, heartbleed=False)).verdict == Verdict.INCONCLUSIVE


def test_recording_without_connectivity_raises_tls_unreachable():
    data = recorded("clean.json")
    server = data["server_scan_results"][0]
    server.update(connectivity_status="ERROR", scan_status="ERROR_NO_CONNECTIVITY", scan_result=None,
                  connectivity_result=None,
                  connectivity_error_trace="Traceback...\nsslyze.errors.ConnectionToServerFailed: refused\n")
    with pytest.raises(TlsUnreachable, match="ConnectionToServerFailed: refused"):
        facts_from_sslyze_json(data)


def test_a_single_server_result_is_accepted_and_malformed_json_refused():
    data = recorded("clean.json")
    assert facts_from_sslyze_json(data["server_scan_results"][0]).versions_accepted == ["TLS 1.2", "TLS 1.3"]
    broken = copy.deepcopy(data)
    broken["server_scan_results"][0]["scan_result"]["heartbleed"]["result"] = {"vulnerable": "maybe"}
    with pytest.raises(ValueError, match="not an sslyze JSON result"):
        facts_from_sslyze_json(broken)


def test_facts_round_trip_through_json():
    facts = facts_from_sslyze_json(recorded("robot.json"))
    again = TlsFacts.from_dict(json.loads(json.dumps(facts.to_dict())))
    assert again == facts


# --- policy data ----------------------------------------------------------------------------------

def test_policy_data_is_mozilla_5_7_as_sslyze_ships_it():
    ours = (ROOT / "harness" / "checks" / "data" / tls_policies.MOZILLA_FILE).read_bytes()
    assert hashlib.sha256(ours).hexdigest() == "e1949c058738e18bbbc67197b215666589530222f9183ce2ff223445f235a340"
    import sslyze.mozilla_tls_profile as bundled

    theirs = Path(bundled.__file__).parent / "5.7.json"
    if not theirs.exists():
        pytest.skip("this sslyze no longer bundles 5.7.json")
    assert theirs.read_bytes() == ours


def test_intermediate_policy_values():
    pol = tls_policies.tls_policy("mozilla-intermediate")
    assert pol.versions == {"TLS 1.2", "TLS 1.3"} and pol.rsa_min_bits == 2048 and pol.dh_min_bits == 2048
    assert "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256" in pol.ciphers  # the 5.7 addition
    assert "secp256r1" in pol.tls_curves  # Mozilla's prime256v1, under its SECG name
