"""``junit.xml`` for CI dashboards: one testsuite per clause, one testcase per (test case, unit).

FAIL is a <failure> (device defect), INCONCLUSIVE an <error> (the lab could not judge),
NOT_APPLICABLE and PENDING_REVIEW are <skipped>. Provisions without any record do not appear:
the file mirrors the records; ``conformance.html`` lists what was not assessed.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from harness.report._text import clean, write_atomic
from harness.report.model import OTHER_GROUP, CaseResult, ReportModel

JUNIT_NAME = "junit.xml"
_DETAIL_LIMIT = 8_000


def _details(c: CaseResult) -> str:
    lines = [c.reason]
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
        for c in cases:
            tc = ET.SubElement(suite, "testcase", classname=f"EN303645.{clean(clause)}", name=clean(c.label))
            _set(tc, "time", f"{c.duration_s:.3f}")
            suite_time += c.duration_s
            tprops = ET.SubElement(tc, "properties")
            for key, value in (("provision", c.provision), ("test_case", c.test_case), ("unit", c.unit_label),
                               ("verdict", c.verdict), ("runner", c.runner), ("record_id", c.record_id)):
                ET.SubElement(tprops, "property", name=key, value=clean(value))
            if c.verdict == "FAIL":
                el = ET.SubElement(tc, "failure", message=clean(c.reason), type="FAIL")
                el.text = clean(_details(c))
                counts["failures"] += 1
            elif c.verdict == "INCONCLUSIVE":
                el = ET.SubElement(tc, "error", message=clean(c.reason), type="INCONCLUSIVE")
                el.text = clean(_details(c))
                counts["errors"] += 1
            elif c.verdict in ("NOT_APPLICABLE", "PENDING_REVIEW"):
                ET.SubElement(tc, "skipped", message=clean(f"{c.verdict}: {c.reason}"))
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
