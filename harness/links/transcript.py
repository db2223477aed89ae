"""Timestamped, redacted transcript of everything that crossed a link.

Written line by line to a file (not kept in memory, so an endless console flood costs disk, not
RAM). A line is redacted as a whole before it is written, so a secret is never split across two
writes of device output; sent text is one entry of its own. The file is 0600 in a 0700 folder
when the folder is the run's (the run directory's policy, ``harness.results``).
"""

from __future__ import annotations

import os
import tempfile
import threading
import time
from pathlib import Path

from harness.redact import REDACTOR, Redactor
from harness.results import private_dir

_MAX_LINE = 4096
_MAX_ATTACH = 1 << 20  # an attachment keeps the last 1 MiB of a span


class Transcript:
    def __init__(self, link: str, folder: str | Path | None = None, redactor: Redactor = REDACTOR) -> None:
        self.link = link
        self.redactor = redactor
        if folder:
            folder = private_dir(folder)
        else:
            folder = Path(tempfile.gettempdir())
        fd, name = tempfile.mkstemp(prefix=f"transcript-{link}-", suffix=".log", dir=folder)
        self.path = Path(name)
        self._fh = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        self._t0 = time.monotonic()
        self._partial = ""
        self._partial_t = 0.0
        self._lock = threading.Lock()

    def _emit(self, t: float, direction: str, text: str) -> None:
        self._fh.write(f"{t - self._t0:10.3f} {direction} {self.redactor.redact(text)}\n")

    def received(self, text: str) -> None:
        # One redact and one write per chunk (not per line): a console flood is ~10^5 lines/s.
        now = time.monotonic()
        with self._lock:
            if not self._partial:
                self._partial_t = now
            buf = self._partial + text
            head, sep, self._partial = buf.rpartition("\n")
            if sep:
                stamp = f"{self._partial_t - self._t0:10.3f} < "
                body = self.redactor.redact(head).replace("\n", "\n" + stamp)
                self._fh.write(stamp + body + "\n")
                self._partial_t = now
            if len(self._partial) > _MAX_LINE:
                self._emit(self._partial_t, "<", self._partial + " [line continues]")
                self._partial = ""

    def sent(self, text: str, *, secret: bool = False) -> None:
        with self._lock:
            self._flush_partial()
            shown = "«secret input»" if secret else text.rstrip("\r\n")
            self._emit(time.monotonic(), ">", shown)

    def note(self, text: str) -> None:
        with self._lock:
            self._flush_partial()
            self._emit(time.monotonic(), "#", text)

    def _flush_partial(self) -> None:
        if self._partial:
            self._emit(self._partial_t, "<", self._partial)
            self._partial = ""

    def mark(self) -> int:
        """Position to read from later: the span of one test case."""
        with self._lock:
            self._flush_partial()
            self._fh.flush()
            return self._fh.tell()

    def read_since(self, offset: int) -> str:
        with self._lock:
            self._flush_partial()
            self._fh.flush()
            end = self._fh.tell()
        start = max(offset, end - _MAX_ATTACH)
        with open(self.path, encoding="utf-8", errors="replace") as fh:
            fh.seek(start)
            text = fh.read(end - start)
        if start > offset:
            text = f"[… {start - offset} bytes of transcript before this point omitted]\n" + text
        return text

    def close(self) -> None:
        with self._lock:
            self._flush_partial()
            self._fh.close()
