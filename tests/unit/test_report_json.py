from __future__ import annotations

import csv
import json
from pathlib import Path

from harness.report.json_report import CSV_COLUMNS, csv_text, read_json, write_csv, write_json
from harness.report.model import ReportModel, build_report_model, dumps

try:
    from test_report_support import SCRIPT, fake_catalogue, record, write_full_run, write_run
except ImportError:  # tests/unit became a package
    from tests.unit.test_report_support import SCRIPT, fake_catalogue, record, write_full_run, write_run


def test_json_round_trips(tmp_path: Path):
    run = write_full_run(tmp_path)
    model = build_report_model(run, fake_catalogue())
    path = write_json(model, run / "conformance.json")
    data = json.loads(path.read_text("utf-8"))
    assert data["schema"] == "conformance-report/1"
    assert "run_dir" not in data
    back = read_json(path)
    assert isinstance(back, ReportModel)
    assert back.to_dict() == model.to_dict() == data
    assert back.provision("5.5-2").verdict == "FAIL"
    assert back.cases[0].evidence is not None


def test_json_is_stable_and_sorted(tmp_path: Path):
    run = write_full_run(tmp_path)
    a = dumps(build_report_model(run, fake_catalogue()))
    b = dumps(build_report_model(run, fake_catalogue()))
    assert a == b
    data = json.loads(a)
    assert list(data) == sorted(data)
    assert list(data["run"]) == sorted(data["run"])


def test_csv_one_row_per_provision(tmp_path: Path):
    run = write_full_run(tmp_path)
    model = build_report_model(run, fake_catalogue())
    path = write_csv(model, run / "conformance.csv")
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert list(rows[0]) == CSV_COLUMNS
    assert [r["id"] for r in rows] == [p.id for p in model.provisions]
    by_id = {r["id"]: r for r in rows}
    assert by_id["5.5-2"]["verdict"] == "FAIL" and by_id["5.5-2"]["status"] == "R"
    assert by_id["5.5-2"]["mandatory"] == "no"
    assert by_id["5.1-2"]["applicable"] == "no" and by_id["5.1-1"]["applicable"] == "yes"
    assert by_id["9.9-1"]["applicable"] == "unknown"
    assert by_id["5.1-1"]["test_cases"] == "5.1-1-1;5.1-1-2"
    assert "no evaluated implementation" in by_id["5.5-2"]["reasons"]
    assert by_id["5.13-1"]["verdict"] == "NOT_ASSESSED"


def test_csv_neutralises_formulas(tmp_path: Path):
    run = write_run(tmp_path, [record("x-1", "FAIL", "=HYPERLINK(1)", provision="=1+2")])
    rows = list(csv.reader(csv_text(build_report_model(run, fake_catalogue())).splitlines()))
    cell = next(r for r in rows if r[0].endswith("=1+2"))
    assert cell[0] == "'=1+2"
    assert all(not c.startswith(("=", "+", "-", "@")) for r in rows for c in r)


def test_script_survives_json_verbatim(tmp_path: Path):
    run = write_full_run(tmp_path)
    data = json.loads(dumps(build_report_model(run, fake_catalogue())))
    case = next(c for c in data["cases"] if c["test_case"] == "5.1-1-2" and c["unit"] == "U1")
    assert SCRIPT in case["evidence"][0]["data"]
