"""``conformance.html``: one self-contained page (inline CSS, no script, no external asset).

Every string that came from the log goes through ``_e`` (html.escape after making control
characters visible): device banners and transcripts are attacker-controlled text.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path, PurePosixPath
from typing import Any
from urllib.parse import quote

from harness.report._text import clean, write_atomic
from harness.report.model import (
    NOT_ASSESSED,
    OTHER_GROUP,
    VERDICT_ORDER,
    CaseResult,
    EvidenceItem,
    ProvisionResult,
    ReportModel,
)

HTML_NAME = "conformance.html"
ALLURE_INDEX = "allure-report/index.html"
_DOC_TEXT_KEYS = ("text", "body", "content", "excerpt", "html")
_DOC_TEXT_LIMIT = 20_000

_VERDICT_LABEL = {
    "PASS": "PASS",
    "FAIL": "FAIL",
    "INCONCLUSIVE": "INCONCLUSIVE",
    "PENDING_REVIEW": "PENDING REVIEW",
    "NOT_APPLICABLE": "N/A",
    NOT_ASSESSED: "NOT ASSESSED",
}


def _e(value: Any) -> str:
    return html.escape(clean("" if value is None else value), quote=True)


def _css() -> str:
    try:
        return (resources.files("harness.report") / "templates" / "conformance.css").read_text("utf-8")
    except OSError:  # package data missing from a broken install: still a readable page
        return "body{font-family:sans-serif} .badge{border:1px solid #000;padding:0 .3em}"


def badge(verdict: str) -> str:
    css = verdict if verdict in _VERDICT_LABEL else "NOT_ASSESSED"
    return f'<span class="badge v-{css}">{_e(_VERDICT_LABEL.get(verdict, verdict))}</span>'


def _json_pre(data: Any) -> str:
    try:
        text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=True, default=repr)
    except (TypeError, ValueError):
        text = repr(data)
    return f"<pre>{_e(text)}</pre>"


def _scalar(value: Any) -> str:
    if isinstance(value, (dict, list)):
        return f'<code>{_e(json.dumps(value, ensure_ascii=False, sort_keys=True, default=repr))}</code>'
    return _e(value)


def _kv_table(data: dict[str, Any], skip: tuple[str, ...] = ()) -> str:
    rows = "".join(f"<tr><th>{_e(k)}</th><td>{_scalar(v)}</td></tr>"
                   for k, v in data.items() if k not in skip)
    return f'<table class="kv small">{rows}</table>' if rows else ""


def safe_relative_link(path: str) -> str | None:
    """The href for a path inside the run directory, or None when it points outside of it."""
    p = PurePosixPath(str(path).replace("\\", "/"))
    if not p.parts or p.is_absolute() or ".." in p.parts or ":" in p.parts[0]:
        return None
    return quote(str(p), safe="/")


# Each renderer returns None for a shape it does not know; the caller then shows the JSON.

def _r_text(data: Any) -> str | None:
    if isinstance(data, str):
        return f"<pre>{_e(data)}</pre>" if "\n" in data else f"<p>{_e(data)}</p>"
    if isinstance(data, list) and all(isinstance(x, str) for x in data):
        return f"<pre>{_e(chr(10).join(data))}</pre>"
    return None


def _r_table(data: Any) -> str | None:
    if isinstance(data, dict) and isinstance(data.get("rows"), list):
        columns = data.get("columns")
        rows = data["rows"]
        if isinstance(columns, list) and all(isinstance(r, list) for r in rows):
            head = "".join(f"<th>{_e(c)}</th>" for c in columns)
            body = "".join("<tr>" + "".join(f"<td>{_scalar(v)}</td>" for v in r) + "</tr>" for r in rows)
            return f'<table class="small"><tr>{head}</tr>{body}</table>'
        data = rows
    if not isinstance(data, list):
        return None
    if not data:
        return '<p class="muted">(empty table)</p>'
    if all(isinstance(r, dict) for r in data):
        columns = list(dict.fromkeys(k for r in data for k in r))
        head = "".join(f"<th>{_e(c)}</th>" for c in columns)
        body = "".join("<tr>" + "".join(f"<td>{_scalar(r.get(c, ''))}</td>" for c in columns) + "</tr>"
                       for r in data)
        return f'<table class="small"><tr>{head}</tr>{body}</table>'
    if all(isinstance(r, list) for r in data):
        body = "".join("<tr>" + "".join(f"<td>{_scalar(v)}</td>" for v in r) + "</tr>" for r in data)
        return f'<table class="small">{body}</table>'
    return None


def _r_finding(data: Any) -> str:
    if isinstance(data, dict):
        inner = _kv_table(data)
    elif isinstance(data, (list, tuple)):
        inner = _json_pre(data)
    else:
        inner = f"<p>{_e(data)}</p>"
    return f'<div class="finding"><strong>Finding (device defect)</strong>{inner}</div>'


def _r_observation(data: Any) -> str | None:
    if isinstance(data, dict):
        return _kv_table(data) or '<p class="muted">(empty)</p>'
    if isinstance(data, list):
        return None
    return f"<p>{_e(data)}</p>"


def _r_measurement(data: Any) -> str | None:
    if isinstance(data, (int, float, str)) and not isinstance(data, bool):
        return f'<p class="mono">{_e(data)}</p>'
    if isinstance(data, dict) and "value" in data:
        line = f'<p class="mono">{_e(data["value"])} {_e(data.get("unit", ""))}</p>'
        return line + _kv_table(data, skip=("value", "unit"))
    return None


def _r_document(data: Any) -> str | None:
    if isinstance(data, str):
        return _long_pre(data)
    if not isinstance(data, dict):
        return None
    parts = []
    if "url" in data or "status" in data:
        parts.append(f'<p><span class="mono">{_e(data.get("url", ""))}</span> '
                     f'&mdash; status {_e(data.get("status", "?"))}</p>')
    parts.append(_kv_table(data, skip=("url", "status", *_DOC_TEXT_KEYS)))
    for key in _DOC_TEXT_KEYS:
        if isinstance(data.get(key), str):
            parts.append(f'<div class="small muted">{_e(key)}</div>{_long_pre(data[key])}')
        elif key in data:
            parts.append(_json_pre({key: data[key]}))
    return "".join(parts)


def _long_pre(text: str) -> str:
    if len(text) <= _DOC_TEXT_LIMIT:
        return f"<pre>{_e(text)}</pre>"
    return (f"<pre>{_e(text[:_DOC_TEXT_LIMIT])}</pre>"
            f'<p class="muted small">(first {_DOC_TEXT_LIMIT} of {len(text)} characters shown; the full '
            "text is in conformance.json)</p>")


def _r_attachment(data: Any) -> str | None:
    if isinstance(data, str):
        return _attachment_link(data, data)
    if isinstance(data, dict) and isinstance(data.get("path"), str):
        return _attachment_link(data["path"], str(data.get("name") or data["path"])) + _kv_table(
            data, skip=("path", "name"))
    return None


def _attachment_link(path: str, label: str, extra: str = "") -> str:
    href = safe_relative_link(path)
    if href is None:
        return f'<p>{_e(label)} <span class="muted">(path outside the run directory: {_e(path)})</span></p>'
    return f'<p>file <a href="{_e(href)}">{_e(label)}</a> <span class="muted small">{extra}</span></p>'


_RENDERERS = {
    "text": _r_text,
    "table": _r_table,
    "finding": _r_finding,
    "observation": _r_observation,
    "measurement": _r_measurement,
    "document": _r_document,
    "attachment": _r_attachment,
}


def render_evidence(ev: EvidenceItem) -> str:
    renderer = _RENDERERS.get(ev.kind)
    body: str | None = None
    if renderer is not None:
        try:
            body = renderer(ev.data)
        except Exception:  # an odd shape must not cost the rest of the report
            body = None
    if body is None:
        body = _json_pre(ev.data)
    return (f'<div class="evidence ev-{_e(ev.kind)}"><span class="ev-name">{_e(ev.name or ev.kind)}</span> '
            f'<span class="muted small">({_e(ev.kind)})</span>{body}</div>')


def _meta_rows(model: ReportModel) -> str:
    run = model.run
    lab = run.lab
    rows = [
        ("Run id", f'<span class="mono">{_e(run.run_id or "unknown")}</span>'),
        ("Product", _e(_product_line(run.product))),
        ("Profile", f'{_e(run.profile_path or "unknown")}<br><span class="mono small">sha256 '
                    f'{_e(run.profile_sha256 or "-")}</span>'
                    + (f' <span class="muted small">schema {_e(run.profile_schema_version)}</span>'
                       if run.profile_schema_version is not None else "")),
        ("Lab", f'{_e(lab.get("name", "unknown"))} <span class="muted small">{_e(lab.get("path", ""))}</span>'
                f'<br><span class="mono small">sha256 {_e(lab.get("sha256", "-"))}</span>'),
        ("Units", _e(", ".join(run.units) or "none recorded")),
        ("Runners", _e(", ".join(run.runners) or "none recorded")),
        ("Harness version", _e(run.harness_version or "unknown")),
        ("Catalogue", _e(f"EN 303 645 {run.catalogue}" if run.catalogue else "not available")),
        ("Time", f"{_e(run.first_time or '-')} &rarr; {_e(run.last_time or '-')}"),
        ("Results log", f'<span class="mono small">sha256 {_e(run.results_sha256)}</span><br>'
                        f'<span class="small">{_e(_counts_line(run.record_counts))}</span>'),
    ]
    if run.argv:
        rows.append(("Command", "".join(f'<div class="mono small">{_e(" ".join(a))}</div>' for a in run.argv)))
    return "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)


def _product_line(product: dict[str, Any]) -> str:
    if not product:
        return "unknown product"
    name = " ".join(str(product[k]) for k in ("manufacturer", "model") if product.get(k))
    extra = [f"{k} {product[k]}" for k in ("hardware", "firmware") if product.get(k)]
    extra += [f"{k} {v}" for k, v in product.items() if k not in ("manufacturer", "model", "hardware", "firmware")]
    return name + (f" ({', '.join(extra)})" if extra else "")


def _counts_line(counts: dict[str, int]) -> str:
    return ", ".join(f"{v} {k.replace('_', ' ')}" for k, v in counts.items())


def _psti_section(model: ReportModel) -> str:
    if not model.psti:
        return ('<h2 id="psti">UK PSTI Schedule 1</h2><p class="muted">No PSTI mapping: the catalogue was '
                "not available when this report was built.</p>")
    rows = []
    for req in model.psti:
        provs = " ".join(f'<a href="#p-{_e(p)}">{_e(p)}</a>&nbsp;{badge(v)}' for p, v in req.verdicts.items())
        note = f'<div class="muted small">{_e(req.note)}</div>' if req.note else ""
        route = "deemed compliance via EN 303 645" if req.deemed_compliance else "no deemed-compliance route"
        rows.append(f'<tr class="psti-{_e(req.outcome)}"><td>{_e(req.number)}</td>'
                    f'<td><strong>{_e(req.title)}</strong><div class="muted small">{_e(route)}</div></td>'
                    f"<td>{provs}</td><td>{_e(req.statement)}{note}</td></tr>")
    return ('<h2 id="psti">UK PSTI Schedule 1 (SI 2023/1007)</h2>'
            "<table><tr><th>#</th><th>Requirement</th><th>EN 303 645 provisions</th><th>Statement</th></tr>"
            + "".join(rows) + "</table>")


def _summary_section(model: ReportModel) -> str:
    head = "".join(f"<th>{badge(v)}</th>" for v in VERDICT_ORDER)

    def row(label: str, provs: list[ProvisionResult]) -> str:
        cells = "".join(f"<td>{sum(1 for p in provs if p.verdict == v)}</td>" for v in VERDICT_ORDER)
        return f"<tr><th>{_e(label)}</th>{cells}<td>{len(provs)}</td></tr>"

    mandatory = [p for p in model.provisions if p.mandatory is True]
    recommended = [p for p in model.provisions if p.mandatory is False]
    unknown = [p for p in model.provisions if p.mandatory is None]
    case_cells = "".join(f"<td>{model.case_counts.get(v, 0)}</td>" for v in VERDICT_ORDER)
    return ('<h2 id="summary">Summary</h2><table class="counts">'
            f"<tr><th></th>{head}<th>total</th></tr>"
            + row("Mandatory provisions (M, MC)", mandatory)
            + row("Recommendations (R, RC)", recommended)
            + (row("Status unknown (counted as mandatory for the exit code)", unknown) if unknown else "")
            + row("All provisions", model.provisions)
            + f"<tr><th>Test cases &times; units</th>{case_cells}<td>{len(model.cases)}</td></tr></table>"
            '<p class="small muted">NOT ASSESSED: the harness has no record for it, so an assessor must '
            "judge it. It is never a pass.</p>")


def _status_text(p: ProvisionResult) -> str:
    if not p.status:
        return "?"
    if p.conditions:
        return f"{p.status}({','.join(str(c) for c in p.conditions)})"
    return p.status


def _provision_table(model: ReportModel, anchors: dict[tuple[str, str | None], str]) -> str:
    rows = []
    for group, title in model.clauses.items():
        provs = [p for p in model.provisions if p.group == group]
        if not provs:
            continue
        label = "Other (not in the catalogue)" if group == OTHER_GROUP else f"{group} {title}".strip()
        rows.append(f'<tr class="clause"><th colspan="5">{_e(label)}</th></tr>')
        for p in provs:
            cases = model.cases_of(p.id)
            links = "<br>".join(f'<a href="#{anchors[(c.test_case, c.unit)]}">{_e(c.label)}</a> {badge(c.verdict)}'
                                for c in cases)
            if p.missing:
                links += f'<div class="small muted">no record: {_e(", ".join(p.missing))}</div>'
            elif not cases and p.test_cases:
                links += f'<div class="small muted">{_e(", ".join(p.test_cases))}</div>'
            reasons = ""
            if p.verdict != "PASS" and p.reasons:
                reasons = "".join(f'<div class="small">{_e(r)}</div>' for r in p.reasons[:6])
            app_reason = f'<div class="small muted">{_e(p.applicability_reason)}</div>' if p.applicability_reason else ""
            rows.append(
                f'<tr id="p-{_e(p.id)}"><td><strong>{_e(p.id)}</strong><div class="small">{_e(p.summary)}</div></td>'
                f"<td>{_e(_status_text(p))}</td><td>{_e(p.applicability)}{app_reason}</td>"
                f"<td>{badge(p.verdict)}{reasons}</td><td>{links}</td></tr>")
    return ('<h2 id="provisions">Provisions</h2><table><tr><th>Provision</th><th>Status</th>'
            "<th>Applicability</th><th>Verdict</th><th>Test cases</th></tr>" + "".join(rows) + "</table>")


def _case_block(c: CaseResult, anchor: str) -> str:
    parts = [f'<div class="case" id="{anchor}"><h3>{_e(c.label)} {badge(c.verdict)} '
             f'<span class="muted small">provision <a href="#p-{_e(c.provision)}">{_e(c.provision)}</a>'
             f'{" &middot; " + _e(c.kind) if c.kind else ""}</span></h3>']
    if c.title:
        parts.append(f"<div>{_e(c.title)}</div>")
    parts.append(f"<p><strong>Reason:</strong> {_e(c.reason)}</p>")
    parts.append('<p class="small muted">'
                 f"runner {_e(c.runner or '?')} &middot; {_e(c.name)} &middot; {c.duration_s:.3f} s &middot; "
                 f"{_e(c.started or '?')} &rarr; {_e(c.finished or '?')} &middot; record "
                 f'<span class="mono">{_e(c.record_id)}</span></p>')
    for old in c.superseded:
        parts.append(f'<p class="small muted">superseded by a rerun: {badge(old.verdict)} {_e(old.reason)} '
                     f"(finished {_e(old.finished)}, record {_e(old.record_id)})</p>")
    for ev in c.evidence:
        parts.append(render_evidence(ev))
    for att in c.attachments:
        extra = _e(" ".join(x for x in (att.mime, f"sha256 {att.sha256}" if att.sha256 else "") if x))
        parts.append(_attachment_link(att.path, att.name or att.path, extra))
    if c.measurements:
        parts.append('<div class="small"><strong>Measurements</strong></div>' + _kv_table(c.measurements))
    parts.append("</div>")
    return "".join(parts)


def render_html(model: ReportModel) -> str:
    anchors = {(c.test_case, c.unit): f"c-{i}" for i, c in enumerate(model.cases)}
    run = model.run
    title = f"EN 303 645 conformance: {_product_line(run.product)}"
    warnings = "".join(f'<div class="warn">{_e(w)}</div>' for w in run.warnings)
    allure = ""
    if model.run_dir and (Path(model.run_dir) / ALLURE_INDEX).is_file():
        allure = f'<p class="noprint">Step-level detail: <a href="{ALLURE_INDEX}">Allure report</a></p>'
    cases = "".join(_case_block(c, anchors[(c.test_case, c.unit)]) for c in model.cases)
    if not cases:
        cases = '<p class="muted">The results log holds no test case record.</p>'
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_css()}</style></head><body>"
        f"<header><h1>{_e(title)}</h1>"
        '<p class="muted">ETSI EN 303 645 assessed per ETSI TS 103 701, with the UK PSTI regime. '
        "Built from the run's results log only.</p>"
        f'<table class="meta">{_meta_rows(model)}</table>{allure}{warnings}</header>'
        + _psti_section(model)
        + _summary_section(model)
        + _provision_table(model, anchors)
        + f'<h2 id="cases">Test case results</h2>{cases}'
        + f'<footer><p class="small muted">Results log sha256 {_e(run.results_sha256)} &middot; harness '
        f"{_e(run.harness_version or '?')}</p></footer></body></html>\n"
    )


def write_html(model: ReportModel, path: str | Path) -> Path:
    return write_atomic(path, render_html(model))
