"""``conformance.html``: the report a lab submits, one self-contained page (inline CSS, no script,
no external asset) that prints to PDF (``harness.report.pdf``).

Sections: executive summary, UK PSTI, other schemes (EN 18031-1, Singapore CLS), units, provisions,
assessor decisions, test case results clause by clause, evidence appendix (attachments with their
sha256, checked against the files). Every string that came from the log goes through ``_e``
(html.escape after making control characters visible): device banners and transcripts are
attacker-controlled text.
"""

from __future__ import annotations

import hashlib
import html
import json
from collections import Counter
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
        why = ("the catalogue was not available when this report was built" if not model.run.catalogue else
               f"the regulations cite EN 303 645 V2.1.1, and this report is against {model.run.catalogue}; "
               "build it with --edition v2.1.1 for the deemed-compliance statement")
        return f'<section id="psti"><h2>UK PSTI Schedule 1</h2><p class="muted">No PSTI mapping: {_e(why)}.</p></section>'
    rows = []
    for req in model.psti:
        provs = " ".join(f'<a href="#p-{_e(p)}">{_e(p)}</a>&nbsp;{badge(v)}' for p, v in req.verdicts.items())
        note = f'<div class="muted small">{_e(req.note)}</div>' if req.note else ""
        route = "deemed compliance via EN 303 645" if req.deemed_compliance else "no deemed-compliance route"
        rows.append(f'<tr class="psti-{_e(req.outcome)}"><td>{_e(req.number)}</td>'
                    f'<td><strong>{_e(req.title)}</strong><div class="muted small">{_e(route)}</div></td>'
                    f"<td>{provs}</td><td>{_e(req.statement)}{note}</td></tr>")
    return ('<section id="psti"><h2>UK PSTI Schedule 1 (SI 2023/1007)</h2>'
            "<table><tr><th>#</th><th>Requirement</th><th>EN 303 645 provisions</th><th>Statement</th></tr>"
            + "".join(rows) + "</table></section>")


def _summary_section(model: ReportModel) -> str:
    head = "".join(f"<th>{badge(v)}</th>" for v in VERDICT_ORDER)

    def row(label: str, provs: list[ProvisionResult]) -> str:
        cells = "".join(f"<td>{sum(1 for p in provs if p.verdict == v)}</td>" for v in VERDICT_ORDER)
        return f"<tr><th>{_e(label)}</th>{cells}<td>{len(provs)}</td></tr>"

    mandatory = [p for p in model.provisions if p.mandatory is True]
    recommended = [p for p in model.provisions if p.mandatory is False]
    unknown = [p for p in model.provisions if p.mandatory is None]
    case_cells = "".join(f"<td>{model.case_counts.get(v, 0)}</td>" for v in VERDICT_ORDER)
    return ('<section id="counts"><h2>Verdict counts</h2><table class="counts">'
            f"<tr><th></th>{head}<th>total</th></tr>"
            + row("Mandatory provisions (M, MC)", mandatory)
            + row("Recommendations (R, RC)", recommended)
            + (row("Status unknown (counted as mandatory for the exit code)", unknown) if unknown else "")
            + row("All provisions", model.provisions)
            + f"<tr><th>Test cases &times; units</th>{case_cells}<td>{len(model.cases)}</td></tr></table>"
            '<p class="small muted">NOT ASSESSED: the harness has no record for it, so an assessor must '
            "judge it. It is never a pass.</p></section>")


def _status_text(p: ProvisionResult, cat: Any = None) -> str:
    known = getattr(cat, "provisions", {}).get(p.id) if cat is not None else None
    if known is not None and known.status == p.status:
        return str(known.status_text)  # with V3.1.3 feature letters, e.g. MF(a)
    if not p.status:
        return "?"
    if p.conditions:
        return f"{p.status}({','.join(str(c) for c in p.conditions)})"
    return p.status


def _provision_notes(p: ProvisionResult) -> str:
    """The readable state, the reasons of a non-PASS, decisions and why no test case counts for it;
    each line once (the model's state and reasons may say the same thing)."""
    lines: list[tuple[str, str]] = []
    state = getattr(p, "state", "")
    if state:
        lines.append(("small state", state))
    if p.verdict != "PASS":
        lines += [("small", r) for r in p.reasons[:6]]
    lines += [("small muted", f"decided: {d}") for d in getattr(p, "decided_by", None) or []]
    unassessed = getattr(p, "unassessed", "")
    if unassessed and not any(unassessed in text for _, text in lines):
        lines.append(("small muted", unassessed))
    seen: set[str] = set()
    out = []
    for css, text in lines:
        if text not in seen:
            seen.add(text)
            out.append(f'<div class="{css}">{_e(text)}</div>')
    return "".join(out)


