"""The loader cross-checks the data files and loads any edition placed beside V2.1.1."""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from pathlib import Path

import pytest

from harness.standard import CatalogueError, available_editions, load
from harness.standard import loader as loader_module

EDITION = "en303645-v2.1.1.yaml"


@pytest.fixture
def data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A writable copy of the package data that the loader reads instead of the real one."""
    src = resources.files("harness.standard") / "data"
    copy = tmp_path / "data"
    copy.mkdir()
    for item in src.iterdir():
        if item.is_file():
            (copy / item.name).write_bytes(item.read_bytes())
    monkeypatch.setattr(loader_module, "_data", lambda: copy)
    return copy


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def problems(action: Callable[[], object]) -> str:
    with pytest.raises(CatalogueError) as info:
        action()
    return str(info.value)


def test_the_copy_loads(data: Path) -> None:
    assert len(load("v2.1.1").provisions) == 68


def test_unquoted_clause_id_is_caught(data: Path) -> None:
    edit(data / EDITION, '"5.10": Examine', "5.10: Examine")
    msg = problems(lambda: load("v2.1.1"))
    assert "quote the clause id" in msg and "5.10-1: clause 5.10 has no title" in msg


def test_bad_provision_entries_are_all_listed(data: Path) -> None:
    edit(data / EDITION, 'id: "5.1-4"\n    status: MC\n    conditions: [8]', 'id: "5.1-4"\n    status: MC')
    edit(data / EDITION, 'id: "5.5-2"\n    status: R', 'id: "5.5-2"\n    status: X')
    edit(data / EDITION, "conditions: [13]", "conditions: [14]")
    msg = problems(lambda: load("v2.1.1"))
    assert "3 problems" in msg
    assert "5.1-4: status MC needs the Table B.1 conditions" in msg
    assert "5.5-2: status 'X' is not one of" in msg
    assert "5.6-4: condition 14 is not in Table B.1" in msg


def test_feature_dependent_status_without_a_rule_is_refused(data: Path) -> None:
    edit(data / EDITION, "statuses:\n", "statuses:\n  MF: {mandatory: true, conditional: false, feature_dependent: true}\n")
    assert "statuses.MF: no applicability rule for ['feature_dependent']" in problems(lambda: load("v2.1.1"))


def test_edition_id_must_match_the_file_name(data: Path) -> None:
    edit(data / EDITION, "edition: v2.1.1", "edition: v3.1.3")
    assert "edition is 'v3.1.3', the file name says 'v2.1.1'" in problems(lambda: load("v2.1.1"))


def test_test_case_of_an_unknown_provision_or_ixit_document(data: Path) -> None:
    csv = data / "ts103701-v1.1.1.csv"
    edit(csv, "5.1-1-1,5.1-1,conceptual,1,1-AuthMech", "5.1-9-1,5.1-9,conceptual,1,1-AuthMek")
    edit(csv, "5.1-1-2,5.1-1,functional,3,", "5.1-1-2,5.1-1,functionl,0,")
    msg = problems(lambda: load("v2.1.1"))
    assert "5.1-9-1: provision '5.1-9' is not in the edition" in msg
    assert "5.1-9-1: IXIT document '1-AuthMek' is not listed" in msg
    assert "5.1-1-2: kind 'functionl'" in msg and "5.1-1-2: units must be a positive number" in msg


def test_psti_mapping_to_an_unknown_provision(data: Path) -> None:
    edit(data / "psti-si-2023-1007.yaml", '["5.2-1"]', '["5.2-9"]')
    assert "provision '5.2-9' is not in the edition" in problems(lambda: load("v2.1.1"))


def test_coverage_of_an_unknown_test_case(data: Path) -> None:
    edit(data / "coverage.yaml", '"5.11-1-2":', '"5.11-1-9":')
    assert "coverage.yaml: 5.11-1-9: no such test case" in problems(lambda: load("v2.1.1"))


def test_coverage_needs_suite_and_kind(data: Path) -> None:
    edit(data / "coverage.yaml", "test_5_11_erasure.py, kind: functional", "test_5_11_erasure.py, kind: manual")
    assert "5.11-1-2: kind 'manual'" in problems(lambda: load("v2.1.1"))


def test_coverage_of_another_assessment_spec_is_ignored(data: Path) -> None:
    text = (data / "coverage.yaml").read_text(encoding="utf-8")
    before = len(load("v2.1.1").automated)
    other = "\n---\nassessment: ts103701-v9\nautomated:\n  \"5.0-1-1\": {suite: x.py, kind: conceptual}\n"
    (data / "coverage.yaml").write_text(text + other, encoding="utf-8")
    load.cache_clear() if hasattr(load, "cache_clear") else None
    assert len(load("v2.1.1").automated) == before


def test_a_second_edition_sits_beside_the_first(data: Path) -> None:
    # A V3.1.3-shaped edition: clause 5.0, a lettered provision id, no assessment and no PSTI yet.
    (data / "en303645-v3.1.3.yaml").write_text("""
edition: v3.1.3
reference: ETSI EN 303 645 V3.1.3 (2024-09)
title: ETSI EN 303 645 V3.1.3 (2024-09)
assessment: null
psti: null
statuses:
  M: {mandatory: true, conditional: false}
  R: {mandatory: false, conditional: false}
  MC: {mandatory: true, conditional: true}
conditions:
  1: passwords are used
clauses:
  "5.0": Reporting implementation
  "5.1": No universal default passwords
provisions:
  - {id: "5.0-1", status: M, summary: Justifications are recorded.}
  - {id: "5.1-1", status: MC, conditions: [1], summary: Passwords are unique or user-defined.}
  - {id: "5.1-2A", status: R, summary: Machine-to-machine authentication avoids passwords.}
""", encoding="utf-8")
    assert available_editions() == ["v2.1.1", "v3.1.3"]
    new = load("v3.1.3")
    assert list(new.provisions) == ["5.0-1", "5.1-1", "5.1-2A"]
    assert new.provisions["5.0-1"].clause == "5.0" and new.provisions["5.1-2A"].clause == "5.1"
    assert new.test_cases == {} and new.psti == [] and new.assessment is None
    assert new.applicability("5.1-1", {"conditions": {1: False}}).applicable is False
    assert len(load("v2.1.1").provisions) == 68


def test_missing_file_is_named(data: Path) -> None:
    (data / "ts103701-v1.1.1.csv").unlink()
    assert "ts103701-v1.1.1.csv is missing" in problems(lambda: load("v2.1.1"))


def test_package_data_is_inside_the_package() -> None:
    # The project must never read the shared reference folder at run time.
    root = Path(str(resources.files("harness.standard")))
    assert (root / "data" / EDITION).is_file()
    for module in root.glob("*.py"):
        text = module.read_text(encoding="utf-8")
        assert "../shared" not in text and "shared/reference" not in text, module.name
