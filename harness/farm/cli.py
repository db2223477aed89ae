"""Farm sub-commands of ``harness``."""

from __future__ import annotations

from typing import Any


def add_parsers(sub: Any) -> None:
    """Register the farm's sub-commands on the ``harness`` command."""