def _provision_table(model: ReportModel, cat: Any = None) -> str:
    rows = []
    for group, title in model.clauses.items():
        provs = [p for p in model.provisions if p.group == group]
        if not provs:
            continue
        label = "Other (not in the catalogue)" if group == OTHER_GROUP else f"{group} {title}".strip()
        rows.append(f'<tr class="clause"><th colspan="5">{_e(label)}</th></tr>')
        for p in provs:
            cases = model.cases_of(p.id)
            links = "<br>".join(f'<a href="#{_e(_case_anchor(c))}">{_e(c.label)}</a> {badge(c.verdict)}'
                                for c in cases)
            if p.missing:
                links += f'<div class="small muted">no record: {_e(", ".join(p.missing))}</div>'
            elif not cases and p.test_cases:
                links += f'<div class="small muted">{_e(", ".join(p.test_cases))}</div>'
            reasons = _provision_notes(p)
            app_reason = f'<div class="small muted">{_e(p.applicability_reason)}</div>' if p.applicability_reason else ""
            rows.append(
                f'<tr id="p-{_e(p.id)}"><td><strong>{_e(p.id)}</strong><div class="small">{_e(p.summary)}</div></td>'
                f"<td>{_e(_status_text(p, cat))}</td><td>{_e(p.applicability)}{app_reason}</td>"
                f"<td>{badge(p.verdict)}{reasons}</td><td>{links}</td></tr>")
    return ('<section id="provisions"><h2>Provisions</h2><table class="provisions"><tr><th>Provision</th>'
            "<th>Status</th><th>Applicability</th><th>Verdict</th><th>Test cases</th></tr>" + "".join(rows)
            + "</table></section>")


def _case_block(c: CaseResult, anchor: str) -> str:
    parts = [f'<div class="case" id="{anchor}"><h3>{_e(c.label)} {badge(c.verdict)} '
             f'<span class="muted small">provision <a href="#p-{_e(c.provision)}">{_e(c.provision)}</a>'
             f'{" &middot; " + _e(c.kind) if c.kind else ""}</span></h3>']
    if c.title:
        parts.append(f"<div>{_e(c.title)}</div>")
    parts.append(f"<p><strong>Reason:</strong> {_e(c.reason)}</p>")
    question = getattr(c, "question", "")
    if question:
        ixit = ", ".join(getattr(c, "ixit", None) or [])
        parts.append(f'<p class="question"><strong>Assessor question:</strong> {_e(question)}'
                     + (f' <span class="muted small">(read IXIT {_e(ixit)})</span>' if ixit else "") + "</p>")
    decision = getattr(c, "decision", None)
    if decision is not None:
        before = getattr(c, "automated_verdict", "")
        parts.append(f'<p class="decided small"><strong>Assessor decision:</strong> {badge(decision.verdict)} by '
                     f"{_e(decision.assessor)} on {_e(decision.date)}"
                     + (f"; overrode {badge(decision.overrides)}" if decision.overrides else "")
                     + (f"; the runners had recorded {badge(before)}" if before else "")
                     + f"<br>{_e(decision.rationale)}</p>")
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


# --- the lab's report: summary, schemes, units, decisions, appendix ----------------------------------

_WORSE_FIRST = {v: i for i, v in enumerate(VERDICT_ORDER)}


def _catalogue_of(model: ReportModel) -> Any:
    """The static catalogue the model was built against (for its reference and scheme mappings), or
    None when it cannot be loaded: the report then says so instead of failing."""
    if not model.run.catalogue:
        return None
    try:
        from harness.standard import load_catalogue
        return load_catalogue(model.run.catalogue)
    except Exception:  # a broken catalogue must not cost the report of a finished run
        return None


def _edition_line(model: ReportModel, cat: Any) -> str:
    if cat is None:
        return f"EN 303 645 {model.run.catalogue}" if model.run.catalogue else "no catalogue available"
    line = str(getattr(cat, "reference", "") or f"EN 303 645 {cat.edition}")
    via = getattr(cat, "assessed_via", None)
    if getattr(cat, "assessment", None):
        line += f", assessed with {cat.assessment}"
        if via:
            line += f" (its test cases assess {via}; their verdicts are mapped onto this edition's provisions)"
    return line


