from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.report import ReportPaths, build_reports, exit_code, summary_lines

try:
    from test_report_support import fake_catalogue, write_full_run
except ImportError:  # tests/unit became a package
    from tests.unit.test_report_support import fake_catalogue, write_full_run


def test_build_reports_writes_everything(tmp_path: Path):
    run = write_full_run(tmp_path / "run")
    (run / "allure-results").mkdir()
    paths = build_reports(run, catalogue=fake_catalogue(), allure=False)
    assert isinstance(paths, ReportPaths)
    for p in (paths.html, paths.json, paths.csv, paths.junit):
        assert p.parent == run and p.is_file() and p.stat().st_size > 0
    assert paths.html.name == "conformance.html" and paths.junit.name == "junit.xml"
    json.loads(paths.json.read_text())
    ET.parse(paths.junit)
    assert (run / "allure-results" / "environment.properties").is_file()
    assert (run / "allure-results" / "categories.json").is_file()
    assert paths.allure_results == run / "allure-results" and paths.allure_report is None
    assert exit_code(paths.model) == 0
    assert summary_lines(paths.model)[-1] == f"Report: {paths.html}"
    assert not list(run.glob(".conformance*"))  # no temp files left behind


def test_build_reports_without_allure_results(tmp_path: Path):
    paths = build_reports(tmp_path, catalogue=fake_catalogue())
    assert paths.allure_results is None and paths.allure_report is None
    assert "allure-results" in paths.allure_message
    assert not (tmp_path / "allure-results").exists()


def test_build_reports_allure_failure_is_not_fatal(tmp_path: Path, monkeypatch):
    import shutil

    run = write_full_run(tmp_path / "run")
    (run / "allure-results").mkdir()
    monkeypatch.setattr(shutil, "which", lambda *a, **k: None)
    paths = build_reports(run, catalogue=fake_catalogue(), allure=True)
    assert paths.allure_report is None and "Node" in paths.allure_message
    assert paths.html.is_file()
