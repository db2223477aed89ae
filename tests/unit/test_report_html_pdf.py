"""``harness report --pdf`` without a browser, and the pieces of harness.report.pdf that need none."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report import pdf as pdf_module
from harness.report.pdf import BASE_FLAGS, ChromiumMissing, _console_errors, find_chromium, footer_template

try:
    from test_report_support import SCRIPT, write_full_run
except ImportError:  # tests/unit became a package
    from tests.unit.test_report_support import SCRIPT, write_full_run


def test_missing_chromium_exits_2_naming_the_package_and_keeps_the_html(tmp_path: Path, monkeypatch, capsys) -> None:
    from harness.cli import main

    run = write_full_run(tmp_path / "run")
    monkeypatch.setattr(pdf_module, "find_chromium", lambda explicit=None: None)
    code = main(["report", str(run), "--pdf", "--no-allure"])
    err = capsys.readouterr().err
    assert code == 2
    assert "chromium" in err and "apt-get install -y chromium" in err
    assert (run / "conformance.html").is_file() and not (run / "conformance.pdf").exists()


def test_find_chromium_honours_the_environment(tmp_path: Path, monkeypatch) -> None:
    fake = tmp_path / "my-browser"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("HARNESS_CHROMIUM", str(fake))
    assert find_chromium() == str(fake)
    monkeypatch.setenv("HARNESS_CHROMIUM", str(tmp_path / "absent"))
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert find_chromium() is None
    with pytest.raises(ChromiumMissing, match="chromium"):
        pdf_module.render_page(tmp_path / "x.html")


def test_browser_flags_keep_it_offline_and_rootless() -> None:
    for flag in ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"):
        assert flag in BASE_FLAGS


def test_footer_carries_run_id_and_page_numbers_escaped() -> None:
    footer = footer_template(SCRIPT, "v3.1.3")
    assert SCRIPT not in footer and "&lt;script&gt;" in footer
    assert 'class="pageNumber"' in footer and 'class="totalPages"' in footer and "v3.1.3" in footer


def test_console_errors_from_devtools_events() -> None:
    events = [
        {"method": "Runtime.consoleAPICalled", "params": {"type": "log", "args": [{"value": "fine"}]}},
        {"method": "Runtime.consoleAPICalled", "params": {"type": "error", "args": [{"value": "bad"}]}},
        {"method": "Runtime.exceptionThrown", "params": {"exceptionDetails": {"exception": {"description": "Error: boom"}}}},
        {"method": "Log.entryAdded", "params": {"entry": {"level": "error", "source": "network", "text": "404",
                                                           "url": "x.png"}}},
        {"method": "Log.entryAdded", "params": {"entry": {"level": "warning", "text": "meh"}}},
        {"method": "Network.requestWillBeSent", "params": {"requestId": "7", "request": {"url": "http://x/y.css"}}},
        {"method": "Network.loadingFailed", "params": {"requestId": "7", "blockedReason": "inspector"}},
    ]
    assert _console_errors(events) == ["console: bad", "exception: Error: boom", "network: 404 x.png",
                                       "load failed (inspector): http://x/y.css"]


def test_report_edition_option(tmp_path: Path, capsys) -> None:
    from harness.cli import main

    run = write_full_run(tmp_path / "run")
    code = main(["report", str(run), "--edition", "v3.1.3", "--no-allure"])
    page = (run / "conformance.html").read_text("utf-8")
    assert code in (0, 1, 3)
    assert "ETSI EN 303 645 V3.1.3 (2024-09)" in page and "5.0-1" in page
    assert main(["report", str(run), "--edition", "v9.9.9", "--no-allure"]) == 2
    assert "no EN 303 645 edition 'v9.9.9'" in capsys.readouterr().err


def test_a_browser_that_cannot_start_or_answer_is_a_browser_error(tmp_path: Path, monkeypatch) -> None:
    page = tmp_path / "x.html"
    page.write_text("<p>x</p>", encoding="utf-8")
    broken = tmp_path / "broken-browser"
    broken.write_text("not a program\n")
    broken.chmod(0o755)
    with pytest.raises(pdf_module.BrowserError, match="could not start|closed the DevTools pipe"):
        pdf_module.render_page(page, browser=str(broken), timeout=10)
    silent = tmp_path / "silent-browser"
    silent.write_text("#!/bin/sh\nexec sleep 30\n")
    silent.chmod(0o755)
    with pytest.raises(pdf_module.BrowserError, match="did not answer in time"):
        pdf_module.render_page(page, browser=str(silent), timeout=1.5)
