"""Incremental pattern matching over an endless console stream.

Why our own instead of pexpect: pexpect re-searches its whole search window on every read and
its ``searchwindowsize`` trades correctness at chunk borders for speed. Here every byte is decoded
once, cleaned once (ANSI escapes, CR/LF normalisation) and scanned at most
``len(chunk) + max_match`` characters per read, which keeps the cost linear in the stream length
and the memory bounded by ``max_buffer`` whatever the device floods. A match of up to
``max_match`` characters is never lost at a chunk boundary because each scan starts
``max_match`` characters before the new data.
"""

from __future__ import annotations

import codecs
import re
from dataclasses import dataclass, field

# CSI (ESC [ ... final), OSC (ESC ] ... BEL/ST), and two-byte ESC sequences.
_ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]")
_ANSI_TAIL = re.compile(r"\x1b(?:\[[0-?]*[ -/]*|\][^\x07\x1b]*)?$")


class StreamCleaner:
    """Decode bytes and drop ANSI escape sequences, holding back an escape split across reads.

    Line endings are normalised to ``\\n`` (CRLF, lone CR and LF all become one newline) so that a
    profile's pattern works on devices that mix them.
    """

    def __init__(self, encoding: str = "utf-8", strip_ansi: bool = True, normalise_newlines: bool = True) -> None:
        self._decoder = codecs.getincrementaldecoder(encoding)(errors="replace")
        self._strip = strip_ansi
        self._newlines = normalise_newlines
        self._pending = ""
        self._cr = False

    def feed(self, data: bytes) -> str:
        text = self._pending + self._decoder.decode(data)
        self._pending = ""
        if self._strip and "\x1b" in text:
            tail = _ANSI_TAIL.search(text)
            if tail:
                self._pending = text[tail.start():]
                text = text[: tail.start()]
            text = _ANSI.sub("", text)
        if self._newlines:
            if self._cr and text.startswith("\n"):
                text = text[1:]  # the LF of a CRLF split across two reads
            self._cr = text.endswith("\r")
            text = text.replace("\r\n", "\n").replace("\r", "\n")
        return text


@dataclass
class Match:
    name: str  # the outcome name of the pattern that matched
    text: str  # the matched text
    groups: dict[str, str | None] = field(default_factory=dict)
    before: str = ""  # console output between the previous match and this one (bounded)


class Expecter:
    """Holds the unmatched console output and finds the earliest of several patterns in it."""

    def __init__(self, max_buffer: int = 65536, max_match: int = 4096) -> None:
        if max_buffer < 2 * max_match:
            raise ValueError("max_buffer must be at least twice max_match")
        self.max_buffer = max_buffer
        self.max_match = max_match
        self._buf = ""
        self._scanned = 0  # buffer positions before this were searched with no match
        self.discarded = 0  # characters dropped from the front to bound memory
        # The last search held back a match whose capture group ends where the buffer ends: the
        # rest of that value may still be on its way (a line arriving in pieces over a network).
        self.open_end = False

    @property
    def buffer(self) -> str:
        return self._buf

    def feed(self, text: str) -> None:
        self._buf += text
        if len(self._buf) > self.max_buffer:
            # Keep enough of the tail that a match ending in the next read is still found.
            drop = len(self._buf) - self.max_buffer // 2
            self._buf = self._buf[drop:]
            self.discarded += drop
            self._scanned = max(0, self._scanned - drop)

    def search(self, patterns: dict[str, re.Pattern[str]], *, defer_open_end: bool = False) -> Match | None:
        """The earliest match of any pattern, consumed from the buffer. With ``defer_open_end``, a
        match whose capture group runs up to the end of the buffer is held back (``open_end``): the
        caller reads on until more text or a short quiet, then searches again (``ssid=(?P<v>\\S*)``
        must not take "ssid=" while the value is still arriving)."""
        self.open_end = False
        start = max(0, self._scanned - self.max_match)
        best: tuple[int, int, str, re.Match[str]] | None = None
        for order, (name, pattern) in enumerate(patterns.items()):
            m = pattern.search(self._buf, start)
            if m and (best is None or (m.start(), order) < (best[0], best[1])):
                best = (m.start(), order, name, m)
        if best is None:
            self._scanned = len(self._buf)
            return None
        _, _, name, m = best
        if defer_open_end and m.end() == len(self._buf) and any(
                m.span(g)[1] == m.end() for g in range(1, (m.re.groups or 0) + 1)):
            self.open_end = True
            self._scanned = m.start()
            return None
        before = self._buf[: m.start()][-self.max_match:]
        result = Match(name=name, text=m.group(0), groups=m.groupdict(), before=before)
        self._buf = self._buf[m.end():]
        self._scanned = 0
        return result

    def clear(self) -> None:
        self.discarded += len(self._buf)
        self._buf = ""
        self._scanned = 0
