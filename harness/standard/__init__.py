"""The standards catalogue: EN 303 645 provisions (V2.1.1, V3.1.3), TS 103 701 test cases, the UK PSTI
mapping and the EN 18031-1 / Singapore CLS mappings.

Data lives in ``harness/standard/data`` (one file per edition); see its README for the format and
for what adding EN 303 645 V3.1.3 involves.
"""

from harness.standard.loader import (
    DEFAULT_EDITION,
    CatalogueError,
    available_editions,
    load,
    load_catalogue,
    report_catalogue,
    run_report_edition,
)
from harness.standard.model import (
    Applicability,
    Catalogue,
    Provision,
    PstiRequirement,
    SchemeEntry,
    SchemeMapping,
    TestCase,
)
from harness.standard.render import format_catalogue

__all__ = [
    "DEFAULT_EDITION",
    "Applicability",
    "Catalogue",
    "CatalogueError",
    "Provision",
    "PstiRequirement",
    "SchemeEntry",
    "SchemeMapping",
    "TestCase",
    "available_editions",
    "format_catalogue",
    "load",
    "load_catalogue",
    "report_catalogue",
    "run_report_edition",
]