def _verdict_cells(counts: dict[str, int]) -> str:
    return "".join(f"<td>{int(counts.get(v, 0))}</td>" for v in VERDICT_ORDER)


def _test_case_counts(model: ReportModel) -> dict[str, int]:
    """Per test case, units folded (worst wins): the model's own when it has them."""
    own = getattr(model, "test_case_counts", None)
    if own:
        return dict(own)
    worst_of: dict[str, str] = {}
    for c in model.cases:
        old = worst_of.get(c.test_case)
        if old is None or _WORSE_FIRST.get(c.verdict, 0) < _WORSE_FIRST.get(old, 0):
            worst_of[c.test_case] = c.verdict
    counted = Counter(worst_of.values())
    return {v: counted.get(v, 0) for v in VERDICT_ORDER}


def _assessors(model: ReportModel) -> list[str]:
    names = [d.assessor for d in getattr(model, "decisions", []) or [] if getattr(d, "status", "") == "applied"]
    return list(dict.fromkeys(n for n in names if n))


_LEGEND = (
    '<div class="legend small"><strong>How the verdicts fold.</strong> Per test case and unit the newest '
    "record stands (pytest and Robot must agree, else INCONCLUSIVE); an applied assessor decision replaces "
    "it. A provision takes the worst verdict of its test cases, in the order N/A &lt; PASS &lt; PENDING REVIEW "
    "&lt; INCONCLUSIVE &lt; FAIL. FAIL: the device showed the defect. INCONCLUSIVE: the lab could not judge "
    "the device (a lab fault, not a defect). PENDING REVIEW: the rest passed or does not apply and an "
    "assessor still has to answer. NOT ASSESSED: no record for the provision, or one of its test cases "
    "(or units) has none while the rest would pass; it is never a pass.</div>")


def _executive_summary(model: ReportModel, cat: Any) -> str:
    run = model.run
    product = run.product or {}
    mandatory = [p for p in model.provisions if p.mandatory is not False]
    gating_fail = [p.id for p in mandatory if p.verdict == "FAIL" and p.applicability != "not applicable"]
    head = "".join(f"<th>{badge(v)}</th>" for v in VERDICT_ORDER)
    prov_counts = Counter(p.verdict for p in model.provisions)
    mand_counts = Counter(p.verdict for p in mandatory)
    tc_counts = _test_case_counts(model)
    open_items = sum(1 for c in model.cases if c.verdict == "PENDING_REVIEW")
    no_record = sum(len(p.missing) for p in model.provisions)
    psti = "".join(f'<li class="psti-{_e(r.outcome)}">Schedule 1 &para;{_e(r.number)} {_e(r.title)}: '
                   f"{_e(r.statement)}</li>" for r in model.psti) or "<li>No PSTI mapping for this edition.</li>"
    assessors = _assessors(model)
    who = (f"Lab {_e(run.lab.get('name', 'unknown'))}; automated test cases by "
           f"{_e(', '.join(run.runners) or 'no runner recorded')}; assessor decisions by "
           f"{_e(', '.join(assessors)) if assessors else 'nobody yet'}")
    if gating_fail:
        verdict = (f'<p class="headline fail">{len(gating_fail)} applicable mandatory provision(s) FAIL: '
                   f"{_e(', '.join(gating_fail))}</p>")
    elif any(p.verdict in ("INCONCLUSIVE", "PENDING_REVIEW", NOT_ASSESSED) for p in mandatory
             if p.applicability != "not applicable"):
        verdict = ('<p class="headline open">No applicable mandatory provision FAILs, but some are not yet '
                   "judged (INCONCLUSIVE, PENDING REVIEW or NOT ASSESSED below).</p>")
    else:
        verdict = '<p class="headline pass">Every applicable mandatory provision is judged and none FAILs.</p>'
    rows = [
        ("Product", _e(" ".join(str(product[k]) for k in ("manufacturer", "model") if product.get(k)) or "unknown")),
        ("Hardware / firmware", _e(f"{product.get('hardware') or '-'} / {product.get('firmware') or '-'}")),
        ("Units", _e(", ".join(run.units) or "none recorded")),
        ("Standard", _e(_edition_line(model, cat))),
        ("Run", f'<span class="mono">{_e(run.run_id or "unknown")}</span> &middot; '
                f"{_e(run.first_time or '-')} &rarr; {_e(run.last_time or '-')}"),
        ("Assessed by", who),
    ]
    meta = "".join(f"<tr><th>{k}</th><td>{v}</td></tr>" for k, v in rows)
    return ('<section id="summary" class="summary"><h2>Executive summary</h2>' + verdict
            + f'<table class="kv">{meta}</table>'
            + f'<table class="counts"><tr><th></th>{head}<th>total</th></tr>'
            f"<tr><th>Mandatory provisions</th>{_verdict_cells(mand_counts)}<td>{len(mandatory)}</td></tr>"
            f"<tr><th>All provisions</th>{_verdict_cells(prov_counts)}<td>{len(model.provisions)}</td></tr>"
            f"<tr><th>Test cases</th>{_verdict_cells(tc_counts)}<td>{sum(tc_counts.values())}</td></tr>"
            f"<tr><th>Test cases &times; units</th>{_verdict_cells(model.case_counts)}<td>{len(model.cases)}</td></tr>"
            "</table>"
            f'<p class="small">Open assessor items: {open_items} awaiting review; {no_record} test case(s) '
            f'without any record (run them, or judge them by hand). UK PSTI:</p><ul class="small">{psti}</ul>'
            + _LEGEND + "</section>")


