from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from harness.report.html import render_evidence, render_html, safe_relative_link, write_html
from harness.report.model import EvidenceItem, build_report_model

try:
    from test_report_support import SCRIPT, fake_catalogue, write_full_run
except ImportError:  # tests/unit became a package
    from tests.unit.test_report_support import SCRIPT, fake_catalogue, write_full_run


@pytest.fixture()
def run(tmp_path: Path) -> Path:
    return write_full_run(tmp_path / "run")


@pytest.fixture()
def page(run: Path) -> str:
    path = write_html(build_report_model(run, fake_catalogue()), run / "conformance.html")
    return path.read_text("utf-8")


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def tags(page: str) -> list[tuple[str, dict[str, str | None]]]:
    parser = _Tags()
    parser.feed(page)
    return parser.tags


def test_single_self_contained_file(page):
    found = tags(page)
    names = {t for t, _ in found}
    assert "script" not in names and "link" not in names and "img" not in names and "iframe" not in names
    assert not any("src" in attrs for _, attrs in found)
    assert "<style>" in page and "@media print" in page
    # every link is in-page or relative inside the run directory
    hrefs = [a["href"] for t, a in found if t == "a"]
    assert hrefs and all(h.startswith("#") or not re.match(r"^[a-z]+:|^/|\.\./", h) for h in hrefs)


def test_script_is_escaped(page):
    assert SCRIPT not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page


def test_header_and_sections(page):
    assert "Acme Cam X" in page and "1.2.3" in page and "run-42" in page
    assert "ab" * 32 in page and "bench-1" in page
    assert "UK PSTI Schedule 1" in page
    assert "supports deemed compliance" in page and "no deemed-compliance route" in page
    assert "Other (not in the catalogue)" in page and "9.9-1" in page
    assert "5.1 No universal default passwords" in page
    assert "MC(1)" in page
    assert 'class="badge v-NOT_ASSESSED"' in page and 'class="badge v-FAIL"' in page


def test_evidence_rendered_by_kind(page):
    assert "<th>port</th>" in page and "<td>8883</td>" in page  # table
    assert 'class="finding"' in page  # finding highlighted
    assert "http://127.0.0.1:8080/support" in page and "Supported until 2030-12-31" in page  # document
    assert "0.25 s" in page  # measurement
    assert "lighttpd" in page  # observation
    assert "OpenSSL 0.9.8 found" in page  # text
    assert "&quot;deep&quot;" in page  # unexpected kind -> JSON
    assert "superseded by a rerun" in page and "HTTP server unreachable" in page


def test_attachment_link_points_into_run_dir(run, page):
    links = [a["href"] for t, a in tags(page) if t == "a" and a.get("href", "").startswith("attachments/")]
    assert links
    for href in links:
        from urllib.parse import unquote

        assert (run / unquote(href)).is_file()


def test_allure_link_only_when_report_exists(run):
    model = build_report_model(run, fake_catalogue())
    assert "allure-report/index.html" not in render_html(model)
    (run / "allure-report").mkdir()
    (run / "allure-report" / "index.html").write_text("<html></html>")
    assert 'href="allure-report/index.html"' in render_html(model)


def test_odd_evidence_shapes_fall_back_to_json():
    for ev in [EvidenceItem("table", "t", {"not": "rows"}), EvidenceItem("measurement", "m", [1, 2]),
               EvidenceItem("attachment", "a", 5), EvidenceItem("text", "t", {"x": SCRIPT})]:
        out = render_evidence(ev)
        assert "<pre>" in out and SCRIPT not in out


def test_control_characters_made_visible():
    out = render_evidence(EvidenceItem("text", "banner", "login:\x1b[0m\x00"))
    assert "\\x1b" in out and "\\x00" in out and "\x1b" not in out


def test_unsafe_attachment_paths_are_not_linked():
    assert safe_relative_link("attachments/abc/file.txt") == "attachments/abc/file.txt"
    assert safe_relative_link("attachments/a b/x#y.txt") == "attachments/a%20b/x%23y.txt"
    for bad in ["/etc/passwd", "../secret", "attachments/../../x", "javascript:alert(1)", ""]:
        assert safe_relative_link(bad) is None
    out = render_evidence(EvidenceItem("attachment", "x", "javascript:alert(1)"))
    assert "href" not in out


def test_empty_log_page(tmp_path):
    page = render_html(build_report_model(tmp_path, fake_catalogue()))
    assert "no test case record" in page and "NOT ASSESSED" in page
