"""The verdict a runner shows for a test case is the one its record gets: the end-of-test liveness
probe (a unit that stopped answering voids a PASS or FAIL) runs once, before the runner maps the
verdict to its own status, and the teardown reuses it for the recovery."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from harness.cases.runs import after_test, settle_verdict, settle_verdict_of
from harness.procedures import ProcedureResult
from harness.testcase import Inconclusive, TestCaseContext
from harness.verdict import CheckResult, Evidence, Verdict


class Unit:
    def __init__(self, *, answers: bool) -> None:
        self.answers = answers
        self.unit_id = "U1"
        self.calls: list[str] = []
        self.state = SimpleNamespace(session="logged_in", password=None, user=None, factory_default=None,
                                     user_data=False)
        self.cache: dict[str, Any] = {}
        self.instruments_used: dict[str, Any] = {}
        self.procedures = {"attention", "power_cycle"}

    def has(self, name: str) -> bool:
        return name in self.procedures

    def transcripts(self) -> dict[str, Any]:
        return {}

    def run(self, procedure: str, **kw: Any) -> ProcedureResult:
        self.calls.append(procedure)
        if procedure == "power_cycle":
            self.answers = True
            return ProcedureResult(procedure)
        if procedure == "attention":
            if self.answers:
                return ProcedureResult(procedure, outcome="logged_in")
            return ProcedureResult(procedure, outcome="timeout", detail="no prompt within 2 s")
        raise AssertionError(procedure)


def ctx_for(unit: Unit, test_case: str = "5.6-1-2") -> TestCaseContext:
    ctx = TestCaseContext(test_case=test_case, unit="U1")
    ctx.use(unit)
    return ctx


def test_a_pass_on_a_unit_that_stopped_answering_is_settled_once() -> None:
    unit = Unit(answers=False)
    ctx = ctx_for(unit)
    ctx.conclude(CheckResult.passed("nothing open", Evidence("table", "ports", [{"port": 22}])))
    settle_verdict_of(ctx)
    assert ctx.result is not None and ctx.result.verdict == Verdict.INCONCLUSIVE
    assert "not trusted" in ctx.result.reason and "PASS" in ctx.result.reason
    probes = unit.calls.count("attention")
    after_test(ctx, unit)  # the teardown: no second probe, the power cycle recovers the unit
    assert unit.calls.count("attention") == probes and unit.calls[-1] == "power_cycle"
    assert any(e.name == "recovery" for e in ctx.evidence)
    assert ctx.result.verdict == Verdict.INCONCLUSIVE


def test_a_live_unit_keeps_its_verdict_and_liveness_judging_cases_are_not_probed() -> None:
    unit = Unit(answers=True)
    ctx = ctx_for(unit)
    ctx.conclude(CheckResult.failed("telnet open", Evidence("table", "ports", [{"port": 23}])))
    assert settle_verdict(ctx, unit) == (True, "attention → logged_in")
    assert ctx.result is not None and ctx.result.verdict == Verdict.FAIL
    dead = Unit(answers=False)
    crash = ctx_for(dead, "5.13-1-2")
    crash.conclude(CheckResult.failed("stopped answering", Evidence("finding", "input", {"x": 1})))
    assert settle_verdict(crash, dead) is None and dead.calls == []
    assert crash.result is not None and crash.result.verdict == Verdict.FAIL


def test_pytest_outcome_is_the_settled_verdict() -> None:
    from harness.pytest_plugin import conclude
    unit = Unit(answers=False)
    ctx = ctx_for(unit)
    with pytest.raises(Inconclusive, match="not trusted"):
        conclude(ctx, CheckResult.passed("nothing open", Evidence("table", "ports", [{"port": 22}])))
