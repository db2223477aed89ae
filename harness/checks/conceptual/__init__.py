"""Conceptual test cases judged mechanically from the structured ICS/IXIT.

``judge(test_case, ixit, functional)`` applies the rule of one TS 103 701 conceptual test case:
completeness (the IXIT gives what the test units need: otherwise PENDING_REVIEW asking the supplier),
consistency with other IXIT entries, and consistency with the functional verdicts of the same run
(``functional``: see ``functional_view``). Cases no rule can decide stay with the assessor; their
questions are in ``harness/standard/data/ts103701-questions.yaml`` (``questions``), with pre-judged
hints from ``prejudge``.
"""

from __future__ import annotations

from harness.checks.conceptual import auth, comms, data, params, surface  # noqa: F401  (register the rules)
from harness.checks.conceptual._base import RULES, Functional, Rule, functional_view, judge, supplied

__all__ = ["RULES", "Functional", "Rule", "functional_view", "judge", "supplied"]
