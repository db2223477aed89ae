"""The EN 303 645 V2.1.1 catalogue: provisions, conditions, clauses, TS 103 701 test cases, PSTI."""

from __future__ import annotations

import dataclasses
from collections import Counter

import pytest

from harness.standard import (
    Catalogue,
    CatalogueError,
    Provision,
    PstiRequirement,
    TestCase,
    available_editions,
    load,
    load_catalogue,
)

IXIT_DOCUMENTS = (
    "1-AuthMech 2-UserInfo 3-VulnTypes 4-Conf 5-VulnMon 6-SoftComp 7-UpdMech 8-UpdProc 9-ReplSup "
    "10-SecParam 11-ComMech 12-NetSecImpl 13-SoftServ 14-SecMgmt 15-Intf 16-CodeMin 17-PrivlCtrl "
    "18-AccCtrl 19-SecDev 20-SecBoot 21-PersData 22-ExtSens 23-ResMech 24-TelData 25-DelFunc "
    "26-UserDec 27-UserIntf 28-ExtAPI 29-InpVal"
).split()

# Conditional provisions of Table B.1 (V2.1.1) and their conditions.
CONDITIONAL = {
    "5.1-1": ("MC", (1,)), "5.1-2": ("MC", (2,)), "5.1-4": ("MC", (8,)), "5.1-5": ("MC", (5,)),
    "5.3-2": ("MC", (5,)), "5.3-3": ("MC", (12,)), "5.3-4": ("RC", (12,)), "5.3-5": ("RC", (12,)),
    "5.3-6": ("RC", (9, 12)), "5.3-7": ("MC", (12,)), "5.3-8": ("MC", (12,)), "5.3-9": ("RC", (12,)),
    "5.3-10": ("MC", (11, 12)), "5.3-11": ("RC", (12,)), "5.3-12": ("RC", (12,)),
    "5.3-14": ("RC", (3, 4)), "5.3-15": ("RC", (3, 4)), "5.4-2": ("MC", (10,)), "5.6-4": ("MC", (13,)),
    "5.10-1": ("RC", (6,)), "6-2": ("MC", (7,)), "6-4": ("RC", (6,)), "6-5": ("MC", (6,)),
}


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue("v2.1.1")


def test_edition_and_title(cat: Catalogue) -> None:
    assert cat.edition == "v2.1.1"
    assert "EN 303 645 V2.1.1" in cat.title and "(2020-06)" in cat.title
    assert cat.reference == "ETSI EN 303 645 V2.1.1 (2020-06)"
    assert cat.assessment == "ETSI TS 103 701 V1.1.1 (2021-08)"


def test_default_edition_is_cached_and_spellings_agree(cat: Catalogue) -> None:
    assert load_catalogue() is cat
    assert load_catalogue("V2.1.1") is cat
    assert load_catalogue("2.1.1") is cat
    assert "v2.1.1" in available_editions()


def test_uncached_load_gives_an_equal_catalogue(cat: Catalogue) -> None:
    fresh = load("v2.1.1")
    assert fresh is not cat
    assert fresh.provisions == cat.provisions and fresh.test_cases == cat.test_cases


def test_unknown_edition_names_the_available_ones() -> None:
    with pytest.raises(CatalogueError, match=r"no EN 303 645 edition 'v9\.9\.9'.*v2\.1\.1"):
        load_catalogue("v9.9.9")


def test_68_provisions_33_mandatory_35_recommendations(cat: Catalogue) -> None:
    provs = list(cat.provisions.values())
    assert len(provs) == 68
    assert sum(p.mandatory for p in provs) == 33
    assert sum(not p.mandatory for p in provs) == 35
    assert Counter(p.status for p in provs) == {"M": 20, "MC": 13, "R": 25, "RC": 10}
    assert all(isinstance(p, Provision) for p in provs)


def test_provisions_in_document_order(cat: Catalogue) -> None:
    ids = list(cat.provisions)
    assert ids[0] == "4-1" and ids[-1] == "6-5"

    def key(pid: str) -> tuple[int, ...]:
        clause, n = pid.split("-")
        return (*map(int, clause.split(".")), 0, int(n)) if "." in clause else (int(clause), 0, 0, int(n))

    assert ids == sorted(ids, key=key)
    assert ids.index("5.9-3") < ids.index("5.10-1") < ids.index("5.11-1")


def test_conditional_statuses_match_table_b1(cat: Catalogue) -> None:
    for pid, prov in cat.provisions.items():
        if pid in CONDITIONAL:
            assert (prov.status, prov.conditions) == CONDITIONAL[pid], pid
            assert prov.conditional
        else:
            assert prov.status in ("M", "R") and prov.conditions == () and not prov.conditional, pid
        assert prov.mandatory == (prov.status in ("M", "MC"))


