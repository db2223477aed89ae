"""Small text helpers shared by the report writers."""

from __future__ import annotations

import os
import re
import tempfile
from pathlib import Path

from harness.redact import REDACTOR

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


# On a terminal, a device string must not be able to act: C0 controls (ESC starts a sequence that
# sets the window title or clears the screen, BEL ends one, CR overwrites the line), DEL, the C1
# controls (0x9b is a one-byte CSI on some terminals), bidirectional overrides that reorder what
# is shown, and lone surrogates. Backslashes stay as they are, so applying it twice is harmless.
_TERMINAL_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                              r"\ud800-\udfff]")


def terminal_safe(value: object, *, keep_newlines: bool = False) -> str:
    """``str(value)`` fit to print on a terminal: every control and escape character made visible
    (ESC as ``\\x1b``, a newline as ``\\x0a``, U+202E as ``\\u202e``); spaces and printable text kept.
    ``keep_newlines``: a multi-line message (a log tail) stays on its lines."""
    text = value if isinstance(value, str) else str(value)
    if keep_newlines:
        return "\n".join(_TERMINAL_UNSAFE.sub(_escape_char, line) for line in text.split("\n"))
    return _TERMINAL_UNSAFE.sub(_escape_char, text)


def natural_key(text: str) -> list[tuple[int, int | str]]:
    """Sort key that puts 5.2-1 before 5.10-1 and 5.3-2 before 5.3-13."""
    return [(0, int(t)) if t.isdigit() else (1, t) for t in re.split(r"(\d+)", text) if t]


def write_atomic(path: str | Path, content: str | bytes) -> Path:
    """Write a report file so that a reader never sees half of it: owner-only (0600, a new folder
    0700, the run directory's policy in ``harness.results``), and redacted as written text in case
    a secret reached the model in a form the model's own redaction did not see."""
    path = Path(path)
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    if isinstance(content, str):
        data = REDACTOR.redact(content).encode("utf-8", errors="backslashreplace")
    else:
        data = content
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
