"""5.8-3 — external sensing capabilities are documented (TS 103 701 5.8-3-1).

The sensors the unit itself reports are compared with IXIT 22-ExtSens, and each declared sensor's
`documented_at` page must name it (its name or its kind, as a whole word, case-insensitive). A
sensor the unit reports that the documentation does not name is a FAIL."""

from __future__ import annotations

import re
from dataclasses import dataclass

from harness.verdict import CheckResult, Evidence


@dataclass(frozen=True)
class DeclaredSensor:
    name: str
    kind: str | None
    documented_at: str | None  # URL (None: the IXIT gives none)
    page: str | None  # the page's text (None: not fetched)
    fetch_error: str = ""


def _words(text: str) -> set[str]:
    return {w for w in re.split(r"[^a-z0-9]+", text.lower()) if w}


def _names(s: DeclaredSensor) -> set[str]:
    return {n.lower() for n in (s.name, s.kind) if n}


def _matches(reported: str, s: DeclaredSensor) -> bool:
    r = reported.lower()
    return any(r == n or r in _words(n) or n in _words(r) for n in _names(s))


def _names_on_page(s: DeclaredSensor, page: str) -> bool:
    text = page.lower()
    return any(re.search(rf"\b{re.escape(n)}\b", text) for n in _names(s))


def judge_sensors_documented(reported: list[str] | None, declared: list[DeclaredSensor]) -> CheckResult:
    if reported is None:
        return CheckResult.inconclusive("the unit did not list its sensors (procedure `list_sensors`)")
    reported = [r.strip() for r in reported if r.strip()]
    if not reported:
        return CheckResult.inconclusive("the unit listed no sensor: nothing to compare with IXIT 22-ExtSens")
    rows, failures, open_items = [], [], []
    for r in reported:
        match = next((s for s in declared if _matches(r, s)), None)
        row = {"reported": r, "IXIT 22-ExtSens": match.name if match else None,
               "documented at": match.documented_at if match else None}
        if match is None:
            failures.append(f"the unit reports a {r} sensor that IXIT 22-ExtSens does not declare")
            row["documented"] = "no"
        elif not match.documented_at:
            open_items.append(f"IXIT 22-ExtSens gives no documented_at for {match.name}")
            row["documented"] = "unknown"
        elif match.page is None:
            open_items.append(f"the documentation of {match.name} ({match.documented_at}) could not be fetched"
                              f"{': ' + match.fetch_error if match.fetch_error else ''}")
            row["documented"] = "unknown"
        elif not _names_on_page(match, match.page):
            failures.append(f"the page {match.documented_at} does not name the {match.name} sensor")
            row["documented"] = "no"
        else:
            row["documented"] = "yes"
        rows.append(row)
    evidence = [Evidence("table", "sensors the unit reports", rows)]
    if failures:
        return CheckResult.failed("undocumented sensing capability: " + "; ".join(failures), *evidence)
    if open_items:
        return CheckResult.inconclusive("; ".join(open_items), *evidence)
    return CheckResult.passed(f"every sensor the unit reports ({', '.join(reported)}) is declared and named in "
                              "its documentation", *evidence)
