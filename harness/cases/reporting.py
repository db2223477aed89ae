"""Clause 4 — Reporting implementation (TS 103 701 test case 4-1-1)."""

from __future__ import annotations

from harness.checks.ics import judge_justifications
from harness.profile.resolve import Bench
from harness.standard import load_catalogue
from harness.verdict import CheckResult


def ics_justifications(bench: Bench) -> CheckResult:
    """4-1-1: a justification for every recommendation not met and every provision declared N/A."""
    cat = load_catalogue()
    statuses = {pid: p.status for pid, p in cat.provisions.items()}
    ics = {pid: entry.model_dump() for pid, entry in bench.profile.ics.provisions.items()}
    return judge_justifications(statuses, ics)
