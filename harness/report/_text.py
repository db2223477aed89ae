"""Small text helpers shared by the report writers."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

# Device transcripts carry terminal escapes and stray NULs. XML 1.0 forbids them outright and HTML
# shows them as garbage, so they are written as visible escapes: the evidence stays readable and
# nothing of it is lost.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")


def _escape_char(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def clean(value: object) -> str:
    """``str(value)`` with control characters and lone surrogates made visible."""
    return _UNPRINTABLE.sub(_escape_char, value if isinstance(value, str) else str(value))


def natural_key(text: str) -> list[tuple[int, int | str]]:
    """Sort key that puts 5.2-1 before 5.10-1 and 5.3-2 before 5.3-13."""
    return [(0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", text) if t]


def write_atomic(path: str | Path, content: str | bytes) -> Path:
    """Write a report file so that a reader never sees half of it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = content.encode("utf-8", errors="backslashreplace") if isinstance(content, str) else content
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
