"""5.1 password checks: every rule both ways, silence is never a refusal, secrets never shown."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

from harness.checks import passwords as pw
from harness.verdict import CheckResult, Verdict

ROOT = Path(__file__).resolve().parents[2]
DICTS = ROOT / "fixtures" / "dictionaries"
WORDS = pw.load_wordlist(DICTS / "common-passwords.txt")
MODEL = "SimIoT Hub H1"
MACS = ["02:53:49:A1:7C:31", "02:53:49:5E:90:D4", "02:53:49:C3:2B:7F"]
GOOD = ["Kp7mQ2xZr9Wd", "Ht4vN8bLq2Yc", "Zm3wR6tJk8Pf"]


def facts(passwords: list[str], macs: list[str] | None = None, serials: list[str] | None = None) -> list[pw.UnitFacts]:
    macs = macs or [f"02:53:49:A1:7C:3{i}" for i in range(1, len(passwords) + 1)]
    serials = serials or [f"SIM-C-000{i}" for i in range(1, len(passwords) + 1)]
    return [pw.UnitFacts(f"U{i}", serials[i - 1], macs[i - 1], MODEL, p) for i, p in enumerate(passwords, 1)]


def dumped(result: CheckResult) -> str:
    return json.dumps({"verdict": result.verdict, "reason": result.reason,
                       "evidence": [e.to_dict() for e in result.evidence]}, default=str, ensure_ascii=False)


def assert_no_secret(result: CheckResult, secrets: list[str]) -> None:
    text = dumped(result)
    for s in secrets:
        assert s not in text, f"secret {s!r} leaked into the result"


def rules_fired(result: CheckResult) -> set[str]:
    table = next(e for e in result.evidence if e.name.startswith("label password analysis"))
    return {r for row in table.data for r in row["rules fired"]}


# --- dictionaries ---------------------------------------------------------------------------------

def test_mirai_fixture_loads_all_61_pairs_with_empty_passwords() -> None:
    creds = pw.load_dictionary(DICTS / "mirai.csv")
    assert len(creds) == 61
    assert creds[0] == pw.Credential("root", "xc3511")
    assert pw.Credential("root", "") in creds and pw.Credential("Administrator", "meinsm") in creds
    assert pw.Credential("admin", "4321") in creds


def test_iot_defaults_fixture_has_the_well_known_pairs() -> None:
    creds = set(pw.load_dictionary(DICTS / "iot-defaults.csv"))
    assert len(creds) >= 30
    for pair in [("admin", "password"), ("admin", "1234"), ("root", "root"), ("user", "user"),
                 ("admin", "admin123"), ("ubnt", "ubnt"), ("pi", "raspberry")]:
        assert pw.Credential(*pair) in creds


def test_wordlist_fixture_has_the_required_words() -> None:
    assert 450 <= len(WORDS) <= 600
    for w in ["sunshine", "princess", "football", "password", "123456", "qwerty", "dragon", "letmein", "monkey",
              "welcome", "admin"]:
        assert w in WORDS


def test_load_dictionary_reads_extra_columns_bom_and_dedupes(tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    f.write_text("\ufeffUsername,Password,vendor\nadmin,admin,x\nadmin,admin,y\nroot,,z\n\n", encoding="utf-8")
    assert pw.load_dictionary(f) == [pw.Credential("admin", "admin"), pw.Credential("root", "")]


def test_load_dictionary_rejects_a_file_without_header(tmp_path: Path) -> None:
    f = tmp_path / "d.csv"
    f.write_text("admin,admin\n", encoding="utf-8")
    with pytest.raises(ValueError, match="header"):
        pw.load_dictionary(f)


def test_load_wordlist_casefolds_and_skips_comments(tmp_path: Path) -> None:
    f = tmp_path / "w.txt"
    f.write_text("# comment\nSunshine\n\n  Dragon \n", encoding="utf-8")
    assert pw.load_wordlist(f) == {"sunshine", "dragon"}


def test_package_does_not_touch_fixtures_at_import() -> None:
    source = (ROOT / "harness" / "checks" / "passwords.py").read_text(encoding="utf-8")
    assert "fixtures" not in source


# --- 5.1-2 analysis -------------------------------------------------------------------------------

def test_random_12_char_label_passwords_pass() -> None:
    r = pw.analyse_label_passwords(facts(GOOD), WORDS)
    assert r.verdict == Verdict.PASS, r.reason
    assert rules_fired(r) == set()
    assert_no_secret(r, GOOD)
    rows = next(e for e in r.evidence if e.name.startswith("label password analysis")).data
    assert [row["unit"] for row in rows] == ["U1", "U2", "U3"]
    assert all(row["length"] == 12 and row["classes"] == "lower+upper+digit" for row in rows)
    assert all(70 < row["estimated bits"] < 72 for row in rows)


def test_estimated_bits_reference_points() -> None:
    assert pw.estimated_bits("Kp7mQ2xZr9Wd") == pytest.approx(12 * 5.954, abs=0.05)  # ≈ 71
    assert pw.estimated_bits("4821") == pytest.approx(13.3, abs=0.05)
    assert pw.estimated_bits("") == 0.0


CASES = {
    "duplicate": ["Kp7mQ2xZr9Wd", "Kp7mQ2xZr9Wd", "Zm3wR6tJk8Pf"],
    "counter": ["simpw-100041", "simpw-100042", "simpw-100043"],
    "counter-embedded": ["Kp7mQ-5001-xZr", "Ht4vN-5003-bLq", "Zm3wR-5005-tJk"],
    "derived-mac-last8": ["49A17C31", "495E90D4", "49C32B7F"],
    "derived-mac-contained": ["A17C31-Qz8w", "5E90D4-Lm2p", "C32B7F-Hx5r"],
    "derived-sha256-serial": [hashlib.sha256(f"SIM-C-000{i}".encode()).hexdigest()[:10] for i in (1, 2, 3)],
    "derived-md5-mac-suffix": [hashlib.md5(m.replace(":", "").lower().encode()).hexdigest()[-12:] for m in MACS],
    "derived-serial-reversed": ["1000CMISxQ7#", "2000CMISpL4!", "3000CMISzR9$"],
    "dictionary": ["sunshine", "princess", "football"],
    "dictionary-decorated": ["Sunshine2024!", "Pr1nc3ss#77x", "F00tball!!99"],
    "entropy": ["4821", "9034", "1177"],
    "entropy-shared-prefix": ["simpw-482910", "simpw-107733", "simpw-930215"],
}
EXPECTED = {
    "duplicate": {"duplicate"},
    "counter": {"counter", "entropy"},  # the shared "simpw-" leaves six digits: 20 bits
    "counter-embedded": {"counter"},
    "derived-mac-last8": {"derived", "entropy"},  # all share the OUI's "49": 6 hex chars left ≈ 31 bits
    "derived-mac-contained": {"derived"},
    "derived-sha256-serial": {"derived"},
    "derived-md5-mac-suffix": {"derived"},
    "derived-serial-reversed": {"derived"},
    "dictionary": {"dictionary", "entropy"},  # 8 lower-case letters ≈ 37.6 bits
    "dictionary-decorated": {"dictionary"},
    "entropy": {"entropy"},
    "entropy-shared-prefix": {"entropy"},
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_each_rule_fires_on_exactly_its_defect(case: str) -> None:
    passwords = CASES[case]
    r = pw.analyse_label_passwords(facts(passwords, macs=MACS), WORDS)
    assert r.verdict == Verdict.FAIL, r.reason
    assert rules_fired(r) == EXPECTED[case], (case, r.reason)
    for rule in EXPECTED[case]:
        assert rule in r.reason
    assert "U1" in r.reason
    assert_no_secret(r, passwords)


def test_brief_example_mac_last_8_hex_is_derived() -> None:
    r = pw.analyse_label_passwords(facts(["49A17C31", "49A17C32", "49A17C33"]), WORDS)
    assert r.verdict == Verdict.FAIL and "derived" in rules_fired(r)
    detail = next(e for e in r.evidence if e.name == "rules fired").data
    derived = [d for d in detail if d["rule"] == "derived"]
    assert derived[0]["source"] == "mac" and "last 8" in derived[0]["transform"]


def test_sequential_simpw_passwords_are_a_counter_ordered_by_serial() -> None:
    units = facts(["simpw-100043", "simpw-100041", "simpw-100042"], serials=["SN-9", "SN-7", "SN-8"])
    r = pw.analyse_label_passwords(units, WORDS)
    detail = next(e for e in r.evidence if e.name == "rules fired").data
    counter = next(d for d in detail if d["rule"] == "counter")
    assert counter["units"] == ["U2", "U3", "U1"] and counter["steps"] == [1, 1]


def test_password_containing_the_serial_number_is_a_counter_even_on_one_unit() -> None:
    r = pw.analyse_label_passwords(facts(["Kp7mQ-0001-xZr"]), WORDS)
    assert r.verdict == Verdict.FAIL and rules_fired(r) == {"counter"}
    assert "only 1 unit" in r.reason


@pytest.mark.parametrize("passwords", [
    ["Kp7mQ2xZr9Wd", "Ht4vN8bLq2Yc", "Zm3wR6tJk8Pf"],
    ["Kp7mQ-5001-xZr", "Ht4vN-7420-bLq", "Zm3wR-1938-tJk"],  # numbers present but no step
    ["tX8$kq2!Wz9#", "Lm4%vB7&nR2*", "pQ6@hJ3^yU1("],
    ["49b3XkQ7mZt2", "a1f0PwL8cRn6", "7e2dHvJ4sKy9"],  # hex-looking but not derived
])
def test_compliant_passwords_fire_no_rule(passwords: list[str]) -> None:
    r = pw.analyse_label_passwords(facts(passwords, macs=MACS), WORDS)
    assert r.verdict == Verdict.PASS, r.reason
    assert_no_secret(r, passwords)


def test_dictionary_rule_needs_the_word_set() -> None:
    passwords = ["Sunshine2024!", "Pr1nc3ss#77x", "F00tball!!99"]
    assert pw.analyse_label_passwords(facts(passwords, macs=MACS), set()).verdict == Verdict.PASS


def test_entropy_threshold_is_a_parameter() -> None:
    passwords = ["Kp7mQ2xZr9Wd", "Ht4vN8bLq2Yc", "Zm3wR6tJk8Pf"]
    r = pw.analyse_label_passwords(facts(passwords), WORDS, min_bits=80)
    assert r.verdict == Verdict.FAIL and rules_fired(r) == {"entropy"}


def test_single_unit_cannot_pass_the_cross_unit_rules() -> None:
    r = pw.analyse_label_passwords(facts(GOOD[:1]), WORDS)
    assert r.verdict == Verdict.INCONCLUSIVE
    assert "at least 2 units" in r.reason
    assert any(e.name == "limits" for e in r.evidence)
    assert_no_secret(r, GOOD[:1])


def test_single_unit_defect_still_fails_and_mentions_the_limit() -> None:
    r = pw.analyse_label_passwords(facts(["sunshine"]), WORDS)
    assert r.verdict == Verdict.FAIL and "dictionary" in r.reason and "only 1 unit" in r.reason


def test_no_units_is_inconclusive() -> None:
    assert pw.analyse_label_passwords([], WORDS).verdict == Verdict.INCONCLUSIVE


def test_unit_facts_repr_hides_the_password() -> None:
    assert "Kp7mQ2xZr9Wd" not in repr(facts(GOOD)[0])
    assert "secret-pw" not in repr(pw.LoginAttempt("admin", "secret-pw", "ok", True))


# --- 5.1-1: label password in use and unique ------------------------------------------------------

def test_unique_label_password_passes_and_names_no_value() -> None:
    r = pw.judge_unique_per_device("U1", "Kp7mQ2xZr9Wd", {"U2": "Ht4vN8bLq2Yc", "U3": "Zm3wR6tJk8Pf"})
    assert r.verdict == Verdict.PASS
    assert_no_secret(r, GOOD)


def test_shared_label_password_fails_naming_the_units_only() -> None:
    r = pw.judge_unique_per_device("U1", "Kp7mQ2xZr9Wd", {"U2": "Kp7mQ2xZr9Wd", "U3": "Zm3wR6tJk8Pf"})
    assert r.verdict == Verdict.FAIL and "U2" in r.reason and "U3" not in r.reason
    assert r.evidence[0].data["shared with"] == ["U2"]
    assert_no_secret(r, GOOD)


def test_uniqueness_without_other_units_is_inconclusive() -> None:
    assert pw.judge_unique_per_device("U1", "Kp7mQ2xZr9Wd", {}).verdict == Verdict.INCONCLUSIVE
    assert pw.judge_unique_per_device("U1", "Kp7mQ2xZr9Wd", {"U1": "Kp7mQ2xZr9Wd"}).verdict == Verdict.INCONCLUSIVE


def test_empty_label_password_fails() -> None:
    assert pw.judge_unique_per_device("U1", "", {"U2": "x"}).verdict == Verdict.FAIL


def test_label_password_in_use() -> None:
    assert pw.judge_label_password_in_use("U1", True, "factory default: ok").verdict == Verdict.PASS
    refused = pw.judge_label_password_in_use("U1", False, "factory default: rejected")
    assert refused.verdict == Verdict.INCONCLUSIVE and "profile" in refused.reason
    assert pw.judge_label_password_in_use("U1", None, "timeout").verdict == Verdict.INCONCLUSIVE


# --- 5.1-1-2: dictionary attack -------------------------------------------------------------------

MIRAI = pw.load_dictionary(DICTS / "mirai.csv")


def attempts(outcomes: list[tuple[str, bool | None]], creds: list[pw.Credential] = MIRAI) -> list[pw.LoginAttempt]:
    return [pw.LoginAttempt(c.user, c.password, o, alive, "") for c, (o, alive) in zip(creds, outcomes, strict=False)]


def test_all_refused_by_a_live_device_passes_with_counts() -> None:
    r = pw.judge_dictionary_attack(attempts([("rejected", True)] * 61), 61, "factory default")
    assert r.verdict == Verdict.PASS, r.reason
    summary = next(e for e in r.evidence if e.name.startswith("dictionary attack summary")).data[0]
    assert summary["credentials tried"] == 61 and summary["refused by a live device"] == 61


def test_accepted_default_credential_fails_with_a_finding_showing_it() -> None:
    outcomes = [("rejected", True)] * 3 + [("ok", True)] + [("rejected", True)] * 57
    r = pw.judge_dictionary_attack(attempts(outcomes), 61, "after factory reset")
    assert r.verdict == Verdict.FAIL
    finding = next(e for e in r.evidence if e.kind == "finding")
    assert finding.data["phase"] == "after factory reset"
    assert finding.data["credentials"][0]["user"] == "admin" and finding.data["credentials"][0]["password"] == "admin"
    assert "admin/admin" in r.reason and "after factory reset" in r.reason


def test_accepted_credential_stays_fail_even_if_the_device_then_went_silent() -> None:
    outcomes = [("ok", True), ("timeout", None)]
    assert pw.judge_dictionary_attack(attempts(outcomes), 61, "factory default").verdict == Verdict.FAIL


def test_timeout_mid_way_is_inconclusive_naming_the_attempt() -> None:
    outcomes = [("rejected", True)] * 5 + [("timeout", None)]
    a = attempts(outcomes)
    a[5].detail = "no answer within 5 s"
    r = pw.judge_dictionary_attack(a, 61, "factory default")
    assert r.verdict == Verdict.INCONCLUSIVE
    assert "attempt 6 of 61 (root/xc3511)" not in r.reason  # attempt 6 is root/juantech in the Mirai order
    assert f"attempt 6 of 61 ({MIRAI[5].user}/{MIRAI[5].password}): no answer within 5 s" in r.reason


@pytest.mark.parametrize("alive", [False, None])
def test_silent_refusal_is_inconclusive(alive: bool | None) -> None:
    r = pw.judge_dictionary_attack(attempts([("rejected", True), ("rejected", alive)]), 2, "factory default")
    assert r.verdict == Verdict.INCONCLUSIVE and "attempt 2 of 2" in r.reason


def test_lockout_without_proof_of_life_names_the_attempt() -> None:
    r = pw.judge_dictionary_attack(attempts([("rejected", True), ("locked", False)]), 2, "factory default")
    assert r.verdict == Verdict.INCONCLUSIVE and "attempt 2 of 2" in r.reason and "did not prove" in r.reason


def test_error_outcome_is_inconclusive() -> None:
    r = pw.judge_dictionary_attack(attempts([("error", None)]), 1, "factory default")
    assert r.verdict == Verdict.INCONCLUSIVE and "error" in r.reason


def test_fewer_attempts_than_planned_is_inconclusive() -> None:
    r = pw.judge_dictionary_attack(attempts([("rejected", True)] * 10), 61, "factory default")
    assert r.verdict == Verdict.INCONCLUSIVE and "10 of 61" in r.reason


def test_no_attempt_at_all_is_inconclusive() -> None:
    assert pw.judge_dictionary_attack([], 61, "factory default").verdict == Verdict.INCONCLUSIVE
    assert pw.judge_dictionary_attack([], 0, "factory default").verdict == Verdict.INCONCLUSIVE


def test_serial_year_is_not_mistaken_for_the_sequence() -> None:
    units = facts(["Kp7mQ2024xZr9W", "Ht4vN8bLq2Yc", "Zm3wR6tJk8Pf"], serials=["SN-2024-000123", "SN-2024-000124",
                                                                             "SN-2024-000125"])
    assert pw.analyse_label_passwords(units, WORDS).verdict == Verdict.PASS


def test_credentials_answered_only_by_a_lockout_stay_untested() -> None:
    outcomes = [("rejected", True)] * 5 + [("locked", True)] * 5
    r = pw.judge_dictionary_attack(attempts(outcomes), 10, "factory default")
    assert r.verdict == Verdict.INCONCLUSIVE and "lockout" in r.reason
    m = next(e for e in r.evidence if e.kind == "measurement")
    assert m.data == {"value": 5, "unit": "attempts"}


def test_lockout_waited_out_and_retried_passes_with_the_measurement() -> None:
    creds = MIRAI[:4]
    a = attempts([("rejected", True)] * 2 + [("locked", True)] * 2, creds)
    a += attempts([("rejected", True)] * 2, creds[2:])
    r = pw.judge_dictionary_attack(a, 4, "factory default")
    assert r.verdict == Verdict.PASS, r.reason
    assert next(e for e in r.evidence if e.kind == "measurement").data["value"] == 2


def test_empty_password_is_shown_as_empty() -> None:
    creds = [pw.Credential("root", "")]
    r = pw.judge_dictionary_attack(attempts([("ok", True)], creds), 1, "factory default")
    assert "root/(empty)" in r.reason


# --- 5.1-4-2: password change ---------------------------------------------------------------------

OLD, NEW = "Kp7mQ2xZr9Wd", "Hx-9fG2kLmQ7vR4t"


def login(password: str, outcome: str, alive: bool | None = True, detail: str = "") -> pw.LoginAttempt:
    return pw.LoginAttempt("admin", password, outcome, alive, detail)


@pytest.mark.parametrize("change,new,old,expected,phrase", [
    ("ok", login(NEW, "ok"), login(OLD, "rejected"), Verdict.PASS, "new one logs in"),
    ("ok", login(NEW, "ok"), login(OLD, "ok"), Verdict.FAIL, "old password still logs in"),
    ("ok", login(NEW, "rejected"), login(OLD, "rejected"), Verdict.FAIL, "new password is refused"),
    ("ok", login(NEW, "rejected"), login(OLD, "ok"), Verdict.FAIL, "old password still logs in"),
    ("ok", login(NEW, "rejected", False), login(OLD, "rejected"), Verdict.INCONCLUSIVE, "new password"),
    ("ok", login(NEW, "timeout", None), login(OLD, "rejected"), Verdict.INCONCLUSIVE, "new password"),
    ("ok", login(NEW, "ok"), login(OLD, "timeout", None), Verdict.INCONCLUSIVE, "old password"),
    ("ok", login(NEW, "ok"), login(OLD, "rejected", None), Verdict.INCONCLUSIVE, "old password"),
    ("ok", login(NEW, "ok"), login(OLD, "locked"), Verdict.INCONCLUSIVE, "lockout"),
    ("ok", login(NEW, "locked"), login(OLD, "rejected"), Verdict.INCONCLUSIVE, "was not evaluated"),
    ("ok", None, None, Verdict.INCONCLUSIVE, "not tried"),
    ("timeout", None, None, Verdict.INCONCLUSIVE, "timeout"),
    ("error", login(NEW, "rejected"), login(OLD, "ok"), Verdict.INCONCLUSIVE, "error"),
    ("rejected", login(NEW, "rejected"), login(OLD, "ok"), Verdict.FAIL, "rejected the documented password change"),
    ("rejected", login(NEW, "ok"), login(OLD, "rejected"), Verdict.INCONCLUSIVE, "contradictory"),
])
def test_password_change_variants(change: str, new: pw.LoginAttempt | None, old: pw.LoginAttempt | None,
                                  expected: Verdict, phrase: str) -> None:
    r = pw.judge_password_change(change, new, old)
    assert r.verdict == expected, r.reason
    assert phrase in r.reason
    assert_no_secret(r, [OLD, NEW])


def test_change_rejected_because_of_harness_input_is_inconclusive() -> None:
    r = pw.judge_password_change("rejected", login(NEW, "rejected"), login(OLD, "ok"),
                                 change_detail="passwd: passwords do not match")
    assert r.verdict == Verdict.INCONCLUSIVE and "harness" in r.reason


def test_password_change_scrubs_passwords_echoed_in_details() -> None:
    r = pw.judge_password_change("ok", login(NEW, "ok", detail=f"welcome, your password {NEW} is set"),
                                 login(OLD, "ok", detail=f"login {OLD} accepted"),
                                 change_detail=f"changed {OLD} to {NEW}")
    assert r.verdict == Verdict.FAIL
    assert_no_secret(r, [OLD, NEW])
    assert pw.WITHHELD in dumped(r)


# --- 5.1-4-2: every account, restored afterwards ----------------------------------------------------

class _Tc:
    def __init__(self) -> None:
        self.evidence: list = []

    def add(self, *evidence) -> None:  # type: ignore[no-untyped-def]
        self.evidence.extend(evidence)

    def measure(self, *_a) -> None:  # type: ignore[no-untyped-def]
        pass


class _Observations:
    def __init__(self, found: list[dict]) -> None:
        self.found = found

    def read(self) -> dict:
        return {"U1": {"public_default_credentials_accepted": self.found}}


def _camera(**kw):  # type: ignore[no-untyped-def]
    from test_attacks_fake_device import FakeAccount, FakeLockoutDevice
    dev = FakeLockoutDevice(deny=None, accounts={"admin": FakeAccount("Label-Pw-9x"),
                                                 "support": FakeAccount("lumaSupport#19", changeable=False)}, **kw)
    dev.unit.accounts = {"admin": None}
    dev.state.session, dev.state.user = "logged_in", "admin"
    return dev


def test_password_change_every_account_and_restored() -> None:
    from harness.cases.passwords import user_can_change_password
    dev = _camera()
    dev.accounts.pop("support")
    r = user_can_change_password(_Tc(), dev, _Observations([]))
    assert r.verdict == Verdict.PASS, r.reason
    assert dev.accounts["admin"].password == "Label-Pw-9x"  # changed back
    assert dev.state.password is None and dev.state.user == "admin"  # the label password is current again


def test_unchangeable_service_account_found_by_5_1_1_fails_named() -> None:
    from harness.cases.passwords import user_can_change_password
    dev = _camera()
    tc = _Tc()
    found = [{"interface": "telnet", "user": "support", "password": "lumaSupport#19"}]
    r = user_can_change_password(tc, dev, _Observations(found))
    assert r.verdict == Verdict.FAIL and "'support'" in r.reason and "admin" not in r.reason.split("'support'")[0]
    assert "Read-only" in r.reason
    table = next(e for e in tc.evidence if e.name == "accounts changed")
    assert [row["account"] for row in table.data] == ["admin", "support"]
    assert dev.accounts["admin"].password == "Label-Pw-9x" and dev.state.user == "admin"


def test_mechanism_declared_unchangeable_fails() -> None:
    from types import SimpleNamespace

    from harness.cases.passwords import user_can_change_password
    dev = _camera()
    dev.accounts.pop("support")
    dev.profile.ixit.auth_mech = [SimpleNamespace(id="factory-svc", factor="password", interface=None,
                                                  account="svc", change="none")]
    dev.label["svc"] = "x"
    r = user_can_change_password(_Tc(), dev, _Observations([]))
    assert r.verdict == Verdict.FAIL and "'svc'" in r.reason and "no way for the user" in r.reason


def test_change_on_the_mechanisms_interface_too() -> None:
    """A mechanism on SSH whose old password still works there after the console change: FAIL."""
    from types import SimpleNamespace

    from harness.cases.passwords import user_can_change_password
    dev = _camera()
    dev.accounts.pop("support")
    dev.profile.ixit.interfaces = [SimpleNamespace(name="ssh", login="login_ssh", status="enabled")]
    dev.profile.ixit.auth_mech = [SimpleNamespace(id="ssh-login", factor="password", interface="ssh",
                                                  account=None, change=None)]
    dev.extra_ok = {("admin", "Label-Pw-9x")}  # a second password store the change forgets
    r = user_can_change_password(_Tc(), dev, _Observations([]))
    assert r.verdict == Verdict.FAIL and "old password still logs in" in r.reason


def test_change_ignored_fails_and_leaves_the_delivered_password() -> None:
    from harness.cases.passwords import user_can_change_password
    dev = _camera(ignore_change=True)
    dev.accounts.pop("support")
    tc = _Tc()
    r = user_can_change_password(tc, dev, _Observations([]))
    assert r.verdict == Verdict.FAIL
    restore = next(e for e in tc.evidence if e.name == "restore admin")
    assert "did not take" in restore.data["left with"]


def test_found_credential_revoked_with_the_account_is_covered() -> None:
    """A password-only console ignores the user name: root/<password> found by 5.1-1-2 is the admin
    account; it stops working when admin's password changes, so it needs no change of its own."""
    from harness.cases.passwords import user_can_change_password
    dev = _camera(ignore_user=True)
    dev.accounts.pop("support")
    found = [{"interface": "console", "user": "root", "password": "Label-Pw-9x"}]
    r = user_can_change_password(_Tc(), dev, _Observations(found))
    assert r.verdict == Verdict.PASS, r.reason
    assert any("root while admin" in e.name for e in r.evidence)
    assert dev.accounts["admin"].password == "Label-Pw-9x" and dev.state.user == "admin"