def scheme_results(model: ReportModel, cat: Any = None) -> list[dict[str, Any]]:
    """The EN 303 645 verdicts of this run seen through each other scheme the catalogue maps
    (EN 18031-1, Singapore CLS): plain data, one dict per scheme."""
    cat = cat if cat is not None else _catalogue_of(model)
    verdicts = {p.id: p.verdict for p in model.provisions}
    out: list[dict[str, Any]] = []
    cumulative: list[str] = []
    for mapping in getattr(cat, "mappings", None) or []:
        entries = []
        cumulative = []
        for entry in mapping.entries:
            mapped = {pid: verdicts.get(pid, NOT_ASSESSED) for pid in entry.provisions}
            # Singapore CLS levels include every lower level.
            cumulative = [*cumulative, *(p for p in entry.provisions if p not in cumulative)]
            scope = cumulative if mapping.scheme == "sg-cls" else list(entry.provisions)
            entries.append({"id": entry.id, "title": entry.title, "strength": entry.strength,
                            "note": entry.note, "beyond_harness": entry.beyond_harness,
                            "verdicts": mapped, "outcome": _scheme_outcome(entry, scope, verdicts)})
        out.append({"scheme": mapping.scheme, "reference": mapping.reference, "title": mapping.title,
                    "status": mapping.status, "note": mapping.note, "entries": entries})
    return out


def _scheme_outcome(entry: Any, scope: list[str], verdicts: dict[str, str]) -> str:
    found = [verdicts.get(p, NOT_ASSESSED) for p in scope]
    fails = [p for p in scope if verdicts.get(p) == "FAIL"]
    open_ = [p for p in scope if verdicts.get(p, NOT_ASSESSED) not in ("PASS", "NOT_APPLICABLE", "FAIL")]
    if entry.beyond_harness:
        prefix = "not judged by the harness"
        if fails:
            return f"{prefix}; and the EN 303 645 evidence below it has FAIL: {', '.join(fails)}"
        return prefix
    if not found:
        return "no EN 303 645 provision maps to it"
    if fails:
        return f"EN 303 645 evidence against it: {', '.join(fails)} FAIL"
    if open_:
        return f"not yet supported: {len(open_)} mapped provision(s) not judged ({', '.join(open_[:8])}{' …' if len(open_) > 8 else ''})"
    return "EN 303 645 evidence supports it (every mapped provision PASS or not applicable)"


