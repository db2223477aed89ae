"""`harness ics`: the questionnaire validates only once filled, starts from an existing profile's
answers, and the export reproduces the profile's ICS in the Table B.1 shape."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest
import yaml

from harness.cli import main
from harness.ics_tool import check_fragment, ics_rows, questionnaire, render_rows
from harness.profile.loader import load_profile
from harness.standard import load_catalogue

ROOT = Path(__file__).resolve().parents[2]
COMPLIANT = ROOT / "device_profiles" / "sim-compliant.yaml"

# The required fields of the typed IXIT entries (their placeholder is null); optional ones may stay null.
REQUIRED = {"id", "name", "status", "target", "initiation", "data"}
FILL = {"status": "disabled"}


def fill_minimal(doc: dict) -> dict:
    doc["ics"]["conditions"] = {n: True for n in doc["ics"]["conditions"]}
    doc["ics"]["provisions"] = {p: {"support": "Y", "justification": None} for p in doc["ics"]["provisions"]}
    for name, value in list(doc["ixit"].items()):
        for entry in value if isinstance(value, list) else []:
            for key, v in list(entry.items()):
                if v is None and key in REQUIRED:
                    entry[key] = FILL.get(key, f"{name} {key}")
    return doc


def test_init_writes_every_provision_condition_and_ixit_document(tmp_path: Path) -> None:
    out = tmp_path / "new-device-ics.yaml"
    assert main(["ics", "init", str(out)]) == 0
    text = out.read_text()
    doc = yaml.safe_load(text)
    cat = load_catalogue()
    assert set(doc["ics"]["provisions"]) == set(cat.provisions)
    assert set(doc["ics"]["conditions"]) == set(cat.conditions)
    assert len(doc["ixit"]) == 29
    assert "# 5.1-1 [MC(1)]" in text and "read by 5.1-1-1" in text
    assert all(v == {"support": None, "justification": None} for v in doc["ics"]["provisions"].values())


def test_unfilled_questionnaire_does_not_validate_and_filled_one_does(tmp_path: Path) -> None:
    doc = yaml.safe_load(questionnaire(load_catalogue()))
    problems = check_fragment(doc, load_catalogue())
    assert any(p.startswith("ics.conditions.1") for p in problems)
    assert any(p.startswith("ixit.") for p in problems)
    filled = fill_minimal(doc)
    assert check_fragment(filled, load_catalogue()) == []
    path = tmp_path / "filled.yaml"
    path.write_text(yaml.safe_dump(filled, sort_keys=False))
    assert main(["ics", "check", str(path)]) == 0


def test_a_missing_answer_is_named() -> None:
    doc = fill_minimal(yaml.safe_load(questionnaire(load_catalogue())))
    del doc["ics"]["provisions"]["5.6-4"]
    assert check_fragment(doc, load_catalogue()) == ["ics.provisions: no answer for 5.6-4"]


def test_init_from_a_profile_starts_from_its_answers(tmp_path: Path) -> None:
    out = tmp_path / "compliant-ics.yaml"
    assert main(["ics", "init", str(COMPLIANT), "-o", str(out)]) == 0
    doc = yaml.safe_load(out.read_text())
    profile = load_profile(COMPLIANT)
    assert doc["ics"]["provisions"]["5.3-4"]["support"] == profile.ics.provisions["5.3-4"].support
    assert doc["ixit"]["1-AuthMech"][0]["id"] == "console-login"
    assert check_fragment(doc, load_catalogue()) == []


def test_init_does_not_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "x.yaml"
    out.write_text("keep")
    assert main(["ics", "init", str(COMPLIANT), "-o", str(out)]) == 2
    assert out.read_text() == "keep"
    assert main(["ics", "init", str(out)]) == 2  # an existing file that is not a profile
    assert main(["ics", "init", str(COMPLIANT), "-o", str(out), "--force"]) == 0


def test_export_of_sim_compliant_matches_its_ics(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ics", "export", str(COMPLIANT), "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    profile = load_profile(COMPLIANT)
    cat = load_catalogue()
    assert [r["provision"] for r in rows] == list(cat.provisions)
    for r in rows:
        entry = profile.ics.provisions[r["provision"]]
        assert r["support"] == entry.support
        assert r["justification"] == (entry.justification or "")
        assert r["status"] == cat.provisions[r["provision"]].status_text
    row = next(r for r in rows if r["provision"] == "5.3-14")
    assert row["condition"] == "3 (does not hold); 4 (does not hold)"


@pytest.mark.parametrize("fmt", ["yaml", "md"])
def test_other_formats_carry_every_row(fmt: str) -> None:
    profile = load_profile(COMPLIANT)
    rows = ics_rows(load_catalogue(), profile.ics)
    text = render_rows(rows, fmt)
    if fmt == "yaml":
        assert yaml.safe_load(text)["ics"] == rows
    else:
        assert len(text.strip().splitlines()) == len(rows) + 2
        assert text.startswith("| Provision | Status | Condition | Support | Justification / reference |")


def test_v3_questionnaire_asks_for_the_table_b1_features(tmp_path: Path) -> None:
    cat = load_catalogue("v3.1.3")
    doc = yaml.safe_load(questionnaire(cat))
    assert set(doc["ics"]["features"]) == set(cat.features)
    filled = fill_minimal(doc)
    assert any(p.startswith("ics.features") for p in check_fragment(filled, cat))
    filled["ics"]["features"] = {f: True for f in cat.features}
    assert check_fragment(filled, cat) == []


def test_rewriting_a_questionnaire_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "q.yaml"
    assert main(["ics", "init", str(out)]) == 0
    assert main(["ics", "init", str(out)]) == 2
    assert main(["ics", "init", str(out), "--force"]) == 0
