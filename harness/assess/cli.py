"""`harness assess`: the assessor's commands."""

from __future__ import annotations

from typing import Any


def add_parsers(sub: Any) -> None:
    """Register the assessor's sub-commands on the ``harness`` command."""
