"""5.11-1-2: user data erasure must be observed, never assumed."""

from __future__ import annotations

import pytest

from harness.checks.erasure import judge_user_data_erasure
from harness.verdict import Verdict

PLANTED = {"ssid": "harness-3fa9c1d2", "psk": "Qm7-zX2pLk9w"}


def test_planted_data_gone_after_erasure_passes() -> None:
    r = judge_user_data_erasure("ok", dict(PLANTED), "ok", {"ssid": "", "psk": ""}, PLANTED)
    assert r.verdict == Verdict.PASS, r.reason
    table = next(e for e in r.evidence if e.name.startswith("user data (harness"))
    assert table.data[0] == {"field": "ssid", "planted": PLANTED["ssid"], "read before": PLANTED["ssid"],
                             "read after": ""}


def test_surviving_value_fails_listing_the_field() -> None:
    r = judge_user_data_erasure("ok", dict(PLANTED), "ok", {"ssid": PLANTED["ssid"], "psk": ""}, PLANTED)
    assert r.verdict == Verdict.FAIL and "ssid" in r.reason and "psk" not in r.reason


def test_value_moved_to_another_field_still_fails() -> None:
    r = judge_user_data_erasure("ok", dict(PLANTED), "ok", {"ssid": "", "psk": "", "note": f"last: {PLANTED['ssid']}"},
                                PLANTED)
    assert r.verdict == Verdict.FAIL and "ssid" in r.reason


@pytest.mark.parametrize("set_outcome,before,phrase", [
    ("timeout", None, "could not plant"),
    ("rejected", dict(PLANTED), "could not plant"),
    ("ok", None, "could not be read back"),
    ("ok", {"ssid": "something-else", "psk": PLANTED["psk"]}, "did not read back"),
    ("ok", {"psk": PLANTED["psk"]}, "did not read back"),
])
def test_data_not_shown_present_before_is_inconclusive(set_outcome: str, before: dict | None, phrase: str) -> None:
    r = judge_user_data_erasure(set_outcome, before, "ok", {"ssid": "", "psk": ""}, PLANTED)
    assert r.verdict == Verdict.INCONCLUSIVE and phrase in r.reason


@pytest.mark.parametrize("reset", ["timeout", "error", "rejected"])
def test_erasure_not_completed_is_inconclusive(reset: str) -> None:
    r = judge_user_data_erasure("ok", dict(PLANTED), reset, {"ssid": "", "psk": ""}, PLANTED)
    assert r.verdict == Verdict.INCONCLUSIVE and reset in r.reason


def test_read_after_failing_is_inconclusive_not_pass() -> None:
    r = judge_user_data_erasure("ok", dict(PLANTED), "ok", None, PLANTED)
    assert r.verdict == Verdict.INCONCLUSIVE and "absence was not observed" in r.reason


def test_field_missing_from_the_read_after_is_inconclusive() -> None:
    r = judge_user_data_erasure("ok", dict(PLANTED), "ok", {"ssid": ""}, PLANTED)
    assert r.verdict == Verdict.INCONCLUSIVE and "psk" in r.reason


def test_surviving_value_beats_an_unreported_field() -> None:
    r = judge_user_data_erasure("ok", dict(PLANTED), "ok", {"ssid": PLANTED["ssid"]}, PLANTED)
    assert r.verdict == Verdict.FAIL


def test_nothing_planted_is_inconclusive() -> None:
    assert judge_user_data_erasure("ok", {}, "ok", {}, {}).verdict == Verdict.INCONCLUSIVE


def test_short_values_are_not_matched_inside_other_fields() -> None:
    planted = {"ssid": "ab"}
    r = judge_user_data_erasure("ok", {"ssid": "ab"}, "ok", {"ssid": "", "banner": "about"}, planted)
    assert r.verdict == Verdict.PASS
