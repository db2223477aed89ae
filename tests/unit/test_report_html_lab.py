"""The report a lab submits: executive summary, units, schemes, decisions, clause pages, appendix."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.report import model as model_module
from harness.report.html import render_html, scheme_results
from harness.report.model import build_report_model
from harness.standard import load_catalogue

try:
    from test_report_support import SCRIPT, fake_catalogue, write_full_run
except ImportError:  # tests/unit became a package
    from tests.unit.test_report_support import SCRIPT, fake_catalogue, write_full_run


@pytest.fixture()
def run(tmp_path: Path) -> Path:
    return write_full_run(tmp_path / "run")


@pytest.fixture()
def model(run: Path):
    return build_report_model(run, fake_catalogue())


def _section(page: str, sid: str) -> str:
    start = page.index(f'<section id="{sid}"')
    return page[start:page.index("</section>", start)]


def test_sections_in_the_order_a_reader_needs(model) -> None:
    page = render_html(model)
    order = [page.index(f'<section id="{sid}"') for sid in
             ("summary", "psti", "schemes", "units", "provisions", "decisions", "cases", "appendix", "run")]
    assert order == sorted(order)


def test_executive_summary(model) -> None:
    summary = _section(render_html(model), "summary")
    assert "Acme Cam X" in summary and "rev B / 1.2.3" in summary and "U1, U2" in summary
    assert "EN 303 645 V2.1.1" in summary and "TS 103 701 V1.1.1" in summary
    assert "<th>Mandatory provisions</th>" in summary and "<th>Test cases</th>" in summary
    assert "<th>Test cases &times; units</th>" in summary
    assert "Lab bench-1" in summary and "pytest, robot" in summary and "nobody yet" in summary
    assert "supports deemed compliance" in summary and "not yet judged" in summary


def test_units_table_counts_and_links_problems(model) -> None:
    units = _section(render_html(model), "units")
    assert "<th>U1</th>" in units and "<th>U2</th>" in units and "profile (no single unit)" in units
    assert "5.5-2-1" in units  # the FAIL of the profile-level case is linked


def test_other_schemes_are_honest(model) -> None:
    schemes = _section(render_html(model), "schemes")
    assert "EN 18031-1" in schemes and "Singapore" in schemes
    assert "Indicative" in schemes and "2025-08-01" in schemes
    assert "does no binary analysis" in schemes and "not a penetration test" in schemes
    results = {s["scheme"]: s for s in scheme_results(model)}
    cls = {e["id"]: e for e in results["sg-cls"]["entries"]}
    assert cls["level 3"]["outcome"].startswith("not judged by the harness")
    assert cls["level 1"]["outcome"].startswith("not yet supported")  # the fake run judged little


def test_open_items_without_decisions(model) -> None:
    decisions = _section(render_html(model), "decisions")
    assert "No assessor decision is recorded" in decisions
    assert "5.3-13-2 [U1]" in decisions and "assessor to confirm the end date" in decisions


def test_decisions_are_shown_with_status_and_escaped(model) -> None:
    if not hasattr(model_module, "DecisionResult"):
        pytest.skip("the report model has no assessor decisions yet")
    d = model_module.DecisionResult(
        decision_id="d1", test_case="5.3-13-2", unit="U1", verdict="PASS", assessor=f"A. Assessor {SCRIPT}",
        date="2026-12-06", rationale="support page names 2030-12-31", overrides="",
        evidence=[{"ref": "support.pdf", "sha256": "ee" * 32}], status="stale",
        status_reason="made for firmware 1.0.0, the run has 1.2.3")
    model.decisions = [d]
    decisions = _section(render_html(model), "decisions")
    assert SCRIPT not in decisions and "A. Assessor &lt;script&gt;" in decisions
    assert "stale" in decisions and "made for firmware 1.0.0" in decisions
    assert "support.pdf" in decisions and "ee" * 32 in decisions


def test_cases_grouped_by_clause_for_page_breaks(model) -> None:
    cases = _section(render_html(model), "cases")
    assert cases.count('class="clause-group"') == 6  # 5.1 5.2 5.3 5.5 5.6 and other: the clauses with records
    assert '<h3 class="clause-title">5.1 No universal default passwords</h3>' in cases


def test_print_stylesheet(model) -> None:
    page = render_html(model)
    assert "@page" in page and "@media print" in page
    assert ".clause-group { break-before: page" in page
    assert 'class="toc noprint' in page


def test_appendix_checks_attachment_hashes(run: Path, model) -> None:
    appendix = _section(render_html(model), "appendix")
    assert "matches the file" in appendix and "nmap transcript.txt" in appendix
    att = next(a for c in model.cases for a in c.attachments)
    assert att.sha256 in appendix
    (run / att.path).write_text("tampered", encoding="utf-8")
    assert "DOES NOT MATCH the file" in _section(render_html(model), "appendix")
    (run / att.path).unlink()
    assert "file missing from the run directory" in _section(render_html(model), "appendix")


def test_report_against_v313(run: Path) -> None:
    model = build_report_model(run, load_catalogue("v3.1.3"))
    new = model.provision("6-6")
    assert new is not None and new.verdict == "PENDING_REVIEW" and "new in V3.1.3" in " ".join(new.reasons)
    assert model.provision("5.13-1A").test_cases == ["5.13-1-1", "5.13-1-2"]
    page = render_html(model)
    assert "ETSI EN 303 645 V3.1.3 (2024-09)" in page
    assert "their verdicts are mapped onto this edition" in page
    assert "the regulations cite EN 303 645 V2.1.1" in page
    assert "MCF(14,e)" in page or "MF(a)" in page


def test_appendix_inlines_text_evidence_escaped_and_lists_run_transcripts(run: Path, model) -> None:
    (run / "transcripts").mkdir()
    (run / "transcripts" / "U1-console.log").write_text("login: root\n" + SCRIPT, encoding="utf-8")
    appendix = _section(render_html(model), "appendix")
    assert "Transcripts and text evidence" in appendix and "PORT 443/tcp open https" in appendix
    assert SCRIPT not in appendix and "&lt;script&gt;" in appendix
    assert "transcripts/U1-console.log" in appendix
    import hashlib
    assert hashlib.sha256(("login: root\n" + SCRIPT).encode()).hexdigest() in appendix


def test_many_warnings_do_not_push_the_summary_down(model) -> None:
    model.run.warnings = [f"warning number {i}" for i in range(40)]
    page = render_html(model)
    header = page[:page.index('<section id="summary"')]
    assert "warning number 4" in header and "warning number 5<" not in header and "35 more warning(s)" in header
    assert "warning number 39" in _section(page, "run")
