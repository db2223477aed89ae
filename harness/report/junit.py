"""``junit.xml`` for CI dashboards: one testsuite per clause, one testcase per (test case, unit).

JUnit has four outcomes; the five verdicts map onto them so that none reads as another:

- PASS: a passed testcase (its evidence in <system-out>);
- FAIL: <failure type="FAIL"> — a defect the device showed; the only verdict counted in ``failures``;
- INCONCLUSIVE: <error type="INCONCLUSIVE"> — the lab could not judge; counted in ``errors``, never
  in ``failures`` (not a device defect) and never passed (nothing was shown to conform);
- PENDING_REVIEW: <skipped> whose message starts ``PENDING_REVIEW:`` and carries the assessor's
  question — awaiting a person, not a pass;
- NOT_APPLICABLE: <skipped> whose message starts ``NOT_APPLICABLE:`` with the Table B.1 reason.

Every testcase also carries a ``verdict`` property (the word itself), and each testsuite counts
its verdicts in ``verdict.<VERDICT>`` properties, so a dashboard can tell PENDING_REVIEW from
NOT_APPLICABLE and INCONCLUSIVE from a harness crash. A verdict an assessor decided carries
``assessor``, ``decided`` and ``automated_verdict`` (and ``overrode`` when it replaced one).
Provisions without any record do not appear: the file mirrors the records; ``conformance.html``
lists what was not assessed.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.report._text import clean, write_atomic
from harness.report.model import OTHER_GROUP, CaseResult, ReportModel
from harness.verdict import Verdict

JUNIT_NAME = "junit.xml"
_DETAIL_LIMIT = 8_000
VERDICTS = [v.value for v in Verdict]


def _details(c: CaseResult) -> str:
    lines = [c.reason]
    if c.question and c.question not in c.reason:
        lines.append(f"[question] {c.question}")
    if c.ixit:
        lines.append(f"[IXIT to read] {', '.join(c.ixit)}")
    for ev in c.evidence:
        data = ev.data if isinstance(ev.data, str) else json.dumps(ev.data, ensure_ascii=False, default=repr)
        lines.append(f"[{ev.kind}] {ev.name}: {data}")
    lines += [f"[attachment] {a.name}: {a.path}" for a in c.attachments]
    text = "\n".join(lines)
    return text if len(text) <= _DETAIL_LIMIT else text[:_DETAIL_LIMIT] + "\n... (see conformance.html)"


def _set(el: ET.Element, key: str, value: object) -> None:
    el.set(key, clean(value))


def build_junit(model: ReportModel) -> ET.Element:
    groups = {p.id: p.group for p in model.provisions}
    suites: dict[str, list[CaseResult]] = {}
    for c in model.cases:
        suites.setdefault(groups.get(c.provision, OTHER_GROUP), []).append(c)
    order = list(model.clauses)
    root = ET.Element("testsuites", name=f"EN303645 {clean(model.run.run_id)}".strip())
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    total_time = 0.0
    for clause in sorted(suites, key=lambda k: order.index(k) if k in order else len(order)):
        cases = suites[clause]
        suite = ET.SubElement(root, "testsuite", name=f"EN303645.{clean(clause)}")
        counts = {"tests": len(cases), "failures": 0, "errors": 0, "skipped": 0}
        suite_time = 0.0
        props = ET.SubElement(suite, "properties")
        ET.SubElement(props, "property", name="clause", value=clean(clause))
        title = model.clauses.get(clause, "")
        if title:
            ET.SubElement(props, "property", name="title", value=clean(title))
        for verdict in VERDICTS:
            n = sum(1 for c in cases if c.verdict == verdict)
            if n:
                ET.SubElement(props, "property", name=f"verdict.{verdict}", value=str(n))
        for c in cases:
            tc = ET.SubElement(suite, "testcase", classname=f"EN303645.{clean(clause)}", name=clean(c.label))
            _set(tc, "time", f"{c.duration_s:.3f}")
            suite_time += c.duration_s
            tprops = ET.SubElement(tc, "properties")
            for key, value in (("provision", c.provision), ("test_case", c.test_case), ("unit", c.unit_label),
                               ("verdict", c.verdict), ("runner", c.runner), ("record_id", c.record_id)):
                ET.SubElement(tprops, "property", name=key, value=clean(value))
            if c.decision is not None:
                for key, value in (("assessor", c.decision.assessor), ("decided", c.decision.date),
                                   ("automated_verdict", c.automated_verdict or "none"),
                                   ("overrode", c.decision.overrides)):
                    if value:
                        ET.SubElement(tprops, "property", name=key, value=clean(value))
            if c.verdict == "FAIL":
                el = ET.SubElement(tc, "failure", message=clean(c.reason), type="FAIL")
                el.text = clean(_details(c))
                counts["failures"] += 1
            elif c.verdict == "INCONCLUSIVE":
                el = ET.SubElement(tc, "error", message=clean(f"INCONCLUSIVE: {c.reason}"), type="INCONCLUSIVE")
                el.text = clean(_details(c))
                counts["errors"] += 1
            elif c.verdict in ("NOT_APPLICABLE", "PENDING_REVIEW"):
                el = ET.SubElement(tc, "skipped", message=clean(f"{c.verdict}: {c.question or c.reason}"))
                el.text = clean(_details(c))
                counts["skipped"] += 1
            else:
                out = ET.SubElement(tc, "system-out")
                out.text = clean(_details(c))
        for k, v in counts.items():
            suite.set(k, str(v))
            totals[k] += v
        suite.set("time", f"{suite_time:.3f}")
        total_time += suite_time
        if model.run.first_time:
            _set(suite, "timestamp", model.run.first_time)
    for k, v in totals.items():
        root.set(k, str(v))
    root.set("time", f"{total_time:.3f}")
    return root


def junit_text(model: ReportModel) -> str:
    root = build_junit(model)
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def write_junit(model: ReportModel, path: str | Path) -> Path:
    return write_atomic(Path(path), junit_text(model))
