"""Reports of a run, built from its results log (and the static catalogue) only.

``build_reports(run_dir)`` writes, into the run directory::

    conformance.html   one self-contained page for people (prints well)
    conformance.json   the whole report model, sorted keys
    conformance.csv    one row per provision
    junit.xml          one testcase per (test case, unit) for CI dashboards
    allure-results/environment.properties, categories.json   when allure-results exists
    allure-report/     rendered by Allure 3 (Node) when asked and available

and then applies the run directory's permission policy (files 0600, folders 0700,
``harness.results.secure_run_dir``) to everything in it, including what allure-pytest and
Allure wrote.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.redact import REDACTOR
from harness.report._text import terminal_safe
from harness.report.allure_extras import (
    render_allure_html,
    write_allure_categories,
    write_allure_environment,
)
from harness.report.html import HTML_NAME, write_html
from harness.report.json_report import CSV_NAME, JSON_NAME, write_csv, write_json
from harness.report.junit import JUNIT_NAME, write_junit
from harness.report.model import (
    NOT_APPLICABLE_TEXT,
    NOT_ASSESSED,
    VERDICT_ORDER,
    ProvisionResult,
    ReportModel,
    build_report_model,
)
from harness.results import secure_run_dir

__all__ = [
    "EXIT_FAIL",
    "EXIT_INCONCLUSIVE",
    "EXIT_OK",
    "NOT_ASSESSED",
    "ReportModel",
    "ReportPaths",
    "build_report_model",
    "build_reports",
    "exit_code",
    "summary_lines",
]

EXIT_OK = 0
EXIT_FAIL = 1
EXIT_INCONCLUSIVE = 3


@dataclass
class ReportPaths:
    html: Path
    json: Path
    csv: Path
    junit: Path
    model: ReportModel
    allure_results: Path | None = None  # where the extras were written, None when no results dir
    allure_report: Path | None = None  # the rendered report, None when it was not rendered
    allure_message: str = ""


def build_reports(run_dir: str | Path, *, catalogue: Any = None, allure: bool = True,
                  allure_timeout: float | None = None) -> ReportPaths:
    run_dir = Path(run_dir)
    model = build_report_model(run_dir, catalogue)
    allure_results = run_dir / "allure-results"
    extras_dir: Path | None = None
    allure_report: Path | None = None
    message = "no allure-results folder in the run directory"
    if allure_results.is_dir():
        write_allure_environment(allure_results, model)
        write_allure_categories(allure_results)
        extras_dir = allure_results
        message = "Allure rendering not requested"
        if allure:
            kw = {} if allure_timeout is None else {"timeout": allure_timeout}
            ok, message = render_allure_html(allure_results, run_dir / "allure-report", **kw)
            allure_report = run_dir / "allure-report" if ok else None
    # The HTML links the Allure report only when it exists, so it is written after it.
    paths = ReportPaths(
        html=write_html(model, run_dir / HTML_NAME),
        json=write_json(model, run_dir / JSON_NAME),
        csv=write_csv(model, run_dir / CSV_NAME),
        junit=write_junit(model, run_dir / JUNIT_NAME),
        model=model,
        allure_results=extras_dir,
        allure_report=allure_report,
        allure_message=message,
    )
    secure_run_dir(run_dir)
    return paths


def _gates(p: ProvisionResult) -> bool:
    # Unknown applicability or an unknown status counts: a FAIL that cannot be classified must
    # not slip through as a pass of the run.
    return p.mandatory is not False and p.applicability != NOT_APPLICABLE_TEXT


def exit_code(model: ReportModel) -> int:
    """0 clean, 1 a FAIL on an applicable mandatory provision, 3 no such FAIL but an INCONCLUSIVE
    (or a results line that could not be read and not be tied to a test case)."""
    if not model.cases:
        return EXIT_INCONCLUSIVE  # nothing was judged: never a clean run
    gating = [p.verdict for p in model.provisions if _gates(p)]
    if "FAIL" in gating:
        return EXIT_FAIL
    if "INCONCLUSIVE" in gating:
        return EXIT_INCONCLUSIVE
    if model.run.unattributed_corrupt_lines:
        return EXIT_INCONCLUSIVE  # an unreadable record may have been a FAIL
    return EXIT_OK


def summary_lines(model: ReportModel, report_path: str | Path | None = None) -> list[str]:
    """Terminal summary: one line per provision, the counts, the exit code and the report path."""
    run = model.run
    product = " ".join(str(run.product[k]) for k in ("manufacturer", "model") if run.product.get(k))
    firmware = run.product.get("firmware")
    head = f"EN 303 645 conformance of {product or 'unknown product'}"
    head += f" (firmware {firmware})" if firmware else ""
    lines = [head + (f", run {run.run_id}" if run.run_id else "")]
    width = max((len(p.id) for p in model.provisions), default=6)
    for p in model.provisions:
        status = p.status or "?"
        reason = ""
        # A FAIL or INCONCLUSIVE shows what the device or the lab did; a provision awaiting a
        # person shows what it awaits ("automated PASS; awaiting assessor: 5.1-1-1").
        if p.verdict in ("PENDING_REVIEW", NOT_ASSESSED) and p.state:
            reason = "  " + p.state[:100]
        elif p.verdict not in ("PASS", "NOT_APPLICABLE") and p.reasons:
            reason = "  " + p.reasons[0][:100]
        lines.append(f"  {p.id:<{width}}  {status:<2}  {p.applicability:<14}  {p.verdict:<14}{reason}".rstrip())
    counts = ", ".join(f"{model.counts.get(v, 0)} {v}" for v in VERDICT_ORDER)
    lines.append(f"Provisions: {counts} ({len(model.provisions)} in all)")
    if model.test_case_counts:
        tc_counts = ", ".join(f"{model.test_case_counts.get(v, 0)} {v}" for v in VERDICT_ORDER if v != NOT_ASSESSED)
        recorded = sum(model.test_case_counts.values())
        lines.append(f"Test cases: {tc_counts} ({recorded} with a record)")
    lines.append(f"Test cases x units: {len(model.cases)} latest records, "
                 f"{run.record_counts.get('superseded', 0)} superseded by reruns")
    if model.decisions:
        by_status = Counter(d.status for d in model.decisions)
        lines.append("Assessor decisions: " + ", ".join(f"{n} {s}" for s, n in sorted(by_status.items())))
    code = exit_code(model)
    meaning = {EXIT_OK: "no FAIL or INCONCLUSIVE on an applicable mandatory provision",
               EXIT_FAIL: "FAIL on an applicable mandatory provision",
               EXIT_INCONCLUSIVE: "INCONCLUSIVE on an applicable mandatory provision"}[code]
    lines.append(f"Exit code {code}: {meaning}")
    lines += [f"Warning: {w}" for w in run.warnings]
    path = report_path or (Path(model.run_dir) / HTML_NAME if model.run_dir else None)
    if path:
        lines.append(f"Report: {path}")
    # Reasons and warnings carry device text: redacted, then made inert for the terminal.
    return [terminal_safe(REDACTOR.redact(line)) for line in lines]
