"""Shared test hygiene: what a test registers in the process-wide redactor (a lab file's secret "a",
say) is forgotten when the test ends, so it never masks another test's text when xdist runs several
files in one worker. Secrets registered before the test (module fixtures) stay."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.redact import REDACTOR


@pytest.fixture(autouse=True)
def _redactor_restored() -> Iterator[None]:
    with REDACTOR._lock:
        saved = (dict(REDACTOR._secrets), set(REDACTOR._declassified))
    yield
    with REDACTOR._lock:
        REDACTOR._secrets.clear()
        REDACTOR._secrets.update(saved[0])
        REDACTOR._declassified.clear()
        REDACTOR._declassified.update(saved[1])
        REDACTOR._pattern = None
        REDACTOR._none_live = False
