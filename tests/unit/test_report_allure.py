from __future__ import annotations

import json
import os
import shutil
import stat
import time
from pathlib import Path

import pytest

from harness.report import allure_extras
from harness.report.allure_extras import (
    ALLURE_PACKAGE,
    render_allure_html,
    write_allure_categories,
    write_allure_environment,
)
from harness.report.model import build_report_model

try:
    from test_report_support import fake_catalogue, write_full_run
except ImportError:  # tests/unit became a package
    from tests.unit.test_report_support import fake_catalogue, write_full_run


def _props(path: Path) -> dict[str, str]:
    out = {}
    for line in path.read_text("ascii").splitlines():
        key, _, value = line.partition("=")
        out[key] = value
    return out


def test_environment_properties(tmp_path: Path):
    run = write_full_run(tmp_path / "run")
    model = build_report_model(run, fake_catalogue())
    model.run.product["model"] = "Cam X=2 ü"
    props = _props(write_allure_environment(tmp_path / "ar", model))
    assert props["product"] == "Acme Cam X\\=2 \\u00fc"
    assert props["firmware"] == "1.2.3"
    assert props["profile.sha256"] == "ab" * 32
    assert props["harness.version"] == model.run.harness_version != ""
    assert props["units"] == "U1, U2"


def test_categories(tmp_path: Path):
    cats = json.loads(write_allure_categories(tmp_path).read_text())
    by_name = {c["name"]: c["matchedStatuses"] for c in cats}
    assert by_name == {"Device defect (FAIL)": ["failed"], "Lab fault (INCONCLUSIVE)": ["broken"],
                       "Not applicable / pending review": ["skipped"]}


def _results(tmp_path: Path) -> Path:
    results = tmp_path / "allure-results"
    results.mkdir()
    (results / "x-result.json").write_text('{"name": "t", "status": "passed"}')
    return results


def test_render_without_node(tmp_path: Path, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: None)
    ok, reason = render_allure_html(_results(tmp_path), tmp_path / "allure-report")
    assert ok is False and "Node" in reason
    assert not (tmp_path / "allure-report").exists()


def test_render_without_results(tmp_path: Path):
    ok, reason = render_allure_html(tmp_path / "missing", tmp_path / "out")
    assert ok is False and reason


def _fake_npx(tmp_path: Path, body: str) -> str:
    script = tmp_path / "fake-npx"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_render_runs_pinned_allure_generate(tmp_path: Path, monkeypatch):
    argv_file = tmp_path / "argv"
    npx = _fake_npx(tmp_path, f'echo "$@" > {argv_file}\nmkdir -p "$6" && echo ok > "$6/index.html"\n')
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: npx)
    results = _results(tmp_path)
    ok, reason = render_allure_html(results, tmp_path / "allure-report", timeout=20)
    assert ok, reason
    assert argv_file.read_text().split() == ["--yes", ALLURE_PACKAGE, "generate", str(results.resolve()), "-o",
                                             str((tmp_path / "allure-report").resolve())]


def test_render_reports_exit_code_and_missing_index(tmp_path: Path, monkeypatch):
    results = _results(tmp_path)
    npx = _fake_npx(tmp_path, 'echo "boom" >&2\nexit 7\n')
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: npx)
    ok, reason = render_allure_html(results, tmp_path / "out", timeout=20)
    assert not ok and "7" in reason and "boom" in reason
    npx = _fake_npx(tmp_path, "exit 0\n")
    ok, reason = render_allure_html(results, tmp_path / "out", timeout=20)
    assert not ok and "index.html" in reason


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state != "Z"


def test_render_times_out_and_kills_its_group(tmp_path: Path, monkeypatch):
    pid_file = tmp_path / "child.pid"
    npx = _fake_npx(tmp_path, f"sleep 30 &\necho $! > {pid_file}\nwait\n")
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: npx)
    started = time.monotonic()
    ok, reason = render_allure_html(_results(tmp_path), tmp_path / "out", timeout=1)
    assert not ok and "timed out" in reason
    assert time.monotonic() - started < 15
    child = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child)


def test_render_never_raises(tmp_path: Path, monkeypatch):
    def boom(*a, **k):
        raise OSError("no fork")

    monkeypatch.setattr(allure_extras, "_render", boom)
    ok, reason = render_allure_html(tmp_path, tmp_path / "out")
    assert not ok and "no fork" in reason


@pytest.mark.skipif(os.environ.get("HARNESS_TEST_ALLURE") != "1" or not shutil.which("npx"),
                    reason="set HARNESS_TEST_ALLURE=1 to run the real Allure 3 (needs Node and the npm registry)")
def test_real_allure(tmp_path: Path):
    results = _results(tmp_path)
    write_allure_categories(results)
    ok, reason = render_allure_html(results, tmp_path / "allure-report", timeout=300)
    assert ok, reason
    assert (tmp_path / "allure-report" / "index.html").is_file()
