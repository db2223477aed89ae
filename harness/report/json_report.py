"""``conformance.json`` (the whole model) and ``conformance.csv`` (one row per provision: its
verdict, the readable state line, what awaits the assessor and who decided what)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from harness.report._text import clean, write_atomic
from harness.report.model import APPLICABLE, NOT_APPLICABLE_TEXT, ReportModel, dumps

JSON_NAME = "conformance.json"
CSV_NAME = "conformance.csv"
CSV_COLUMNS = ["id", "clause", "status", "mandatory", "applicable", "verdict", "test_cases", "reasons", "state",
               "awaiting_assessor", "decided_by"]


def write_json(model: ReportModel, path: str | Path) -> Path:
    return write_atomic(path, dumps(model))


def read_json(path: str | Path) -> ReportModel:
    """Load a ``conformance.json`` back into a model (for tools that post-process reports)."""
    path = Path(path)
    return ReportModel.from_dict(json.loads(path.read_text("utf-8")), run_dir=str(path.parent))


def _cell(value: Any) -> str:
    text = clean(value)
    # A spreadsheet runs a cell that starts like a formula; reasons can quote device text.
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def csv_text(model: ReportModel) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for p in model.provisions:
        applicable = {APPLICABLE: "yes", NOT_APPLICABLE_TEXT: "no"}.get(p.applicability, "unknown")
        mandatory = "unknown" if p.mandatory is None else ("yes" if p.mandatory else "no")
        writer.writerow([_cell(x) for x in (
            p.id, p.clause, p.status, mandatory, applicable, p.verdict,
            ";".join(p.test_cases), " | ".join(p.reasons), p.state, ";".join(p.awaiting),
            " | ".join(p.decided_by))])
    return buf.getvalue()


def write_csv(model: ReportModel, path: str | Path) -> Path:
    return write_atomic(path, csv_text(model))
