"""4-1: a justification for every recommendation not met (and every N/A)."""

from __future__ import annotations

from typing import Any

from harness.verdict import CheckResult, Evidence


def judge_justifications(provisions: dict[str, str], ics_provisions: dict[str, dict[str, Any]]) -> CheckResult:
    rows, unjustified, mandatory_no, unanswered = [], [], [], []
    for pid, status in provisions.items():
        entry = ics_provisions.get(pid)
        recommendation = status in ("R", "RC")
        if entry is None:
            if recommendation:
                unanswered.append(pid)
            continue
        support, just = entry.get("support"), (entry.get("justification") or "").strip()
        if support in ("N", "N/A"):
            rows.append({"provision": pid, "status": status, "support": support, "justification": just or None})
            if support == "N" and not recommendation:
                mandatory_no.append(pid)
            elif not just:
                unjustified.append(pid)
    ev = Evidence("table", "provisions not supported or not applicable", rows)
    if mandatory_no:
        return CheckResult.failed(f"mandatory provisions marked not supported (cannot be justified away): "
                                  f"{', '.join(mandatory_no)}", ev)
    if unjustified:
        return CheckResult.failed(f"no justification for: {', '.join(unjustified)}", ev)
    if unanswered:
        return CheckResult.pending(f"the ICS does not answer {len(unanswered)} recommendation(s): "
                                   f"{', '.join(unanswered)}", ev)
    return CheckResult.passed(f"every provision not met or not applicable has a justification ({len(rows)})", ev)