def test_5_3_10_is_conditional_on_network_delivery_and_an_update_mechanism(cat: Catalogue) -> None:
    prov = cat.provisions["5.3-10"]
    assert prov.status == "MC" and prov.conditions == (11, 12) and prov.mandatory
    assert prov.status_text == "MC(11,12)"


def test_13_conditions(cat: Catalogue) -> None:
    assert list(cat.conditions) == list(range(1, 14))
    assert cat.conditions[1] == "passwords are used"
    assert cat.conditions[12] == "an update mechanism is implemented"
    assert all(text and text == text.strip() for text in cat.conditions.values())


def test_clause_titles(cat: Catalogue) -> None:
    expected = ["4"] + [f"5.{i}" for i in range(1, 14)] + ["6"]
    assert list(cat.clauses) == expected
    assert cat.clauses["5.1"] == "No universal default passwords"
    assert cat.clauses["5.10"] == "Examine system telemetry data"
    assert cat.clauses["4"] == "Reporting implementation"
    assert cat.clauses["6"] == "Data protection provisions"
    assert {p.clause for p in cat.provisions.values()} == set(cat.clauses)
    assert cat.provisions["5.10-1"].clause == "5.10" and cat.provisions["4-1"].clause == "4"


def test_every_provision_has_a_one_sentence_summary(cat: Catalogue) -> None:
    for prov in cat.provisions.values():
        assert prov.summary.endswith(".") and prov.summary[0].isupper(), prov.id
        assert "\n" not in prov.summary and len(prov.summary) < 170, prov.id
    assert len({p.summary for p in cat.provisions.values()}) == 68


def test_109_test_cases_62_conceptual_46_functional_1_both_226_units(cat: Catalogue) -> None:
    cases = list(cat.test_cases.values())
    assert len(cases) == 109
    assert Counter(tc.kind for tc in cases) == {"conceptual": 62, "functional": 46, "conceptual+functional": 1}
    assert cat.test_cases["5.3-10-1"].kind == "conceptual+functional"
    assert sum(tc.units for tc in cases) == 226
    assert Counter(tc.units for tc in cases) == {1: 43, 2: 34, 3: 16, 4: 13, 5: 3}
    assert all(isinstance(tc, TestCase) for tc in cases)


def test_five_first_test_cases_are_functional(cat: Catalogue) -> None:
    functional_first = {tc.id for tc in cat.test_cases.values() if tc.id.endswith("-1") and tc.kind == "functional"}
    assert functional_first == {"5.8-3-1", "5.11-3-1", "5.11-4-1", "5.12-2-1", "5.12-3-1"}


def test_every_test_case_belongs_to_a_provision_that_lists_it(cat: Catalogue) -> None:
    for tc in cat.test_cases.values():
        assert tc.provision in cat.provisions, tc.id
        assert tc.id.startswith(tc.provision + "-")
        assert tc.id in cat.provisions[tc.provision].test_cases
    listed = [t for p in cat.provisions.values() for t in p.test_cases]
    assert sorted(listed) == sorted(cat.test_cases)
    assert all(p.test_cases for p in cat.provisions.values())
    assert cat.provisions["5.1-1"].test_cases == ["5.1-1-1", "5.1-1-2"]


def test_all_29_ixit_documents_are_referenced(cat: Catalogue) -> None:
    referenced = {ref for tc in cat.test_cases.values() for ref in tc.ixit}
    assert referenced == set(IXIT_DOCUMENTS)
    assert list(cat.ixit_documents) == IXIT_DOCUMENTS
    assert cat.test_cases["4-1-1"].ixit == ()
    assert cat.test_cases["5.13-1-1"].ixit == ("11-ComMech", "27-UserIntf", "28-ExtAPI", "29-InpVal")
    assert isinstance(cat.test_cases["5.1-4-2"].ixit, tuple)


def test_psti_schedule_1(cat: Catalogue) -> None:
    assert [r.number for r in cat.psti] == [1, 2, 3]
    assert all(isinstance(r, PstiRequirement) and r.title and r.note for r in cat.psti)
    passwords, reporting, support = cat.psti
    assert passwords.title == "Passwords"
    assert passwords.provisions == ["5.1-1", "5.1-2"] and passwords.deemed_compliance
    assert reporting.provisions == ["5.2-1"] and reporting.deemed_compliance
    assert support.provisions == ["5.3-13"] and not support.deemed_compliance
    assert "No deemed-compliance route" in support.note


def test_provisions_carry_their_psti_requirements(cat: Catalogue) -> None:
    mapped = {pid: p.psti for pid, p in cat.provisions.items() if p.psti}
    assert mapped == {"5.1-1": [1], "5.1-2": [1], "5.2-1": [2], "5.3-13": [3]}


def test_value_objects_are_frozen(cat: Catalogue) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        cat.provisions["5.1-1"].status = "R"  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        cat.test_cases["5.1-1-2"].automated = False  # type: ignore[misc]
