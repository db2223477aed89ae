"""The functional verdicts of a run, as the conceptual suites hand them to ``judge``.

The one place the conceptual package reads anything: the run's results log, merged by
``harness.results.latest_by_case``. Conceptual suites run after the functional ones; a functional
case with no record yet is simply absent (never a FAIL).
"""

from __future__ import annotations

from pathlib import Path

from harness.checks.conceptual._base import functional_view
from harness.results import latest_by_case


def functional_results(run_dir: str | Path) -> dict[str, list[dict[str, object]]]:
    if not (Path(run_dir) / "results").is_dir():
        return {}
    return functional_view(latest_by_case(run_dir))
