"""Clause 5.8-3 — external sensing capabilities are documented (TS 103 701 5.8-3-1)."""

from __future__ import annotations

import re
from typing import Any

from harness.cases.disclosure import fetch_published
from harness.checks.sensors import DeclaredSensor, judge_sensors_documented
from harness.device import Device
from harness.procedures import render
from harness.profile.yamlpos import ConfigError
from harness.scope import Scope
from harness.testcase import TestCaseContext
from harness.verdict import CheckResult, Evidence


def reported_sensors(value: Any) -> list[str] | None:
    """The `sensors` capture: a list, or text with one sensor per line (its first word) or a
    comma-separated list."""
    if value is None:
        return None
    if isinstance(value, list | tuple):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value)
    parts = text.split(",") if "," in text and "\n" not in text.strip() else text.splitlines()
    return [p.split()[0] for p in (re.sub(r"\s+", " ", p).strip() for p in parts) if p]


def sensors_documented(tc: TestCaseContext, device: Device, scope: Scope, ca: str | None) -> CheckResult:
    """Ask the unit for its sensors (`list_sensors`, capture `sensors`) and compare with IXIT
    22-ExtSens and the page each entry's `documented_at` points to."""
    reported = None
    if device.has("list_sensors"):
        got = device.run("list_sensors")
        reported = reported_sensors(got.captures.get("sensors")) if got.ok else None
        tc.add(Evidence("observation", "sensors the unit listed", {"outcome": got.outcome, "sensors": reported}))
    declared, pages = [], {}
    for s in device.profile.ixit.sensors:
        url, page, error = None, None, ""
        if s.documented_at is not None:
            try:
                url = str(device.bench.resolve(s.documented_at, where=f"ixit.22-ExtSens.{s.name}"))
                if "{{" in url:  # a page of the unit itself, e.g. https://{{unit.address}}/help
                    url, _ = render(url, device.variables())
            except (ConfigError, KeyError, ValueError) as exc:
                url, error = str(s.documented_at), f"the reference cannot be resolved: {exc}"
        if url and not error:
            if url not in pages:
                pages[url] = fetch_published(device.bench, url, scope, ca)
            doc = pages[url]
            if doc.status == 200 and not doc.error:
                page = doc.text
            else:
                error = doc.error or f"HTTP {doc.status}"
        declared.append(DeclaredSensor(s.name, s.kind, url, page, error))
    return judge_sensors_documented(reported, declared)
