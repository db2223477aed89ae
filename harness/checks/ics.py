"""4-1-1: a justification for every recommendation not met, and for every provision declared
not applicable, in the ICS (TS 103 701 Table B.1 pro-forma)."""

from __future__ import annotations

import re
from typing import Any

from harness.verdict import CheckResult, Evidence

# Placeholders a form-filler leaves behind: not a justification.
_EMPTY = re.compile(r"^\s*(|-+|\.+|\?+|n/?a|none|nil|tbd|tba|todo|to do|xxx+|see above|same as above)\s*$", re.I)


def _entry(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    if isinstance(value, dict):
        return value
    return {"support": getattr(value, "support", None), "justification": getattr(value, "justification", None)}


def _support(value: Any) -> str | None:
    s = str(value or "").strip().upper().replace(" ", "")
    return {"Y": "Y", "N": "N", "N/A": "N/A", "NA": "N/A"}.get(s)


def _kind(status: str) -> str:
    base = re.match(r"[A-Z]+", str(status).strip().upper())
    return base.group(0) if base else ""


def judge_justifications(provisions: dict[str, str], ics_provisions: dict[str, dict[str, Any]]) -> CheckResult:
    """provisions: provision id → status (M, R, MC, RC); ics_provisions: id → {support, justification}.

    FAIL: a recommendation marked N, or any provision marked N/A, without a justification; a
    mandatory provision marked N (a justification cannot make a mandatory provision optional).
    PENDING_REVIEW: provisions the ICS does not answer (the assessor must obtain an answer).
    """
    rows: list[dict[str, Any]] = []
    unjustified: list[str] = []
    mandatory_no: list[str] = []
    unanswered: list[dict[str, str]] = []
    for pid, status in provisions.items():
        kind = _kind(status)
        recommendation = kind.startswith("R")
        entry = _entry(ics_provisions.get(pid))
        support = _support(entry.get("support")) if entry else None
        if support is None:
            unanswered.append({"provision": pid, "status": str(status),
                               "ICS answer": "missing" if entry is None else repr(entry.get("support"))})
            continue
        if support == "Y":
            continue
        text = str(entry.get("justification") or "").strip()
        justified = bool(text) and not _EMPTY.match(text)
        if support == "N" and not recommendation:
            assessment = "mandatory provision not supported: cannot be justified away"
            mandatory_no.append(pid)
        elif justified:
            assessment = "justified"
        else:
            assessment = "no justification"
            unjustified.append(pid)
        rows.append({"provision": pid, "status": str(status), "support": support,
                     "justification": text or None, "assessment": assessment})

    evidence = [Evidence("table", "provisions marked N or N/A", rows)]
    if unanswered:
        evidence.append(Evidence("table", "provisions the ICS does not answer", unanswered))
    extra = [pid for pid in ics_provisions if pid not in provisions]
    if extra:
        evidence.append(Evidence("observation", "ICS entries for provisions not in the catalogue", sorted(extra)))

    problems = []
    if mandatory_no:
        problems.append(f"mandatory provision(s) {', '.join(mandatory_no)} marked not supported, which no "
                        f"justification can excuse")
    if unjustified:
        problems.append(f"no justification recorded for {', '.join(unjustified)}")
    open_ids = ", ".join(u["provision"] for u in unanswered)
    if problems:
        if unanswered:
            problems.append(f"the ICS also leaves {open_ids} unanswered")
        return CheckResult.failed("; ".join(problems), *evidence)
    if unanswered:
        recs = sum(1 for u in unanswered if _kind(u["status"]).startswith("R"))
        return CheckResult.pending(f"the ICS does not answer {len(unanswered)} provision(s) ({recs} recommendation(s)): "
                                   f"{open_ids}; the assessor must obtain an answer", *evidence)
    if not provisions:
        return CheckResult.inconclusive("no provision to judge: the catalogue gave none", *evidence)
    # All answered Y is an observation too: the ICS was read for every provision.
    evidence.append(Evidence("observation", "ICS answers read", {
        "provisions": len(provisions), "marked N or N/A": len(rows)}))
    return CheckResult.passed(f"every provision marked N or N/A in the ICS has a justification ({len(rows)} entries)",
                              *evidence)
