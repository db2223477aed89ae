"""Assessor items — every TS 103 701 test case that no suite automates.

Each one is a profile-level test case of its own: NOT_APPLICABLE with the Table B.1 reason when
the ICS says its provision does not apply (the plugin decides that before the test body runs),
else PENDING_REVIEW carrying the question the assessor answers and the profile's IXIT entries to
read. ``harness assess RUN_DIR`` records the assessor's answers.
"""

from __future__ import annotations

import pytest

from harness.assess.items import item_result, item_title, open_test_cases
from harness.profile.resolve import Bench
from harness.pytest_plugin import conclude
from harness.standard import load_catalogue
from harness.testcase import TestCaseContext

_CATALOGUE = load_catalogue()


def _params() -> list[object]:
    return [pytest.param(tid, id=tid, marks=pytest.mark.conformance(tid, scope="profile"))
            for tid in open_test_cases(_CATALOGUE)]


@pytest.mark.parametrize("test_case", _params())
def test_assessor_item(test_case: str, tc: TestCaseContext, bench: Bench) -> None:
    """An assessor judges this test case from the IXIT and the published material."""
    tc.title = item_title(_CATALOGUE, test_case)
    try:
        import allure
        allure.dynamic.title(f"{test_case} {tc.title}")
    except ImportError:  # Allure is a view; the record carries the title
        pass
    conclude(tc, item_result(_CATALOGUE, test_case, bench.profile, bench.runtime))
