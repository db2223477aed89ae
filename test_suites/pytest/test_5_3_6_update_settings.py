"""EN 303 645 provision 5.3-6: automatic updates on by default, and the user can switch them off."""

from __future__ import annotations

import pytest

from harness.cases import update_settings
from harness.pytest_plugin import conclude

# The lab broker (or the observed one) watches these test cases: started ahead, in the background.
pytestmark = pytest.mark.lab_broker


@pytest.mark.conformance("5.3-6-2", scope="unit")
def test_5_3_6_2_automatic_updates_default(tc, device) -> None:  # type: ignore[no-untyped-def]
    """After a factory reset the automatic-update setting reads on; the user switches it off and
    it reads off, switches it on again and it reads on."""
    conclude(tc, update_settings.automatic_updates_default(device))
