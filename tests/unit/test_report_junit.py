from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

from harness.report.junit import write_junit
from harness.report.model import build_report_model
from harness.verdict import Evidence

try:
    from test_report_support import fake_catalogue, record, write_full_run, write_run
except ImportError:  # tests/unit became a package
    from tests.unit.test_report_support import fake_catalogue, record, write_full_run, write_run


def parse(run: Path) -> ET.Element:
    path = write_junit(build_report_model(run, fake_catalogue()), run / "junit.xml")
    return ET.parse(path).getroot()


def test_counts_and_structure(tmp_path: Path):
    root = parse(write_full_run(tmp_path))
    assert root.tag == "testsuites"
    cases = root.findall("testsuite/testcase")
    assert len(cases) == 14
    assert len(root.findall("testsuite/testcase/failure")) == 1  # 5.5-2-1
    assert len(root.findall("testsuite/testcase/error")) == 0  # the INCONCLUSIVE was superseded
    assert len(root.findall("testsuite/testcase/skipped")) == 3  # 5.1-2-1 N/A, 5.3-13-2 x2 pending
    assert (root.get("tests"), root.get("failures"), root.get("errors"), root.get("skipped")) == ("14", "1", "0", "3")
    suites = {s.get("name"): s for s in root.findall("testsuite")}
    assert list(suites) == ["EN303645.5.1", "EN303645.5.2", "EN303645.5.3", "EN303645.5.5", "EN303645.5.6",
                            "EN303645.other"]
    assert suites["EN303645.5.1"].get("tests") == "4"
    tc = suites["EN303645.5.1"].find("testcase[@name='5.1-1-2 [U1]']")
    assert tc is not None and tc.get("classname") == "EN303645.5.1"
    props = {p.get("name"): p.get("value") for p in tc.findall("properties/property")}
    assert props["provision"] == "5.1-1" and props["verdict"] == "PASS"
    assert suites["EN303645.5.1"].find("testcase[@name='5.1-1-1 [profile]']") is not None
    fail = root.find(".//testcase[@name='5.5-2-1 [profile]']/failure")
    assert fail.get("message") == "no evaluated implementation" and "OpenSSL" in fail.text
    skipped = root.find(".//testcase[@name='5.1-2-1 [profile]']/skipped")
    assert skipped.get("message").startswith("NOT_APPLICABLE")


def test_error_for_inconclusive_and_control_chars(tmp_path: Path):
    run = write_run(tmp_path, [
        record("5.2-1-2", "INCONCLUSIVE", "broker gone\x00", unit="U1",
               evidence=[Evidence("text", "log", "\x1b[31mred\x1b[0m")]),
        record("5.6-1-2", "FAIL", "telnet", unit="*"),
    ])
    root = parse(run)
    err = root.find(".//testcase[@name='5.2-1-2 [U1]']/error")
    assert err is not None and err.get("type") == "INCONCLUSIVE" and "\\x1b" in err.text
    assert root.find(".//testcase[@name='5.6-1-2 [*]']/failure") is not None
    assert (root.get("failures"), root.get("errors")) == ("1", "1")


def test_empty_log(tmp_path: Path):
    root = parse(tmp_path)
    assert root.get("tests") == "0" and root.findall("testsuite") == []