def _schemes_section(model: ReportModel, cat: Any) -> str:
    results = scheme_results(model, cat)
    if not results:
        return ('<section id="schemes"><h2>Other schemes</h2><p class="muted">No scheme mapping for this '
                "edition.</p></section>")
    parts = ['<section id="schemes"><h2>Other schemes</h2>']
    for sch in results:
        rows = []
        for entry in sch["entries"]:
            provs = " ".join(f'<a href="#p-{_e(p)}">{_e(p)}</a>&nbsp;{badge(v)}' for p, v in entry["verdicts"].items())
            extra = "".join(f'<div class="small muted">{_e(t)}</div>' for t in (entry["note"], entry["beyond_harness"]) if t)
            rows.append(f"<tr><td><strong>{_e(entry['id'])}</strong></td><td>{_e(entry['title'])}{extra}</td>"
                        f"<td>{_e(entry['strength'])}</td><td>{provs or '&mdash;'}</td><td>{_e(entry['outcome'])}</td></tr>")
        parts.append(f'<h3 id="scheme-{_e(sch["scheme"])}">{_e(sch["title"])}</h3>'
                     f'<p class="small">{_e(sch["reference"])}'
                     + (f" &middot; {_e(sch['status'])}" if sch["status"] else "")
                     + f'</p><p class="small warn">{_e(sch["note"])}</p>'
                     "<table><tr><th>Id</th><th>Requirement</th><th>Mapping</th><th>EN 303 645 provisions</th>"
                     "<th>What this run shows</th></tr>" + "".join(rows) + "</table>")
    parts.append("</section>")
    return "".join(parts)


def _units_section(model: ReportModel) -> str:
    by_unit: dict[str, list[CaseResult]] = {}
    for c in model.cases:
        by_unit.setdefault(c.unit_label, []).append(c)
    order = [*model.run.units, *sorted(u for u in by_unit if u not in model.run.units)]
    places = dict(getattr(model.run, "places", None) or {})
    head = "".join(f"<th>{badge(v)}</th>" for v in VERDICT_ORDER)
    rows = []
    for unit in order:
        cases = by_unit.get(unit, [])
        counts = Counter(c.verdict for c in cases)
        problems = [c for c in cases if c.verdict in ("FAIL", "INCONCLUSIVE")]
        links = ", ".join(f'<a href="#{_e(_case_anchor(c))}">{_e(c.test_case)}</a> {badge(c.verdict)}'
                          for c in problems) or '<span class="muted">none</span>'
        label = "profile (no single unit)" if unit == "profile" else unit
        where = f"<td>{_place_cell(places.get(unit), unit == 'profile')}</td>" if places else ""
        rows.append(f"<tr><th>{_e(label)}</th>{_verdict_cells(counts)}<td>{len(cases)}</td><td>{links}</td>{where}</tr>")
    if not rows:
        rows.append(f'<tr><td colspan="{len(VERDICT_ORDER) + 3 + bool(places)}" class="muted">no unit recorded</td></tr>')
    note = ""
    if places:
        note = ('<p class="small">Units on labgrid places: the place each was reserved and acquired on for this run, '
                "and the console, power switch and address the harness took from it (farm/places.json).</p>")
    return ('<section id="units"><h2>Units</h2>' + note + '<table class="counts units">'
            f"<tr><th>Unit</th>{head}<th>total</th><th>FAIL / INCONCLUSIVE</th>"
            + ("<th>Place</th>" if places else "") + "</tr>" + "".join(rows) + "</table></section>")


def _place_cell(entry: dict[str, Any] | None, profile_level: bool) -> str:
    """The labgrid place that served a unit: its name, console, power switch and address."""
    if profile_level:
        return '<span class="muted">&mdash;</span>'
    if not entry:
        return '<span class="muted">local bench (no place)</span>'
    lines = [f"<strong>{_e(entry.get('place', ''))}</strong>"]
    power = entry.get("power") if isinstance(entry.get("power"), dict) else None
    details = (("console", entry.get("console")),
               ("power", f"{power.get('model', '?')} outlet {power.get('index', '?')} at {power.get('host', '?')}"
                if power else None),
               ("address", entry.get("address")))
    for name, value in details:
        shown = _e(value) if value else '<span class="muted">not exported</span>'
        lines.append(f'<div class="small">{name}: {shown}</div>')
    return "".join(lines)


def _case_anchor(c: CaseResult) -> str:
    return "c-" + "".join(ch if ch.isalnum() or ch in "-." else "_" for ch in f"{c.test_case}--{c.unit_label}")


