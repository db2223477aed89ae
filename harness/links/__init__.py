"""Physical and logical links to a unit: one module per link kind."""

from harness.links.base import LinkError

__all__ = ["LinkError"]
