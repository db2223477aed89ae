"""EN 303 645 clause 5.5 — conceptual test cases judged from IXIT 11-ComMech, 10-SecParam and 13-SoftServ.

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


@pytest.mark.conformance("5.5-1-1", scope="conceptual")
def test_5_5_1_1_communication_cryptography(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """Every communication mechanism declares integrity and authenticity with best-practice
    cryptography; a plaintext mechanism carrying protected data fails."""
    conclude(tc, judge("5.5-1-1", bench.profile.ixit, functional_results(run_dir)))


@pytest.mark.conformance("5.5-5-1", scope="conceptual")
def test_5_5_5_1_configuration_needs_authentication(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """Every service that allows security-relevant configuration over the network requires authentication."""
    conclude(tc, judge("5.5-5-1", bench.profile.ixit, functional_results(run_dir)))


@pytest.mark.conformance("5.5-6-1", scope="conceptual")
def test_5_5_6_1_critical_parameters_encrypted_in_transit(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """Mechanisms carrying critical security parameters declare confidentiality with best-practice cryptography."""
    conclude(tc, judge("5.5-6-1", bench.profile.ixit, functional_results(run_dir)))


@pytest.mark.conformance("5.5-7-1", scope="conceptual")
def test_5_5_7_1_critical_parameters_remote_confidential(tc: TestCaseContext, bench: Bench, run_dir: Path) -> None:
    """Remotely accessible mechanisms carrying critical security parameters declare confidentiality
    with best-practice cryptography."""
    conclude(tc, judge("5.5-7-1", bench.profile.ixit, functional_results(run_dir)))