def _decisions_section(model: ReportModel) -> str:
    decisions = list(getattr(model, "decisions", None) or [])
    pending = [c for c in model.cases if c.verdict == "PENDING_REVIEW"]
    parts = ['<section id="decisions"><h2>Assessor decisions</h2>']
    if decisions:
        rows = []
        for d in decisions:
            status = str(getattr(d, "status", "") or "")
            why = getattr(d, "status_reason", "")
            ev = "".join(f'<div class="mono small">{_e(x.get("ref", ""))}'
                         + (f" sha256 {_e(x.get('sha256'))}" if x.get("sha256") else "") + "</div>"
                         for x in (getattr(d, "evidence", None) or []) if isinstance(x, dict))
            overrode = f"<div class=\"small\">overrides {badge(d.overrides)}</div>" if getattr(d, "overrides", "") else ""
            replaced = "".join(f'<div class="small muted">replaced {_e(r)}</div>' for r in getattr(d, "replaced", []) or [])
            rows.append(
                f'<tr class="decision-{_e(status or "unknown")}"><td>{_e(d.test_case)} [{_e(unit_label_of(d))}]</td>'
                f"<td>{badge(d.verdict)}{overrode}</td><td>{_e(d.assessor)}<div class=\"small muted\">{_e(d.date)}"
                f"{' &middot; recorded ' + _e(d.recorded) if getattr(d, 'recorded', '') else ''}</div></td>"
                f"<td>{_e(d.rationale)}{ev}</td>"
                f"<td><strong>{_e(status or '?')}</strong>"
                + (f'<div class="small">{_e(why)}</div>' if why else "") + replaced + "</td></tr>")
        parts.append("<table><tr><th>Test case</th><th>Verdict</th><th>Assessor, date</th><th>Rationale and "
                     "evidence read</th><th>Status</th></tr>" + "".join(rows) + "</table>"
                     '<p class="small muted">Stale: made for another profile or firmware, not applied. Rejected: '
                     "it would have changed a recorded verdict without naming it in overrides.</p>")
    else:
        parts.append('<p class="muted">No assessor decision is recorded for this run.</p>')
    if pending:
        items = "".join(
            f'<li><a href="#{_e(_case_anchor(c))}">{_e(c.label)}</a>: '
            f"{_e(getattr(c, 'question', '') or c.reason)}"
            + (f' <span class="muted small">(IXIT {_e(", ".join(getattr(c, "ixit", []) or []))})</span>'
               if getattr(c, "ixit", None) else "") + "</li>" for c in pending)
        parts.append(f"<h3>Open items ({len(pending)})</h3><ul class=\"small\">{items}</ul>")
    missing = [(p.id, m) for p in model.provisions for m in p.missing]
    if missing:
        listing = ", ".join(f"{m}" for _, m in missing[:200]) + (" …" if len(missing) > 200 else "")
        parts.append(f'<p class="small">Test cases without any record ({len(missing)}): {_e(listing)}. '
                     "<span class=\"muted\"><code>harness assess RUN_DIR --template FILE</code> writes a decisions file "
                     "for them.</span></p>")
    parts.append("</section>")
    return "".join(parts)


def unit_label_of(d: Any) -> str:
    unit = getattr(d, "unit", None)
    return "profile" if unit is None else str(unit)


def _file_check(run_dir: str, path: str, recorded: str) -> tuple[str, str]:
    """(size text, check text) of an attachment file against its recorded sha256."""
    href = safe_relative_link(path)
    if not run_dir or href is None:
        return "", "not checked (outside the run directory)"
    file = Path(run_dir) / PurePosixPath(str(path).replace("\\", "/"))
    try:
        data = file.read_bytes()
    except OSError:
        return "", "file missing from the run directory"
    actual = hashlib.sha256(data).hexdigest()
    if not recorded:
        return f"{len(data)} bytes", f"no recorded sha256; file sha256 {actual}"
    if actual.lower() == recorded.lower():
        return f"{len(data)} bytes", "matches the file"
    return f"{len(data)} bytes", f"DOES NOT MATCH the file (file sha256 {actual})"


_TEXT_SUFFIXES = (".txt", ".log", ".csv", ".json", ".jsonl", ".xml", ".html", ".yaml", ".pem")
# Characters of attachment text inlined: enough to read each transcript's start in the printed
# report, bounded so a full run still prints to a PDF a person can page through; the files
# themselves (and their sha256) stay the evidence.
_APPENDIX_TEXT_BUDGET = 150_000
_APPENDIX_TEXT_EACH = 6_000
_RUN_TRANSCRIPTS_LIMIT = 500


