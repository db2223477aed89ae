"""EN 303 645 clause 5.1 — conceptual test cases judged from IXIT 1-AuthMech and 15-Intf.

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


@pytest.mark.conformance("5.1-1-1", scope="conceptual")
def test_5_1_1_1_passwords_unique_or_user_defined(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """Every password a user authenticates with is either set by the user or different on every unit,
    as IXIT 1-AuthMech declares it; contradicted by 5.1-1-2 when the device showed otherwise."""
    conclude(tc, judge("5.1-1-1", bench.profile.ixit, functional_results(run_dir)))


@pytest.mark.conformance("5.1-3-1", scope="conceptual")
def test_5_1_3_1_authentication_cryptography(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """User authentication declares integrity and authenticity, and its cryptographic details name
    only primitives our reference catalogue counts as best practice; no password crosses a cleartext interface."""
    conclude(tc, judge("5.1-3-1", bench.profile.ixit, functional_results(run_dir)))


@pytest.mark.conformance("5.1-5-1", scope="conceptual")
def test_5_1_5_1_brute_force_prevention(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """Every mechanism reachable over a network declares one of the brute-force counter-measures the
    TS names (delays, suspension, lock-out, entropy, two factors)."""
    conclude(tc, judge("5.1-5-1", bench.profile.ixit, functional_results(run_dir)))
