"""Table B.1 applicability of a provision to the product an ICS describes."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from harness.standard import Applicability, Catalogue, load_catalogue


@dataclass
class Entry:
    support: str
    justification: str | None = None


@dataclass
class Ics:
    conditions: dict[int, bool] = field(default_factory=dict)
    provisions: dict[str, Entry] = field(default_factory=dict)


ALL_TRUE = {n: True for n in range(1, 14)}


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


def one_sentence(reason: str) -> bool:
    return reason.endswith(".") and reason.count(". ") == 0 and reason[0].isalnum()


def test_mandatory_applies_whatever_the_ics_says(cat: Catalogue) -> None:
    for ics in (Ics(), Ics(conditions={n: False for n in range(1, 14)}), None):
        a = cat.applicability("5.2-1", ics)
        assert isinstance(a, Applicability)
        assert a.applicable and a.support is None
        assert "5.2-1" in a.reason and "no Table B.1 condition" in a.reason and one_sentence(a.reason)


def test_recommendation_without_condition_applies(cat: Catalogue) -> None:
    a = cat.applicability("5.5-2", Ics(provisions={"5.5-2": Entry("N", "no reviewed stack available")}))
    assert a.applicable and a.support == "N"


def test_na_on_an_unconditional_provision_is_not_supported(cat: Catalogue) -> None:
    a = cat.applicability("5.3-13", Ics(provisions={"5.3-13": Entry("N/A", "we do not publish one")}))
    assert a.applicable and a.support == "N/A"
    assert "N/A is not supported by Table B.1" in a.reason and one_sentence(a.reason)


def test_conditional_applies_when_its_condition_holds(cat: Catalogue) -> None:
    a = cat.applicability("5.1-1", Ics(conditions={1: True}, provisions={"5.1-1": Entry("Y")}))
    assert a.applicable and a.support == "Y"
    assert "condition 1 (passwords are used) holds" in a.reason and one_sentence(a.reason)
    assert a.unanswered == ()


def test_conditional_does_not_apply_when_its_condition_is_false(cat: Catalogue) -> None:
    a = cat.applicability("5.1-2", Ics(conditions={2: False}, provisions={"5.1-2": Entry("N/A")}))
    assert not a.applicable and a.support == "N/A"
    assert "condition 2 (pre-installed passwords are used) does not hold" in a.reason
    assert one_sentence(a.reason)


def test_every_listed_condition_must_hold(cat: Catalogue) -> None:
    both = cat.applicability("5.3-10", Ics(conditions={11: True, 12: True}))
    assert both.applicable
    assert "conditions 11 (updates are delivered over a network interface) and 12 (an update mechanism is implemented) hold" in both.reason
    for conditions in ({11: False, 12: True}, {11: True, 12: False}, {11: False, 12: False}):
        a = cat.applicability("5.3-10", Ics(conditions=conditions))
        assert not a.applicable, conditions
        for n, value in conditions.items():
            assert (f"{n} (" in a.reason) == (value is False)
        assert one_sentence(a.reason)


def test_a_false_condition_decides_even_when_another_is_unanswered(cat: Catalogue) -> None:
    a = cat.applicability("5.3-6", Ics(conditions={12: False}))
    assert not a.applicable
    assert "condition 12" in a.reason and "condition 9" not in a.reason


def test_missing_condition_counts_as_applicable_and_says_so(cat: Catalogue) -> None:
    a = cat.applicability("5.6-4", Ics(conditions={1: True}))
    assert a.applicable and a.unanswered == (13,)
    assert "does not answer condition 13 (a debug interface is physically accessible)" in a.reason
    assert "skip" in a.reason and one_sentence(a.reason)


def test_partly_answered_conditions_name_both_parts(cat: Catalogue) -> None:
    a = cat.applicability("5.3-6", Ics(conditions={12: True}))
    assert a.applicable and a.unanswered == (9,)
    assert "condition 12 (an update mechanism is implemented) holds" in a.reason
    assert "does not answer condition 9 (automatic updates and/or update notifications are supported)" in a.reason


def test_no_ics_at_all_makes_every_provision_applicable(cat: Catalogue) -> None:
    assert all(cat.applicability(pid, None).applicable for pid in cat.provisions)
    assert all(cat.applicability(pid, {}).applicable for pid in cat.provisions)


def test_na_while_the_condition_holds_stays_applicable(cat: Catalogue) -> None:
    a = cat.applicability("5.3-3", Ics(conditions={12: True}, provisions={"5.3-3": Entry("N/A", "too simple")}))
    assert a.applicable and a.support == "N/A"
    assert "condition 12" in a.reason and "N/A is not supported by Table B.1" in a.reason
    assert one_sentence(a.reason)


def test_na_while_the_condition_is_unanswered_stays_applicable(cat: Catalogue) -> None:
    a = cat.applicability("6-2", Ics(provisions={"6-2": Entry("N/A", "no consent")}))
    assert a.applicable and a.unanswered == (7,)
    assert "N/A" in a.reason and "condition 7" in a.reason and one_sentence(a.reason)


def test_supported_while_the_condition_is_false_is_not_applicable_but_noted(cat: Catalogue) -> None:
    a = cat.applicability("5.4-2", Ics(conditions={10: False}, provisions={"5.4-2": Entry("Y")}))
    assert not a.applicable and "marks the provision as supported" in a.reason


def test_plain_dicts_with_string_keys(cat: Catalogue) -> None:
    ics = {"conditions": {"6": False}, "provisions": {"6-5": {"support": "N/A", "justification": "none"}}}
    a = cat.applicability("6-5", ics)
    assert not a.applicable and a.support == "N/A"
    assert "condition 6 (telemetry data is collected)" in a.reason


def test_a_non_boolean_condition_is_refused(cat: Catalogue) -> None:
    with pytest.raises(ValueError, match="condition 6 must be true or false"):
        cat.applicability("6-5", {"conditions": {6: "yes"}})
    with pytest.raises(ValueError, match="not a Table B.1 condition number"):
        cat.applicability("6-5", {"conditions": {"six": True}})


def test_unknown_provision_is_a_key_error(cat: Catalogue) -> None:
    with pytest.raises(KeyError, match="9.9-1"):
        cat.applicability("9.9-1", Ics())


def test_the_profile_ics_model_is_accepted(cat: Catalogue) -> None:
    models = pytest.importorskip("harness.profile.models")
    ics = models.Ics(conditions={1: True, 2: True, 8: False},
                     provisions={"5.1-4": models.IcsEntry(support="N/A", justification="no user login")})
    assert cat.applicability("5.1-2", ics).applicable
    a = cat.applicability("5.1-4", ics)
    assert not a.applicable and a.support == "N/A"


def test_with_all_conditions_true_every_provision_applies(cat: Catalogue) -> None:
    decisions = [cat.applicability(pid, Ics(conditions=ALL_TRUE)) for pid in cat.provisions]
    assert all(d.applicable and not d.unanswered for d in decisions)
    assert all(one_sentence(d.reason) for d in decisions)


def test_with_all_conditions_false_only_unconditional_provisions_apply(cat: Catalogue) -> None:
    ics = Ics(conditions={n: False for n in range(1, 14)})
    applicable = {pid for pid in cat.provisions if cat.applicability(pid, ics).applicable}
    assert applicable == {pid for pid, p in cat.provisions.items() if not p.conditional}
