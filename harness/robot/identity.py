"""A Robot test's conformance identity, read from its tags.

``5.1-1-2`` (a TS 103 701 test case id) makes a test a conformance test case; ``scope:profile``
or ``scope:cross_unit`` say it judges the product or all units (default: one unit). Tags like
``allure.label.provision:5.1-1`` are for Allure and ignored here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

TEST_CASE_TAG = re.compile(r"^\d+(?:\.\d+)?-\d+-\d+$")
SCOPES = ("unit", "profile", "cross_unit")


@dataclass(frozen=True)
class Identity:
    test_case: str
    scope: str = "unit"


def identity_from_tags(tags: Iterable[str]) -> Identity | None:
    """The test case id and scope, or None for a test that is not a conformance test case."""
    tags = [str(t).strip() for t in tags]
    ids = [t for t in tags if TEST_CASE_TAG.match(t)]
    if not ids:
        return None
    if len(ids) > 1:
        raise ValueError(f"a test names more than one TS 103 701 test case: {', '.join(ids)}")
    scope = "unit"
    for t in tags:
        if t.lower().startswith("scope:"):
            scope = t.split(":", 1)[1].strip().lower()
            if scope not in SCOPES:
                raise ValueError(f"unknown scope tag {t!r} (scopes: {', '.join(SCOPES)})")
    return Identity(ids[0], scope)


def title_from_name(name: str, test_case: str) -> str:
    """'5.1-1-2 No universal default password' → 'No universal default password'."""
    return name[len(test_case):].strip(" -:") if name.startswith(test_case) else name
