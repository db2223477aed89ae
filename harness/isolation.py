"""Test isolation: what each test case may leave on a unit, and how the run keeps later test cases
from seeing it.

A test case that changes a unit either has its change undone right after it (the delivered
password is restored, the failure counters are reset by a login with the known-good password) or
runs after every test case that could be misled by the change (an update campaign installs other
firmware: it runs last on its unit). A factory reset brings the unit back to its delivered state
and is followed by the profile's ``onboard`` procedure (Device.factory_reset), so it needs no
entry here beyond ``settings``.

The table is data shared by both runners (pytest ordering, Robot ordering, the restore step after
each test case) and by the docs table "test case → state required → what it may leave".
"""

from __future__ import annotations

from dataclasses import dataclass

# What a test case may leave on the unit:
#   password  — an account's password differs from the delivered one (restored right after)
#   lockout   — failed login attempts counted, possibly a lockout (reset by a known-good login)
#   firmware  — other firmware installed (the test case runs after all others of its unit)
#   settings  — user data or settings written (the unit is no longer in its factory state)
#   broker    — the unit provisioned for another broker listener (re-provisioned when needed)
#   power     — the unit was power-cycled (session state unknown afterwards)
LEAVES: dict[str, frozenset[str]] = {
    "5.1-1-2": frozenset({"lockout"}),
    "5.1-4-2": frozenset({"password"}),
    "5.1-5-2": frozenset({"lockout"}),
    "5.3-2-2": frozenset({"firmware"}),
    "5.3-7-1": frozenset({"firmware"}),
    "5.3-9-1": frozenset({"firmware"}),
    "5.3-10-1": frozenset({"firmware"}),
    "5.3-16-2": frozenset({"firmware"}),
    "5.7-1-2": frozenset({"firmware"}),
    "5.5-1-2": frozenset({"broker"}),
    "5.5-5-2": frozenset({"settings"}),
    "5.9-1-2": frozenset({"power", "settings"}),
    "5.9-2-2": frozenset({"broker"}),
    "5.11-1-2": frozenset({"settings"}),
    "5.11-4-1": frozenset({"settings"}),
    "5.13-1-2": frozenset({"settings", "power"}),
    "5.3-6-2": frozenset({"settings"}),
    "5.8-1-2": frozenset({"settings"}),
    "6-2-2": frozenset({"settings"}),
    "6-3-2": frozenset({"settings"}),
    "5.9-3-2": frozenset({"broker"}),
    "5.4-1-2": frozenset({"settings"}),
    "5.5-4-2": frozenset({"lockout", "power"}),
    "5.7-2-2": frozenset({"firmware"}),
}

# Changes nothing can undo cheaply: the test cases leaving them run after every other test case
# of their unit, so nothing later is judged on them.
RUN_LAST = frozenset({"firmware"})


@dataclass(frozen=True)
class Plan:
    """Where a test case goes in its unit's order: 0 first, 1 after every phase-0 test case."""

    test_case: str
    leaves: frozenset[str]

    @property
    def phase(self) -> int:
        return 1 if self.leaves & RUN_LAST else 0


def leaves(test_case: str) -> frozenset[str]:
    return LEAVES.get(test_case, frozenset())


def phase(test_case: str) -> int:
    return Plan(test_case, leaves(test_case)).phase
