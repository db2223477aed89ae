"""EN 303 645 V3.1.3 beside V2.1.1, reported through the TS 103 701 V1.1.1 test cases, and the
EN 18031-1 / Singapore CLS mappings."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

import pytest

from harness.standard import (
    CatalogueError,
    available_editions,
    load,
    load_catalogue,
    report_catalogue,
    run_report_edition,
)
from harness.standard import loader as loader_module

NEW_IN_V313 = ["5.1-2A", "6-6", "6-7", "6-8"]
SPLIT = {"5.3-4": "5.3-4A", "5.3-6": "5.3-6A", "5.3-15": "5.3-15A", "5.6-4": "5.6-4A", "5.13-1": "5.13-1A",
         "6-3": "6-3A"}


@pytest.fixture(scope="module")
def v3():
    return load("v3.1.3")


def test_both_editions_are_available() -> None:
    assert {"v2.1.1", "v3.1.3"} <= set(available_editions())


def test_v313_provisions_and_statuses(v3) -> None:
    assert len(v3.provisions) == 78
    assert list(v3.provisions)[0] == "5.0-1" and "4-1" not in v3.provisions
    for pid in [*NEW_IN_V313, *SPLIT.values(), "5.3-4B", "5.3-6B", "5.3-15B", "5.6-4B", "5.13-1B", "6-3B"]:
        assert pid in v3.provisions, pid
    assert v3.provisions["5.1-1"].status_text == "MF(a)"
    assert v3.provisions["5.1-5"].status_text == "MCF(14,e)"
    assert v3.provisions["5.1-2A"].status == "R" and not v3.provisions["5.1-2A"].mandatory
    assert v3.provisions["6-6"].mandatory and v3.provisions["6-7"].status == "RF"
    assert v3.psti == [] and v3.features["aa"]


def test_v211_test_cases_count_for_v313_provisions(v3) -> None:
    v2 = load_catalogue("v2.1.1")
    assert v3.assessed_via == "v2.1.1" and v3.assessment == v2.assessment
    assert set(v3.test_cases) == set(v2.test_cases)
    assert v3.test_cases["4-1-1"].provision == "5.0-1"
    assert v3.provisions["5.0-1"].test_cases == ["4-1-1"]
    for old, new in SPLIT.items():
        assert v3.translate(old) == new
        assert v3.provisions[new].test_cases == v2.provisions[old].test_cases
    assert v3.translate("5.1-1") == "5.1-1"
    # automation carries over: the same test cases are automated
    assert {t.id for t in v3.automated} == {t.id for t in v2.automated}


def test_provisions_without_test_cases_say_why(v3) -> None:
    for pid, prov in v3.provisions.items():
        if not prov.test_cases:
            assert prov.unassessed, pid
    assert "new in V3.1.3" in v3.provisions["6-6"].unassessed
    assert "5.13-1A" in v3.provisions["5.13-1B"].unassessed


def test_feature_dependent_applicability(v3) -> None:
    assert v3.applicability("5.1-1", {"features": {"a": False}}).applicable is False
    open_ = v3.applicability("5.1-1", {"features": {}})
    assert open_.applicable and open_.unanswered_features == ("a",)
    both = v3.applicability("5.1-5", {"conditions": {14: True}, "features": {"e": True}})
    assert both.applicable and not both.unanswered and not both.unanswered_features
    assert v3.applicability("5.1-5", {"conditions": {14: False}, "features": {"e": True}}).applicable is False
    assert v3.applicability("5.0-1", None).applicable


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    src = resources.files("harness.standard") / "data"
    copy = tmp_path / "data"
    copy.mkdir()
    for item in src.iterdir():
        if item.is_file():
            (copy / item.name).write_bytes(item.read_bytes())
    monkeypatch.setattr(loader_module, "_data", lambda: copy)
    return copy


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _problems(edition: str) -> str:
    with pytest.raises(CatalogueError) as info:
        load(edition)
    return str(info.value)


def test_unknown_feature_letter_is_refused(data: Path) -> None:
    _edit(data / "en303645-v3.1.3.yaml", 'features: ["a"]', 'features: ["zz"]')
    assert "feature 'zz' is not in the edition's features" in _problems("v3.1.3")


def test_feature_status_needs_features(data: Path) -> None:
    _edit(data / "en303645-v3.1.3.yaml", '    status: MF\n    features: ["a"]\n', "    status: MF\n")
    assert "status MF needs the Table B.1 features" in _problems("v3.1.3")


def test_every_provision_is_mapped_or_explained(data: Path) -> None:
    _edit(data / "en303645-v3.1.3.yaml", '    "6-8": new in V3.1.3; no TS 103 701 test case yet\n', "")
    assert "6-8 neither receives v2.1.1 test cases nor says why" in _problems("v3.1.3")
    _edit(data / "en303645-v3.1.3.yaml", '    "4-1": "5.0-1"\n', "")
    assert "v2.1.1 provision 4-1 has no counterpart in v3.1.3" in _problems("v3.1.3")


def test_scheme_mappings_load_for_both_editions(v3) -> None:
    v2 = load_catalogue("v2.1.1")
    for cat in (v2, v3):
        eu = cat.mapping("en18031-1")
        cls = cat.mapping("sg-cls")
        assert eu is not None and cls is not None
        groups = {e.id for e in eu.entries}
        assert {"ACM", "AUM", "SUM", "SSM", "SCM", "RLM", "NMM", "LGM", "DLM", "UNM", "CCK", "GEC", "CRY"} <= groups
        assert "indicative" in eu.note.lower() and "2025-08-01" in eu.status
        level2 = next(e for e in cls.entries if e.id == "level 2")
        assert set(level2.provisions) == {p for p, prov in cat.provisions.items() if prov.mandatory}
        for level in ("level 3", "level 4"):
            entry = next(e for e in cls.entries if e.id == level)
            assert entry.provisions == [] and "harness" in entry.beyond_harness
    assert v3.mapping("en18031-1").translated_from == "v2.1.1"
    gec = next(e for e in v3.mapping("en18031-1").entries if e.id == "GEC")
    assert "5.13-1A" in gec.provisions and "5.6-4A" in gec.provisions


def test_mapping_to_an_unknown_provision_is_refused(data: Path) -> None:
    _edit(data / "map-en18031-1.yaml", 'provisions: ["5.4-1", "5.4-2"]', 'provisions: ["5.4-1", "5.4-9"]')
    assert "map-en18031-1.yaml: SSM: provision '5.4-9' is not in edition v2.1.1" in _problems("v2.1.1")


def test_report_edition_comes_from_the_run_or_the_command_line(tmp_path: Path) -> None:
    results = tmp_path / "results"
    results.mkdir()
    assert run_report_edition(tmp_path) is None and report_catalogue(None, tmp_path) is None
    (results / "segment-a.jsonl").write_text(
        json.dumps({"record": "session", "edition": "v2.1.1", "report_edition": "v3.1.3"}) + "\n{torn",
        encoding="utf-8")
    assert run_report_edition(tmp_path) == "v3.1.3"
    assert report_catalogue(None, tmp_path).edition == "v3.1.3"
    assert report_catalogue("V2.1.1", tmp_path).edition == "v2.1.1"
    with pytest.raises(CatalogueError, match="no EN 303 645 edition 'v9.9.9'"):
        report_catalogue("v9.9.9")
