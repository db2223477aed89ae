"""One permission policy for the whole run directory: files 0600, folders 0700 (harness.results)."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from harness.links.transcript import Transcript
from harness.report import build_reports
from harness.results import DIR_MODE, FILE_MODE, Observations, ResultsLog, secure_run_dir
from harness.verdict import Verdict

try:
    from test_report_support import fake_catalogue, record, session
except ImportError:  # tests/unit became a package
    from tests.unit.test_report_support import fake_catalogue, record, session


@pytest.fixture()
def wide_umask():
    old = os.umask(0o022)  # the usual default: new files 0644, folders 0755
    yield
    os.umask(old)


def _modes(root: Path) -> list[tuple[str, str]]:
    """Every path under root whose mode breaks the policy, with its mode."""
    bad = []
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder) / name
            mode = stat.S_IMODE(path.lstat().st_mode)
            want = DIR_MODE if path.is_dir() else FILE_MODE
            if mode != want:
                bad.append((str(path.relative_to(root)), oct(mode)))
    if stat.S_IMODE(root.stat().st_mode) != DIR_MODE:
        bad.append((".", oct(stat.S_IMODE(root.stat().st_mode))))
    return bad


def test_writers_create_private_files(tmp_path: Path, wide_umask) -> None:
    run = tmp_path / "run"
    log = ResultsLog(run)
    session(log, units=["U1"])
    rec = record("5.1-1-1", Verdict.PASS, unit="U1")
    rec.attachments.append(log.attach(rec.id, "console transcript", "login: admin\n"))
    log.write(rec)
    Observations(run).record("U1", "label_password", {"accepted": True})
    t = Transcript("console", run / "transcripts")
    t.received("simiot login: \n")
    t.close()
    # Before any report build, what the harness wrote itself already follows the policy.
    assert _modes(run) == []


def test_built_run_directory_follows_one_policy(tmp_path: Path, wide_umask) -> None:
    run = tmp_path / "run"
    log = ResultsLog(run)
    session(log, units=["U1"])
    rec = record("5.1-1-1", Verdict.PASS, unit="U1")
    rec.attachments.append(log.attach(rec.id, "console transcript", "login: admin\n"))
    log.write(rec)
    # What other programs leave in the run directory at their own modes: allure-pytest's results
    # (a copied attachment), Allure's rendered report, a log of the runner.
    results = run / "allure-results"
    results.mkdir(mode=0o755)
    (results / "abc-attachment.txt").write_text("login: admin\n")
    os.chmod(results / "abc-attachment.txt", 0o644)
    report = run / "allure-report" / "data"
    report.mkdir(parents=True, mode=0o755)
    (report / "index.json").write_text("{}")
    (run / "logs").mkdir(mode=0o775)
    (run / "logs" / "pytest-U1.log").write_text("x\n")
    tool = run / "logs" / "helper.sh"
    tool.write_text("#!/bin/sh\n")
    os.chmod(tool, 0o755)
    link = run / "logs" / "outside"
    link.symlink_to(tmp_path)  # a link is neither followed nor changed
    before = stat.S_IMODE(tmp_path.stat().st_mode)

    build_reports(run, catalogue=fake_catalogue(), allure=False)

    bad = [(p, m) for p, m in _modes(run) if p not in ("logs/outside", "logs/helper.sh")]
    assert bad == []
    assert stat.S_IMODE(tool.stat().st_mode) == FILE_MODE | stat.S_IXUSR  # owner x kept, no more
    assert stat.S_IMODE(tmp_path.stat().st_mode) == before
    for name in ("conformance.html", "conformance.json", "conformance.csv", "junit.xml"):
        assert stat.S_IMODE((run / name).stat().st_mode) == FILE_MODE
    assert stat.S_IMODE((results / "environment.properties").stat().st_mode) == FILE_MODE


def test_secure_run_dir_on_missing_folder_is_harmless(tmp_path: Path) -> None:
    secure_run_dir(tmp_path / "nothing-here")
