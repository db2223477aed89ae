"""Robot test identity from tags, and the scope pre-run modifier (pure: no device, no Robot run)."""

from __future__ import annotations

import pytest
from robot.api import TestSuite as RobotSuite

from harness.robot.identity import Identity, identity_from_tags, title_from_name
from harness.robot.scopes import KeepScopes


def test_test_case_id_and_scope_from_tags() -> None:
    assert identity_from_tags(["5.1-1-2", "allure.label.provision:5.1-1"]) == Identity("5.1-1-2", "unit")
    assert identity_from_tags(["4-1-1", "scope:profile"]) == Identity("4-1-1", "profile")
    assert identity_from_tags(["5.1-2-2", "SCOPE:cross_unit"]) == Identity("5.1-2-2", "cross_unit")
    assert identity_from_tags(["5.11-1-2"]) == Identity("5.11-1-2")


def test_provision_ids_and_other_tags_are_not_test_cases() -> None:
    assert identity_from_tags(["5.1-1", "allure.label.provision:5.1-1", "smoke"]) is None
    assert identity_from_tags([]) is None


@pytest.mark.parametrize("tags", [["5.1-1-2", "5.1-4-2"], ["5.1-1-2", "scope:everything"]])
def test_ambiguous_or_unknown_tags_are_errors(tags: list[str]) -> None:
    with pytest.raises(ValueError):
        identity_from_tags(tags)


def test_title_drops_the_leading_id() -> None:
    assert title_from_name("5.1-1-2 No universal default password", "5.1-1-2") == "No universal default password"
    assert title_from_name("Custom name", "5.1-1-2") == "Custom name"


def _suite() -> RobotSuite:
    top = RobotSuite(name="Top")
    a = top.suites.create(name="A")
    a.tests.create(name="per unit", tags=["5.1-1-2"])
    a.tests.create(name="product", tags=["4-1-1", "scope:profile"])
    b = top.suites.create(name="B")
    b.tests.create(name="across", tags=["5.1-2-2", "scope:cross_unit"])
    b.tests.create(name="plain robot test")
    return top


def test_keep_scopes_selects_by_scope_and_drops_empty_suites() -> None:
    units = _suite()
    units.visit(KeepScopes("unit"))
    assert [t.name for t in units.all_tests] == ["per unit", "plain robot test"]
    product = _suite()
    product.visit(KeepScopes("profile,cross_unit"))
    assert [t.name for t in product.all_tests] == ["product", "across"]
    only_cross = _suite()
    only_cross.visit(KeepScopes("cross_unit"))
    assert [s.name for s in only_cross.suites] == ["B"]


def test_keep_scopes_refuses_unknown_scopes() -> None:
    with pytest.raises(ValueError):
        KeepScopes("units")
