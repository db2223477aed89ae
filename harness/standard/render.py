"""The catalogue as a terminal table (what ``harness catalogue`` prints)."""

from __future__ import annotations

from typing import Any

from harness.standard.model import Applicability, Catalogue, TestCase

AUTOMATED = "[A]"
ASSESSOR = "[ ]"
KIND_MARK = {"conceptual": "C", "functional": "F", "conceptual+functional": "C+F"}


def format_catalogue(cat: Catalogue, ics: Any = None, *, only_automated: bool = False) -> str:
    """Provisions clause by clause with status, applicability (when ``ics`` is given) and test cases."""
    decisions = {pid: cat.applicability(pid, ics) for pid in cat.provisions} if ics is not None else {}

    rows: list[tuple[str, str, str, str, str, str]] = []  # clause heading rows have only the first cell
    shown_clause = None
    for pid, prov in cat.provisions.items():
        cases = [cat.test_cases[t] for t in prov.test_cases]
        if only_automated:
            cases = [tc for tc in cases if tc.automated]
            if not cases:
                continue
        if prov.clause != shown_clause:
            shown_clause = prov.clause
            rows.append((f"{prov.clause}  {cat.clauses.get(prov.clause, '')}".rstrip(), "", "", "", "", ""))
        applies = _applies(decisions[pid]) if decisions else ""
        rows.append(("", pid, prov.status_text, applies, "  ".join(_case(tc) for tc in cases), prov.summary))

    headers = ("", "Provision", "Status", "Applies", "Test cases", "Summary")
    with_applies = bool(decisions)
    widths = [max([len(h)] + [len(r[i]) for r in rows if r[1]]) for i, h in enumerate(headers)]

    def line(cells: tuple[str, ...]) -> str:
        parts = [cells[1].ljust(widths[1]), cells[2].ljust(widths[2])]
        if with_applies:
            parts.append(cells[3].ljust(widths[3]))
        parts += [cells[4].ljust(widths[4]), cells[5]]
        return "  " + "  ".join(parts).rstrip()

    heading = f"{cat.reference or cat.title}: provisions"
    if cat.assessment:
        heading += f" and {cat.assessment} test cases"
    out = [heading,
           f"{AUTOMATED} automated by the harness   {ASSESSOR} needs an assessor   "
           "(C) conceptual  (F) functional  (C+F) both"]
    if with_applies:
        out.append("Applies: yes / no per the ICS and Table B.1; yes* = applicable with a caveat (see the notes below)")
    out += ["", line(headers), line(tuple("-" * len(h) for h in headers))]
    for row in rows:
        out.append(row[0] if not row[1] else line(row))

    notes = [(pid, d.reason) for pid, d in decisions.items() if _applies(d) != "yes"
             and (not only_automated or any(cat.test_cases[t].automated for t in cat.provisions[pid].test_cases))]
    if notes:
        out += ["", "Applicability notes:"]
        out += [f"  {reason}" for _, reason in notes]  # each reason starts with its provision id

    unassessed = [(pid, p.unassessed) for pid, p in cat.provisions.items() if p.unassessed]
    if unassessed and not only_automated:
        out += ["", "Without a test case (an assessor judges them; reported PENDING_REVIEW):"]
        out += [f"  {pid}: {why}" for pid, why in unassessed]
    if cat.assessed_via:
        out += ["", f"Test cases: {cat.assessment} assesses EN 303 645 {cat.assessed_via}; their verdicts count "
                    f"for the provisions shown here ({', '.join(f'{a} -> {b}' for a, b in cat.provision_map.items() if a != b)})."]

    out += ["", *summary_lines(cat, decisions, only_automated)]
    return "\n".join(out)


def summary_lines(cat: Catalogue, decisions: dict[str, Applicability] | None = None,
                  only_automated: bool = False) -> list[str]:
    provs = list(cat.provisions.values())
    mandatory = sum(p.mandatory for p in provs)
    first = f"{len(provs)} provisions: {mandatory} mandatory, {len(provs) - mandatory} recommendations"
    if decisions:
        first += f"; {sum(d.applicable for d in decisions.values())} applicable to this product"
    automated = len(cat.automated)
    second = f"{len(cat.test_cases)} test cases: {automated} automated, {len(cat.test_cases) - automated} need an assessor"
    lines = [first, second]
    if only_automated:
        lines.append(f"Shown: only the {automated} automated test cases.")
    return lines


def _applies(decision: Applicability) -> str:
    if not decision.applicable:
        return "no"
    # A plain "yes" only when the ICS answered the conditions and did not claim N/A.
    if decision.support == "N/A" or decision.unanswered or decision.unanswered_features:
        return "yes*"
    return "yes"


def _case(tc: TestCase) -> str:
    return f"{AUTOMATED if tc.automated else ASSESSOR} {tc.id} ({KIND_MARK.get(tc.kind, tc.kind)})"
