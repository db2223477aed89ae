"""Shared test hygiene: the process-wide redactor is reset around every test, so a secret one test
registers (a lab file's "a") never masks another test's text when xdist runs files in one worker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from harness.redact import REDACTOR


@pytest.fixture(autouse=True)
def _fresh_redactor() -> Iterator[None]:
    with REDACTOR._lock:
        saved = (dict(REDACTOR._secrets), set(REDACTOR._declassified))
        REDACTOR._secrets.clear()
        REDACTOR._declassified.clear()
        REDACTOR._pattern = None
        REDACTOR._none_live = False
    yield
    with REDACTOR._lock:
        REDACTOR._secrets.clear()
        REDACTOR._secrets.update(saved[0])
        REDACTOR._declassified.clear()
        REDACTOR._declassified.update(saved[1])
        REDACTOR._pattern = None
        REDACTOR._none_live = False
