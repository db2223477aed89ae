"""4-1-1: justifications in the ICS."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from harness.checks.ics import judge_justifications
from harness.verdict import Verdict

ROOT = Path(__file__).resolve().parents[2]
STATUS = {"5.1-1": "MC", "5.2-1": "M", "5.3-4": "RC", "5.6-8": "R", "5.4-2": "MC"}
GOOD = {
    "5.1-1": {"support": "Y"},
    "5.2-1": {"support": "Y", "justification": None},
    "5.3-4": {"support": "N", "justification": "updates are applied on user confirmation by design"},
    "5.6-8": {"support": "Y"},
    "5.4-2": {"support": "N/A", "justification": "condition 10 does not hold: no hard-coded identity"},
}


def test_every_n_and_na_justified_passes_with_a_table() -> None:
    r = judge_justifications(STATUS, GOOD)
    assert r.verdict == Verdict.PASS, r.reason
    rows = r.evidence[0].data
    assert [row["provision"] for row in rows] == ["5.3-4", "5.4-2"]
    assert all(row["assessment"] == "justified" for row in rows)


@pytest.mark.parametrize("pid,entry", [
    ("5.3-4", {"support": "N", "justification": ""}),
    ("5.3-4", {"support": "N", "justification": None}),
    ("5.3-4", {"support": "N", "justification": "  TBD "}),
    ("5.6-8", {"support": "N/A"}),
    ("5.6-8", {"support": "N", "justification": "-"}),
    ("5.4-2", {"support": "N/A", "justification": "n/a"}),
])
def test_missing_justification_fails_naming_the_provision(pid: str, entry: dict) -> None:
    r = judge_justifications(STATUS, {**GOOD, pid: entry})
    assert r.verdict == Verdict.FAIL and pid in r.reason and "no justification" in r.reason


@pytest.mark.parametrize("pid", ["5.1-1", "5.2-1"])
def test_mandatory_marked_n_fails_even_with_a_justification(pid: str) -> None:
    r = judge_justifications(STATUS, {**GOOD, pid: {"support": "N", "justification": "too expensive"}})
    assert r.verdict == Verdict.FAIL and pid in r.reason and "no justification can excuse" in r.reason
    row = next(row for row in r.evidence[0].data if row["provision"] == pid)
    assert "cannot be justified away" in row["assessment"]


def test_unanswered_recommendation_is_pending_review_not_fail() -> None:
    ics = {k: v for k, v in GOOD.items() if k != "5.6-8"}
    r = judge_justifications(STATUS, ics)
    assert r.verdict == Verdict.PENDING_REVIEW and "5.6-8" in r.reason
    assert any(e.name == "provisions the ICS does not answer" for e in r.evidence)


def test_invalid_support_value_is_treated_as_unanswered() -> None:
    r = judge_justifications(STATUS, {**GOOD, "5.6-8": {"support": "maybe"}})
    assert r.verdict == Verdict.PENDING_REVIEW


def test_fail_outranks_pending_and_mentions_both() -> None:
    ics = {k: v for k, v in GOOD.items() if k != "5.6-8"}
    ics["5.3-4"] = {"support": "N"}
    r = judge_justifications(STATUS, ics)
    assert r.verdict == Verdict.FAIL and "5.3-4" in r.reason and "5.6-8" in r.reason


def test_status_with_conditions_and_na_spelling_are_understood() -> None:
    r = judge_justifications({"5.3-4": "RC(12)"}, {"5.3-4": {"support": "na", "justification": "no update mechanism"}})
    assert r.verdict == Verdict.PASS


def test_ics_entries_unknown_to_the_catalogue_are_noted() -> None:
    r = judge_justifications(STATUS, {**GOOD, "9.9-9": {"support": "Y"}})
    assert r.verdict == Verdict.PASS
    assert any(e.name.startswith("ICS entries for provisions not in") for e in r.evidence)


def test_pydantic_like_entries_are_read_by_attribute() -> None:
    class Entry:
        def __init__(self, support: str, justification: str | None = None) -> None:
            self.support, self.justification = support, justification

    r = judge_justifications({"5.3-4": "RC"}, {"5.3-4": Entry("N")})  # type: ignore[dict-item]
    assert r.verdict == Verdict.FAIL


@pytest.mark.parametrize("profile,expected", [("sim-compliant.yaml", Verdict.PASS), ("sim-legacy.yaml", Verdict.PASS)])
def test_reference_profiles_against_the_catalogue(profile: str, expected: Verdict) -> None:
    from harness.standard import load_catalogue
    statuses = {pid: p.status for pid, p in load_catalogue().provisions.items()}
    data = yaml.safe_load((ROOT / "device_profiles" / profile).read_text(encoding="utf-8"))
    assert judge_justifications(statuses, data["ics"]["provisions"]).verdict == expected
