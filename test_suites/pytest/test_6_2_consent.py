"""EN 303 645 provision 6-2: consent is obtained before personal data is processed on its basis."""

from __future__ import annotations

import pytest

from harness.cases import consent
from harness.pytest_plugin import conclude

# The lab broker (or the observed one) watches these test cases: started ahead, in the background.
pytestmark = pytest.mark.lab_broker


@pytest.mark.conformance("6-2-2", scope="unit")
def test_6_2_2_consent_before_processing(tc, device) -> None:  # type: ignore[no-untyped-def]
    """After a factory reset the unit is set up again but nobody has consented yet: during the
    declared window none of the consent-based data of IXIT 21-PersData leaves it. Once consent is
    given, that data appears (which shows the watch would have recognised it)."""
    conclude(tc, consent.consent_before_processing(device))