def _attachment_text(run_dir: str, path: str, mime: str) -> str | None:
    if not run_dir or safe_relative_link(path) is None:
        return None
    if not (mime.startswith("text/") or path.lower().endswith(_TEXT_SUFFIXES)):
        return None
    try:
        data = (Path(run_dir) / PurePosixPath(str(path).replace("\\", "/"))).read_bytes()
    except OSError:
        return None
    return data.decode("utf-8", errors="replace")


def _appendix_texts(model: ReportModel) -> str:
    """The text attachments (transcripts, scans, documents) inlined, so the printed report carries
    them; the budget keeps a huge capture from making the PDF unprintable."""
    budget = _APPENDIX_TEXT_BUDGET
    parts: list[str] = []
    left_out: list[str] = []
    for c in model.cases:
        for att in c.attachments:
            text = _attachment_text(model.run_dir, att.path, att.mime)
            if text is None:
                continue
            if budget <= 0:
                left_out.append(f"{c.label} {att.name or att.path}")
                continue
            shown = text[:min(budget, _APPENDIX_TEXT_EACH)]
            budget -= len(shown)
            more = (f'<p class="muted small">(first {len(shown)} of {len(text)} characters; the whole file is '
                    f"{_e(att.path)})</p>") if len(shown) < len(text) else ""
            parts.append(f'<div class="attachment-text"><h4>{_e(c.label)} &middot; {_e(att.name or att.path)} '
                         f'<span class="mono small muted">sha256 {_e(att.sha256 or "-")}</span></h4>'
                         f"<pre>{_e(shown)}</pre>{more}</div>")
    if left_out:
        parts.append(f'<p class="muted small">Not inlined (size budget reached): {_e(", ".join(left_out))}</p>')
    return ("<h3>Transcripts and text evidence</h3>" + "".join(parts)) if parts else ""


def _run_transcripts(model: ReportModel) -> str:
    """Whole-run link transcripts (``transcripts/``): not part of any record, hashed now."""
    if not model.run_dir:
        return ""
    folder = Path(model.run_dir) / "transcripts"
    if not folder.is_dir():
        return ""
    rows = []
    for i, file in enumerate(sorted(p for p in folder.rglob("*") if p.is_file())):
        if i >= _RUN_TRANSCRIPTS_LIMIT:
            rows.append(f'<tr><td colspan="3" class="muted">… more files in {_e("transcripts/")}</td></tr>')
            break
        try:
            data = file.read_bytes()
        except OSError:
            continue
        rel = file.relative_to(model.run_dir).as_posix()
        href = safe_relative_link(rel)
        name = f'<a href="{_e(href)}">{_e(rel)}</a>' if href else _e(rel)
        rows.append(f'<tr><td>{name}</td><td>{len(data)} bytes</td>'
                    f'<td class="mono small">{hashlib.sha256(data).hexdigest()}</td></tr>')
    if not rows:
        return ""
    return ("<h3>Link transcripts of the whole run</h3><p class=\"small\">Every byte each link carried, "
            "hashed when this report was built (they are not part of a record).</p>"
            "<table><tr><th>File</th><th>Size</th><th>sha256 now</th></tr>" + "".join(rows) + "</table>")


def _appendix_section(model: ReportModel) -> str:
    rows = []
    for c in model.cases:
        for att in c.attachments:
            size, check = _file_check(model.run_dir, att.path, att.sha256)
            href = safe_relative_link(att.path)
            name = (f'<a href="{_e(href)}">{_e(att.name or att.path)}</a>' if href
                    else _e(att.name or att.path))
            cls = ' class="mismatch"' if "NOT MATCH" in check or "missing" in check else ""
            rows.append(f"<tr{cls}><td><a href=\"#{_e(_case_anchor(c))}\">{_e(c.label)}</a></td><td>{name}"
                        f'<div class="mono small">{_e(att.path)}</div></td><td>{_e(att.mime)}<div class="small">'
                        f'{_e(size)}</div></td><td class="mono small">{_e(att.sha256 or "-")}'
                        f'<div class="small">{_e(check)}</div></td></tr>')
    table = ("<table><tr><th>Test case</th><th>Attachment</th><th>Type, size</th><th>sha256</th></tr>"
             + "".join(rows) + "</table>") if rows else '<p class="muted">No attachment in this run.</p>'
    segs = ", ".join(model.run.segments) or "none"
    return ('<section id="appendix"><h2>Evidence appendix</h2>'
            "<p>Transcripts, captures and documents the test cases attached, with the sha256 recorded when "
            "they were written, checked against the files in the run directory now.</p>" + table
            + _appendix_texts(model) + _run_transcripts(model)
            + f'<p class="small">Results log: segments {_e(segs)}; sha256 over the segments '
            f'<span class="mono">{_e(model.run.results_sha256)}</span>. Profile sha256 '
            f'<span class="mono">{_e(model.run.profile_sha256 or "-")}</span>; lab configuration sha256 '
            f'<span class="mono">{_e(model.run.lab.get("sha256", "-"))}</span>.</p></section>')


