"""`harness ics`: write the questionnaire (ICS and IXIT) for a new device, export a profile's ICS."""

from __future__ import annotations

from typing import Any


def add_parsers(sub: Any) -> None:
    """Register ``ics`` on the ``harness`` command."""
