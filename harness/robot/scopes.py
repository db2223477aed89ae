"""Pre-run modifier that keeps the test cases of some scopes (``unit``, ``profile``, ``cross_unit``).

``harness run`` runs the per-unit test cases once per unit (one pabot process each) and the
product-level and cross-unit ones once, afterwards. Selecting by scope here rather than by
``--include`` leaves ``--include``/``--exclude`` to the user: Robot ORs includes, so adding ours
would widen the user's selection instead of narrowing it. A test without a TS 103 701 id counts as
``unit`` (it typically opens a unit).

    robot --prerunmodifier harness.robot.scopes.KeepScopes:profile:cross_unit …
"""

from __future__ import annotations

from typing import Any

from robot.api import SuiteVisitor

from harness.robot.identity import SCOPES, identity_from_tags


def scope_of(tags: Any) -> str:
    try:
        identity = identity_from_tags(tags)
    except ValueError:
        return "unit"  # the listener fails such a test with the reason; it must still run once
    return identity.scope if identity else "unit"


class KeepScopes(SuiteVisitor):
    def __init__(self, *scopes: str) -> None:
        wanted = {s.strip().lower() for arg in scopes for s in arg.split(",") if s.strip()}
        unknown = wanted - set(SCOPES)
        if unknown or not wanted:
            raise ValueError(f"KeepScopes needs scopes out of {', '.join(SCOPES)}; got {', '.join(scopes) or 'none'}")
        self.scopes = wanted

    def start_suite(self, suite: Any) -> None:
        suite.tests = [t for t in suite.tests if scope_of(t.tags) in self.scopes]

    def end_suite(self, suite: Any) -> None:
        suite.suites = [s for s in suite.suites if s.test_count > 0]

    def visit_test(self, test: Any) -> None:
        pass  # tests were filtered in start_suite; nothing below them to visit
