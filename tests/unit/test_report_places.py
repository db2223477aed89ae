"""The report's Units section names the labgrid place that served each unit (farm/places.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.report.html import render_html
from harness.report.json_report import read_json, write_json
from harness.report.model import build_report_model

try:
    from test_report_support import fake_catalogue, write_full_run
except ImportError:  # tests/unit became a package
    from tests.unit.test_report_support import fake_catalogue, write_full_run

PLACES = {
    "U2": {"place": "hub-7", "reservation": "RSV2", "console": "rfc2217://10.0.0.5:40123?ign_set_control",
           "power": {"model": "simplerest", "host": "http://lab:s3cret@pdu.lab/relay/{index}/{value}", "index": "2"},
           "address": "192.168.7.9", "resources": [{"class": "NetworkSerialPort", "host": "10.0.0.5", "port": 40123},
                                                   {"class": "NetworkPowerPort", "model": "simplerest"}]},
    "U1": {"place": "hub-<3>", "reservation": "RSV1", "console": "socket://10.0.0.5:3002"},
}


@pytest.fixture()
def run(tmp_path: Path) -> Path:
    return write_full_run(tmp_path / "run")


def _units(model: object) -> str:
    page = render_html(model)  # type: ignore[arg-type]
    start = page.index('<section id="units"')
    return page[start:page.index("</section>", start)]


def _write_places(run: Path, text: str | bytes) -> None:
    (run / "farm").mkdir(exist_ok=True)
    (run / "farm" / "places.json").write_bytes(text.encode("utf-8") if isinstance(text, str) else text)


def test_a_local_run_shows_no_place_column(run: Path) -> None:
    model = build_report_model(run, fake_catalogue())
    assert model.run.places == {}
    units = _units(model)
    assert "<th>Place</th>" not in units and "labgrid" not in units
    assert not any("places.json" in w for w in model.warnings)


def test_each_unit_shows_the_place_that_served_it(run: Path, tmp_path: Path) -> None:
    _write_places(run, json.dumps(PLACES))
    model = build_report_model(run, fake_catalogue())
    assert list(model.run.places) == ["U1", "U2"]  # in unit order
    assert model.run.places["U2"]["resources"] == ["NetworkSerialPort", "NetworkPowerPort"]
    units = _units(model)
    assert "<th>Place</th>" in units and "farm/places.json" in units
    u1 = units[units.index("<th>U1</th>"):units.index("<th>U2</th>")]
    u2 = units[units.index("<th>U2</th>"):]
    assert "<strong>hub-&lt;3&gt;</strong>" in u1  # escaped
    assert "console: socket://10.0.0.5:3002" in u1 and "power: <span class=\"muted\">not exported" in u1
    assert "<strong>hub-7</strong>" in u2 and "address: 192.168.7.9" in u2
    assert "power: simplerest outlet 2 at http://lab:***@pdu.lab/relay/{index}/{value}" in u2
    assert "s3cret" not in render_html(model)
    profile_row = units[units.index("profile (no single unit)"):]
    assert "local bench" not in profile_row.split("</tr>")[0]  # profile-level cases have no place
    # The JSON report keeps it and reads back.
    back = read_json(write_json(model, tmp_path / "conformance.json"))
    assert back.run.places == model.run.places


def test_a_unit_without_a_place_says_local_bench(run: Path) -> None:
    _write_places(run, json.dumps({"U2": PLACES["U2"]}))
    units = _units(build_report_model(run, fake_catalogue()))
    u1 = units[units.index("<th>U1</th>"):units.index("<th>U2</th>")]
    assert "local bench (no place)" in u1


@pytest.mark.parametrize("text", ["{not json", "[1, 2]", b'{"U1": {"place": "\xff"}}',
                                  '{"U1": ' * 2000 + "{}" + "}" * 2000])
def test_a_corrupt_places_file_is_a_warning_not_a_crash(run: Path, text: str | bytes) -> None:
    _write_places(run, text)
    model = build_report_model(run, fake_catalogue())
    assert model.run.places == {}
    assert any("farm/places.json could not be read" in w for w in model.warnings), model.warnings
    assert "<th>Place</th>" not in _units(model)
    assert model.provision("5.5-2").verdict == "FAIL"  # the verdicts do not depend on it


def test_entries_without_a_place_are_skipped_with_a_warning(run: Path) -> None:
    _write_places(run, json.dumps({"U1": "hub-3", "U2": PLACES["U2"], "U3": {"console": "socket://x:1"}}))
    model = build_report_model(run, fake_catalogue())
    assert list(model.run.places) == ["U2"]
    assert any("no place recorded for unit(s) U1, U3" in w for w in model.warnings)