def _cases_by_clause(model: ReportModel) -> str:
    if not model.cases:
        return '<p class="muted">The results log holds no test case record.</p>'
    groups: dict[str, list[CaseResult]] = {}
    group_of = {p.id: p.group for p in model.provisions}
    for c in model.cases:
        groups.setdefault(group_of.get(c.provision, OTHER_GROUP), []).append(c)
    parts = []
    for group in [*model.clauses, *(g for g in groups if g not in model.clauses)]:
        cases = groups.get(group)
        if not cases:
            continue
        title = model.clauses.get(group, "")
        label = "Other (not in the catalogue)" if group == OTHER_GROUP else f"{group} {title}".strip()
        parts.append(f'<div class="clause-group"><h3 class="clause-title">{_e(label)}</h3>'
                     + "".join(_case_block(c, _case_anchor(c)) for c in cases) + "</div>")
    return "".join(parts)


_WARNINGS_SHOWN = 5


def render_html(model: ReportModel) -> str:
    run = model.run
    cat = _catalogue_of(model)
    title = f"EN 303 645 conformance: {_product_line(run.product)}"
    # A long list (e.g. one line per stale decision) would push the summary off the first page:
    # the header shows the first few, Run details all of them.
    shown = run.warnings[:_WARNINGS_SHOWN]
    warnings = "".join(f'<div class="warn">{_e(w)}</div>' for w in shown)
    if len(run.warnings) > len(shown):
        warnings += (f'<div class="warn">… and {len(run.warnings) - len(shown)} more warning(s), listed under '
                     '<a href="#run">Run details</a></div>')
    all_warnings = "".join(f'<div class="warn small">{_e(w)}</div>' for w in run.warnings)
    allure = ""
    if model.run_dir and (Path(model.run_dir) / ALLURE_INDEX).is_file():
        allure = f'<p class="noprint">Step-level detail: <a href="{ALLURE_INDEX}">Allure report</a></p>'
    toc = ('<nav class="toc noprint small"><a href="#summary">Summary</a> &middot; <a href="#psti">UK PSTI</a>'
           ' &middot; <a href="#schemes">Other schemes</a> &middot; <a href="#units">Units</a> &middot; '
           '<a href="#provisions">Provisions</a> &middot; <a href="#decisions">Assessor decisions</a> &middot; '
           '<a href="#cases">Test case results</a> &middot; <a href="#appendix">Evidence appendix</a></nav>')
    edition = _edition_line(model, cat)
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{_e(title)}</title><style>{_css()}</style></head><body>"
        f"<header><h1>{_e(title)}</h1>"
        f'<p class="muted">{_e(edition)}{", with the UK PSTI regime" if model.psti else ""}, and the '
        "EN 18031-1 and Singapore CLS mappings. Built from the run's results log only.</p>"
        f"{toc}{allure}{warnings}</header>"
        + _executive_summary(model, cat)
        + _psti_section(model)
        + _schemes_section(model, cat)
        + _summary_section(model)
        + _units_section(model)
        + _provision_table(model, cat)
        + _decisions_section(model)
        + f'<section id="cases"><h2>Test case results</h2>{_cases_by_clause(model)}</section>'
        + _appendix_section(model)
        + f'<section id="run"><h2>Run details</h2><table class="meta">{_meta_rows(model)}</table>'
        + (f"<h3>Warnings ({len(run.warnings)})</h3>{all_warnings}" if run.warnings else "") + "</section>"
        + f'<footer><p class="small muted">Run {_e(run.run_id or "?")} &middot; results log sha256 '
        f"{_e(run.results_sha256)} &middot; harness {_e(run.harness_version or '?')}</p></footer></body></html>\n"
    )


def write_html(model: ReportModel, path: str | Path) -> Path:
    return write_atomic(path, render_html(model))
