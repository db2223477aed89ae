"""EN 303 645 provision 6-3: consent to processing personal data can be withdrawn at any time."""

from __future__ import annotations

import pytest

from harness.cases import consent
from harness.pytest_plugin import conclude

# The lab broker (or the observed one) watches these test cases: started ahead, in the background.
pytestmark = pytest.mark.lab_broker


@pytest.mark.conformance("6-3-2", scope="unit")
def test_6_3_2_consent_withdrawal(tc, device) -> None:  # type: ignore[no-untyped-def]
    """With consent given, the consent-based data of IXIT 21-PersData is seen leaving the unit;
    after the user withdraws consent and the declared settle time passes, none of it leaves the
    unit for a further window, while the unit goes on answering."""
    conclude(tc, consent.consent_withdrawal(device))
