"""EN 303 645 clause 5.6 — conceptual test cases judged from IXIT 15-Intf and 13-SoftServ.

Scope `conceptual`: these run after the functional cases and read the profile's IXIT and the
functional verdicts this run recorded (a functional case not run changes nothing). Rules:
harness/checks/conceptual (docs/ics.md).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.checks.conceptual import judge
from harness.checks.conceptual.runlog import functional_results
from harness.profile.resolve import Bench
from harness.pytest_plugin import conclude
from harness.testcase import TestCaseContext


@pytest.mark.conformance("5.6-1-1", scope="conceptual")
def test_5_6_1_1_enabled_interfaces_have_a_purpose(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """Every enabled network or logical interface states the purpose it is enabled for; contradicted
    by 5.6-1-2 when the scan found more than the IXIT declares."""
    conclude(tc, judge("5.6-1-1", bench.profile.ixit, functional_results(run_dir)))


@pytest.mark.conformance("5.6-4-1", scope="conceptual")
def test_5_6_4_1_debug_interfaces_disabled(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """Every declared debug interface is disabled in the delivered state by a declared mechanism."""
    conclude(tc, judge("5.6-4-1", bench.profile.ixit, functional_results(run_dir)))


@pytest.mark.conformance("5.6-5-1", scope="conceptual")
def test_5_6_5_1_only_needed_services_enabled(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """Every service enabled by default names the intended use that needs it."""
    conclude(tc, judge("5.6-5-1", bench.profile.ixit, functional_results(run_dir)))
