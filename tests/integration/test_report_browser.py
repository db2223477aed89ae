"""The report a lab submits, in a real headless Chromium: the page loads without a console error,
a screenshot shows something, and the PDF prints on more than one page (header and footer with the
run id and page numbers come from harness.report.pdf).

Chromium absent: skipped with the reason, except under CI (CI=true), where it is a failure.
"""

from __future__ import annotations

import os
import re
import struct
import zlib
from pathlib import Path

import pytest

from harness.report import build_reports
from harness.report.pdf import find_chromium, render_page
from harness.results import ResultsLog
from harness.results import TestCaseRecord as CaseRecord
from harness.verdict import Evidence, Verdict

pytestmark = pytest.mark.integration

SCRIPT = "<script>console.error('injected')</script>"


def _require_chromium() -> None:
    if find_chromium() is not None:
        return
    reason = "headless Chromium not installed (Debian package chromium)"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(f"{reason}; CI must run the browser test")
    pytest.skip(reason)


def _stamp(minute: int, second: int = 0) -> str:
    return f"2026-05-09T10:{minute:02d}:{second:02d}.000+00:00"


def _record(tc: str, verdict: str, reason: str, unit: str | None = None, minute: int = 1,
            evidence: list[Evidence] | None = None) -> CaseRecord:
    return CaseRecord(test_case=tc, provision=tc.rsplit("-", 1)[0], verdict=Verdict(verdict), reason=reason,
                      unit=unit, title=f"title of {tc}", evidence=evidence or [], started=_stamp(minute),
                      finished=_stamp(minute, 30), duration_s=1.0, run_id="run-browser",
                      name=f"test_suites/pytest/test_x.py::test_{tc.replace('.', '_').replace('-', '_')}")


def _write_run(run_dir: Path) -> Path:
    """A run against the real catalogue: FAIL, INCONCLUSIVE, PENDING_REVIEW, NOT_APPLICABLE, PASS,
    device text that tries to inject a script, and an attachment."""
    log = ResultsLog(run_dir, writer="pytest")
    log.write_session(record="session", run_id="run-browser", time=_stamp(0),
                      profile={"path": "device_profiles/sim-compliant.yaml", "sha256": "ab" * 32,
                               "product": {"manufacturer": "Acme", "model": "Hub 1", "hardware": "rev A",
                                           "firmware": "2.0.0"}, "schema_version": 1},
                      lab={"name": "bench-1", "path": "bench/lab.yaml", "sha256": "cd" * 32},
                      units=["U1", "U2"], runner="pytest", argv=["pytest", "test_suites/pytest"])
    scan = _record("5.6-1-2", "PASS", "only documented ports open", unit="U1", minute=6,
                   evidence=[Evidence("table", "open ports", [{"port": 443, "service": "https"}])])
    att = log.attach(scan.id, "nmap transcript.txt", "PORT 443/tcp open https\n" + SCRIPT)
    scan.attachments.append(att)
    for rec in [
        _record("5.1-1-2", "PASS", "U1 password unique", unit="U1"),
        _record("5.1-1-2", "PASS", "U2 password unique", unit="U2"),
        _record("5.1-1-1", "PENDING_REVIEW", "assessor to read IXIT 1-AuthMech"),
        _record("5.1-5-2", "FAIL", "20 wrong passwords in 10 s were all answered without delay", unit="U1",
                evidence=[Evidence("finding", "banner", f"device said {SCRIPT}")]),
        _record("5.2-1-2", "INCONCLUSIVE", "HTTP server unreachable before the device could be judged", unit="U2"),
        _record("5.1-2-1", "NOT_APPLICABLE", "no pre-installed passwords"),
        _record("5.5-1-2", "PASS", "TLS 1.3 only", unit="U1",
                evidence=[Evidence("text", "handshake", "TLSv1.3 TLS_AES_256_GCM_SHA384\n" * 40)]),
        scan,
    ]:
        log.write(rec)
    return run_dir


def _png_is_not_blank(png: bytes) -> bool:
    assert png.startswith(b"\x89PNG\r\n\x1a\n"), "not a PNG"
    pos, idat = 8, b""
    while pos < len(png):
        length, kind = struct.unpack(">I4s", png[pos:pos + 8])
        if kind == b"IDAT":
            idat += png[pos + 8:pos + 8 + length]
        pos += 12 + length
    pixels = zlib.decompress(idat)
    return len(set(pixels)) > 8  # text, badges and rules on white: many distinct byte values


def _pdf_pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?!s)", pdf))


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    _require_chromium()
    run = _write_run(tmp_path_factory.mktemp("browser") / "run")
    return build_reports(run, allure=False).html


def test_report_loads_without_console_errors_and_prints(report: Path) -> None:
    page = render_page(report, pdf=True, screenshot=True, run_id="run-browser", edition="v2.1.1",
                       title="EN 303 645 conformance report", timeout=120)
    assert page.console_errors == []
    assert page.png is not None and _png_is_not_blank(page.png)
    (report.parent / "screenshot.png").write_bytes(page.png)
    assert page.pdf is not None and page.pdf.startswith(b"%PDF")
    assert _pdf_pages(page.pdf) > 1


def test_console_errors_are_seen(tmp_path: Path) -> None:
    # The check above can fail: a page that logs an error and throws is caught.
    _require_chromium()
    page = tmp_path / "bad.html"
    page.write_text("<!DOCTYPE html><html><body><p>x</p><script>console.error('broken');"
                    "throw new Error('boom')</script></body></html>", encoding="utf-8")
    errors = render_page(page, pdf=False, timeout=60).console_errors
    assert any("broken" in e for e in errors) and any("boom" in e for e in errors)


def test_cli_writes_the_pdf(report: Path) -> None:
    from harness.cli import main

    run_dir = report.parent
    code = main(["report", str(run_dir), "--pdf", "--no-allure"])
    assert code == 1  # 5.1-5 FAILs on an applicable mandatory provision
    pdf = (run_dir / "conformance.pdf").read_bytes()
    assert pdf.startswith(b"%PDF") and _pdf_pages(pdf) > 1
    assert (run_dir / "conformance.pdf").stat().st_mode & 0o077 == 0


def test_network_fetches_are_blocked_and_reported(tmp_path: Path) -> None:
    # A report must load nothing from outside; if one ever tried, the test above would see it.
    _require_chromium()
    page = tmp_path / "fetch.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png" alt=""></body></html>',
                    encoding="utf-8")
    errors = render_page(page, pdf=False, timeout=60).console_errors
    assert errors and any("127.0.0.1:9" in e or "blocked" in e.lower() for e in errors)
