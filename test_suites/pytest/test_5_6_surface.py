"""EN 303 645 clause 5.6: minimize exposed attack surfaces (network-side test cases)."""

from __future__ import annotations

import pytest

from harness.cases import surface
from harness.pytest_plugin import conclude


@pytest.mark.conformance("5.6-1-2", scope="unit")
def test_5_6_1_2_unused_interfaces_off(tc, device, observations) -> None:  # type: ignore[no-untyped-def]
    """Every TCP port (1-65535) and declared UDP service that answers is an enabled interface of
    IXIT 15-Intf; an undeclared or disabled one that answers FAILs, listing the ports. A unit whose
    declared enabled interfaces do not answer, or that does not answer its liveness probe after the
    scan, is INCONCLUSIVE: an empty scan of a dead unit is not "every interface off"."""
    conclude(tc, surface.unused_interfaces_off(device, observations))


@pytest.mark.conformance("5.6-2-2", scope="unit")
def test_5_6_2_2_no_disclosure_before_authentication(tc, device) -> None:  # type: ignore[no-untyped-def]
    """Before authentication, the declared interfaces' banners and public paths (``/`` of a web
    interface that declares none) reveal no firmware or kernel version, serial number or MAC
    address. A service that says nothing is no answer; nothing read is INCONCLUSIVE."""
    conclude(tc, surface.unauthenticated_disclosure(device))


@pytest.mark.conformance("5.6-4-2", scope="unit")
def test_5_6_4_2_debug_interface_off(tc, device, observations) -> None:  # type: ignore[no-untyped-def]
    """No network-reachable port that is undeclared or declared as debug gives a shell without
    authentication (shown by the answer to ``id``), and no physically accessible console/UART of
    IXIT 15-Intf gives a shell without a login (its ``attention`` procedure reaching ``logged_in``
    with no session open). Nothing reached is INCONCLUSIVE."""
    conclude(tc, surface.debug_interfaces_off(device, observations))
