"""Conceptual rules over the IXIT: each one proven both ways, missing documents, and the cross-check
with the functional verdicts of the same run."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from harness.checks.conceptual import RULES, functional_view, judge
from harness.checks.conceptual.crypto_catalogue import assess
from harness.profile.ixit import Ixit, _split_ixit
from harness.profile.loader import load_profile
from harness.verdict import Verdict

ROOT = Path(__file__).resolve().parents[2]

CONFORMANT: dict[str, Any] = {
    "1-AuthMech": [{
        "id": "owner-login", "factor": "password", "interface": "console", "interfaces": ["web-api"],
        "password_kind": "unique-per-unit", "generation": "per-unit random, 12 characters",
        "brute_force": "lockout for growing periods after 5 failures",
        "security_guarantees": ["integrity", "authenticity"],
        "cryptography": "TLS 1.3 on the web API; passwords stored as Argon2id"}],
    "15-Intf": [
        {"name": "console", "kind": "uart", "status": "enabled", "authenticated": True},
        {"name": "web-api", "kind": "https", "port": "tcp/443", "status": "enabled", "tls": True,
         "description": "configuration by the app"},
        {"name": "jtag", "kind": "jtag", "status": "disabled", "protection": "fused off in production"}],
    "10-SecParam": [
        {"id": "owner-password", "kind": "password", "critical": True, "protects": ["user-authentication"],
         "per_device": True, "hard_coded": False, "protection": "Argon2id hash"},
        {"id": "cloud-key", "kind": "key", "critical": True, "protects": ["associated-services"],
         "per_device": True, "hard_coded": False, "generation": "generated on the device at first boot",
         "protection": "secure element"}],
    "11-ComMech": [{
        "id": "cloud", "protocol": "MQTT over TLS", "remote": True, "peer": "associated-service",
        "security": "TLS 1.2+ with server authentication", "cryptography": "ECDHE, AES-128-GCM",
        "security_guarantees": ["confidentiality", "integrity", "authenticity"],
        "carries": ["cloud-key", "location"]}],
    "13-SoftServ": [{
        "name": "web-api", "interface": "web-api", "status": "enabled", "network": True,
        "needed_for": "configuration by the app", "authenticated": True, "auth_mechanism": "owner-login",
        "allows_configuration": True, "privilege": "svc-web"}],
    "21-PersData": [{
        "data": "location", "sensitive": True, "consent": True, "consent_default": "opt-in",
        "obtaining_consent": "asked in the app before first use", "withdrawing_consent": "app settings, any time"}],
    "25-DelFunc": [{
        "target": "user data", "initiation": "hold the reset button 10 s",
        "covers": ["personal-data", "configuration", "credentials"]}],
}


def ixit(doc: dict[str, Any]) -> Ixit:
    return Ixit.model_validate(_split_ixit(doc))


def mutate(path: str, value: Any) -> Ixit:
    """The conformant IXIT with one field changed: 'doc.index.field' (index may be omitted)."""
    doc = copy.deepcopy(CONFORMANT)
    parts = path.split(".")
    target: Any = doc
    for p in parts[:-1]:
        target = target[int(p)] if p.isdigit() else target[p]
    target[parts[-1]] = value
    return ixit(doc)


# test case → (a change to the conformant IXIT that the rule must FAIL, the words naming the entry)
DEFECTS: dict[str, tuple[str, Any, str]] = {
    "5.1-1-1": ("1-AuthMech.0.password_kind", "shared", "IXIT 1-AuthMech owner-login"),
    "5.1-3-1": ("1-AuthMech.0.cryptography", "HTTP digest with MD5", "IXIT 1-AuthMech owner-login"),
    "5.1-5-1": ("1-AuthMech.0.brute_force", "none", "IXIT 1-AuthMech owner-login"),
    "5.4-1-1": ("10-SecParam.0.protection", "none", "IXIT 10-SecParam owner-password"),
    "5.4-3-1": ("10-SecParam.1.hard_coded", True, "IXIT 10-SecParam cloud-key"),
    "5.4-4-1": ("10-SecParam.1.per_device", False, "IXIT 10-SecParam cloud-key"),
    "5.5-1-1": ("11-ComMech.0.cryptography", "TLS 1.0, RC4", "IXIT 11-ComMech cloud"),
    "5.5-5-1": ("13-SoftServ.0.authenticated", False, "IXIT 13-SoftServ web-api"),
    "5.5-6-1": ("11-ComMech.0.security", "none", "IXIT 11-ComMech cloud"),
    "5.5-7-1": ("11-ComMech.0.security_guarantees", ["integrity", "authenticity"], "IXIT 11-ComMech cloud"),
    "5.6-1-1": ("15-Intf.1.description", "", "IXIT 15-Intf web-api"),
    "5.6-4-1": ("15-Intf.2.status", "enabled", "IXIT 15-Intf jtag"),
    "5.6-5-1": ("13-SoftServ.0.needed_for", "none", "IXIT 13-SoftServ web-api"),
    "5.8-1-1": ("11-ComMech.0.security", "none", "IXIT 11-ComMech cloud"),
    "5.8-2-1": ("11-ComMech.0.cryptography", "SSLv3 with 3DES", "IXIT 11-ComMech cloud"),
    "5.11-1-1": ("25-DelFunc.0.covers", ["configuration"], "IXIT 25-DelFunc"),
    "6-2-1": ("21-PersData.0.consent_default", "opt-out", "IXIT 21-PersData location"),
    "6-3-1": ("21-PersData.0.withdrawing_consent", "none", "IXIT 21-PersData location"),
}


def test_every_rule_is_proven_both_ways() -> None:
    assert set(DEFECTS) == set(RULES)
    assert len(RULES) >= 15


@pytest.mark.parametrize("test_case", sorted(RULES))
def test_conformant_ixit_passes_listing_what_was_checked(test_case: str) -> None:
    r = judge(test_case, ixit(CONFORMANT))
    assert r.verdict == Verdict.PASS, r.reason
    assert r.evidence and r.evidence[0].observed


@pytest.mark.parametrize("test_case", sorted(RULES))
def test_non_conformant_ixit_fails_naming_the_entry(test_case: str) -> None:
    path, value, entry = DEFECTS[test_case]
    r = judge(test_case, mutate(path, value))
    assert r.verdict == Verdict.FAIL, r.reason
    assert entry in r.reason


@pytest.mark.parametrize("test_case", sorted(RULES))
def test_a_missing_document_asks_the_supplier(test_case: str) -> None:
    doc = {k: v for k, v in CONFORMANT.items() if k not in RULES[test_case].reads}
    r = judge(test_case, ixit(doc))
    assert r.verdict == Verdict.PENDING_REVIEW
    assert r.reason.startswith("ask the supplier for IXIT ")
    assert RULES[test_case].reads[0] in r.reason


@pytest.mark.parametrize("path,value,words", [
    ("1-AuthMech.0.password_kind", None, "password_kind"),
    ("1-AuthMech.0.cryptography", "our own cipher", "not in our reference catalogue"),
    ("10-SecParam.1.critical", None, "critical"),
])
def test_an_undeclared_field_stays_with_the_assessor(path: str, value: Any, words: str) -> None:
    test_case = {"1-AuthMech.0.password_kind": "5.1-1-1", "1-AuthMech.0.cryptography": "5.1-3-1",
                 "10-SecParam.1.critical": "5.4-3-1"}[path]
    r = judge(test_case, mutate(path, value))
    assert r.verdict == Verdict.PENDING_REVIEW, r.reason
    assert words in r.reason


def test_a_cleartext_interface_fails_authentication_crypto_whatever_the_details_say() -> None:
    doc = copy.deepcopy(CONFORMANT)
    doc["15-Intf"].append({"name": "telnet", "kind": "telnet", "port": "tcp/23", "status": "enabled"})
    doc["1-AuthMech"][0]["interfaces"].append("telnet")
    r = judge("5.1-3-1", ixit(doc))
    assert r.verdict == Verdict.FAIL and "IXIT 15-Intf telnet" in r.reason


@pytest.mark.parametrize("test_case,change,words", [
    ("5.1-5-1", lambda d: d["15-Intf"].append({"name": "ssh", "kind": "ssh", "port": "tcp/22", "status": "enabled",
                                                "login": "login_ssh"}), "IXIT 15-Intf ssh"),
    ("5.6-5-1", lambda d: d["15-Intf"][1].update(status="disabled"), "declares disabled"),
    ("5.8-1-1", lambda d: d["21-PersData"][0].update(transmitted_via=["bluetooth"]), "'bluetooth'"),
])
def test_inconsistent_ixit_entries_are_asked_about(test_case: str, change: Any, words: str) -> None:
    doc = copy.deepcopy(CONFORMANT)
    change(doc)
    r = judge(test_case, ixit(doc))
    assert r.verdict == Verdict.PENDING_REVIEW, r.reason
    assert words in r.reason


def test_a_vacuous_pass_still_lists_what_was_read() -> None:
    r = judge("5.6-5-1", mutate("13-SoftServ.0.status", "disabled"))
    assert r.verdict == Verdict.PASS and "no software service is enabled by default" in r.reason


def test_plaintext_carrying_nothing_sensitive_goes_to_the_assessor() -> None:
    doc = copy.deepcopy(CONFORMANT)
    doc["11-ComMech"].append({"id": "coap", "security": "none"})
    assert judge("5.5-1-1", ixit(doc)).verdict == Verdict.PENDING_REVIEW


@pytest.mark.parametrize("protection,verdict", [
    ("base64-encoded in the configuration file", Verdict.FAIL),
    ("XOR with a fixed byte", Verdict.FAIL),
    ("DES-encrypted", Verdict.FAIL),
    ("kept in the TPM", Verdict.PASS),
    ("a proprietary vault", Verdict.PENDING_REVIEW),
])
def test_protection_at_rest_is_judged_against_our_catalogue(protection: str, verdict: Verdict) -> None:
    r = judge("5.4-1-1", mutate("10-SecParam.0.protection", protection))
    assert r.verdict == verdict, r.reason


def test_a_carried_parameter_no_document_lists_is_asked_for() -> None:
    r = judge("5.4-1-1", mutate("11-ComMech.0.carries", ["cloud-key", "mystery-secret"]))
    assert r.verdict == Verdict.PENDING_REVIEW and "mystery-secret" in r.reason


# --- functional evidence of the same run ------------------------------------------------------

def records(verdict: str, reason: str = "x") -> dict[tuple[str, str | None], dict[str, Any]]:
    return {("5.1-1-2", "U1"): {"verdict": "PASS", "reason": "ok"},
            ("5.1-1-2", "U2"): {"verdict": verdict, "reason": reason}}


def test_a_functional_fail_contradicts_the_declared_design() -> None:
    functional = functional_view(records("FAIL", "U2 accepts the shared password 'admin'"))
    r = judge("5.1-1-1", ixit(CONFORMANT), functional)
    assert r.verdict == Verdict.FAIL
    assert "5.1-1-2 on U2" in r.reason and "contradicts" in r.reason
    consulted = next(e for e in r.evidence if e.name == "functional results consulted")
    assert {row["unit"] for row in consulted.data} == {"U1", "U2"}


@pytest.mark.parametrize("functional", [None, {}, functional_view(records("INCONCLUSIVE"))])
def test_a_missing_or_unjudged_functional_result_is_not_a_fail(functional: Any) -> None:
    r = judge("5.1-1-1", ixit(CONFORMANT), functional)
    assert r.verdict == Verdict.PASS


def test_a_functional_fail_does_not_turn_an_open_question_into_a_fail() -> None:
    functional = functional_view(records("FAIL"))
    r = judge("5.1-1-1", mutate("1-AuthMech.0.password_kind", None), functional)
    assert r.verdict == Verdict.PENDING_REVIEW


# --- our cryptography catalogue ---------------------------------------------------------------

@pytest.mark.parametrize("text,verdict", [
    ("TLS 1.2+ with ECDHE and AES-GCM", "best-practice"),
    ("TLS 1.2/1.3; TLS 1.0 and 1.1 refused", "best-practice"),
    ("TLS 1.0+, CBC suites, RSA-1024 certificate", "deprecated"),
    ("hmac-sha1", "deprecated"),
    ("SHA-256 signatures", "best-practice"),
    ("a proprietary scrambler", "unknown"),
])
def test_catalogue(text: str, verdict: str) -> None:
    assert assess(text).verdict == verdict


# --- the simulator profiles -------------------------------------------------------------------

LEGACY_FAILS = {"5.1-1-1", "5.1-3-1", "5.1-5-1", "5.4-3-1", "5.5-1-1", "5.5-5-1", "5.5-6-1", "5.5-7-1",
                "5.6-1-1", "5.8-1-1", "5.8-2-1", "5.11-1-1"}


@pytest.mark.parametrize("test_case", sorted(RULES))
def test_sim_compliant_passes_every_rule(test_case: str) -> None:
    profile = load_profile(ROOT / "device_profiles" / "sim-compliant.yaml")
    r = judge(test_case, profile.ixit)
    assert r.verdict == Verdict.PASS, r.reason


def test_sim_legacy_fails_where_its_declared_design_is_non_conformant() -> None:
    profile = load_profile(ROOT / "device_profiles" / "sim-legacy.yaml")
    verdicts = {tc: judge(tc, profile.ixit).verdict for tc in RULES}
    assert {tc for tc, v in verdicts.items() if v == Verdict.FAIL} == LEGACY_FAILS


@pytest.mark.parametrize("persona", ["camera", "plug"])
def test_camera_and_plug_as_their_manuals_describe_them(persona: str) -> None:
    """Where the manual states the design the rules pass; where it is silent they ask, never pass."""
    profile = load_profile(ROOT / "device_profiles" / f"sim-{persona}.yaml")
    verdicts = {tc: judge(tc, profile.ixit).verdict for tc in RULES}
    assert {tc for tc, v in verdicts.items() if v == Verdict.PASS} == {"5.1-1-1", "5.1-5-1", "5.6-1-1", "5.6-4-1"}
    assert {v for tc, v in verdicts.items() if tc not in {"5.1-1-1", "5.1-5-1", "5.6-1-1", "5.6-4-1"}} == {
        Verdict.PENDING_REVIEW}


def test_the_suites_read_the_functional_verdicts_from_the_run_directory(tmp_path: Path) -> None:
    from harness.checks.conceptual.runlog import functional_results
    from harness.results import ResultsLog, TestCaseRecord
    from harness.verdict import CheckResult

    assert functional_results(tmp_path) == {}  # no results log yet: nothing to contradict
    log = ResultsLog(tmp_path)
    log.write(TestCaseRecord.from_check("5.6-4-2", "5.6-4", CheckResult.failed("a shell without authentication on tcp/4444"),
                                        unit="U1"))
    log.write(TestCaseRecord.from_check("5.6-4-2", "5.6-4", CheckResult.inconclusive("unit unreachable"), unit="U2"))
    functional = functional_results(tmp_path)
    assert {r["unit"]: r["verdict"] for r in functional["5.6-4-2"]} == {"U1": "FAIL", "U2": "INCONCLUSIVE"}
    r = judge("5.6-4-1", ixit(CONFORMANT), functional)
    assert r.verdict == Verdict.FAIL and "5.6-4-2 on U1: a shell without authentication" in r.reason
