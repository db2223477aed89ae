"""Serial console link over any pyserial URL (/dev/tty*, rfc2217://, socket://, a pty)."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import serial

from harness.links.base import LinkError
from harness.links.expect import Expecter, Match, StreamCleaner
from harness.links.transcript import Transcript

_READ_SLICE = 0.5  # longest single blocking read, so a deadline is honoured promptly


class ExpectTimeout(Exception):
    """No pattern matched in time. Not a lab fault by itself: the procedure decides."""

    def __init__(self, patterns: list[str], timeout: float, tail: str) -> None:
        self.patterns = patterns
        self.timeout = timeout
        self.tail = tail
        super().__init__(f"none of {patterns} seen within {timeout:g} s; last output: {tail[-200:]!r}")


class SerialLink:
    """A console: send lines, expect patterns with explicit timeouts, keep a transcript."""

    kind = "serial"

    def __init__(self, name: str, url: str, *, baud: int = 115200, newline: str = "\r\n",
                 encoding: str = "utf-8", timeout: float = 10.0, prompts: dict[str, str] | None = None,
                 max_buffer: int = 65536, transcript_dir: str | Path | None = None, **_: Any) -> None:
        self.name = name
        self.url = url
        self.baud = baud
        self.newline = newline
        self.encoding = encoding
        self.timeout = timeout
        self.prompts = {k: re.compile(v, re.MULTILINE) for k, v in (prompts or {}).items()}
        self.expecter = Expecter(max_buffer=max_buffer, max_match=min(4096, max_buffer // 2))
        self.cleaner = StreamCleaner(encoding)
        self.transcript = Transcript(name, transcript_dir)
        self._port: serial.SerialBase | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self) -> SerialLink:
        try:
            self._port = serial.serial_for_url(self.url, baudrate=self.baud, timeout=_READ_SLICE,
                                               write_timeout=self.timeout, exclusive=None)
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LinkError(f"console {self.name}: cannot open {self.url}: {exc}") from exc
        self.transcript.note(f"opened {self.url} at {self.baud} baud")
        return self

    def close(self) -> None:
        if self._port is not None:
            try:
                self._port.close()
            except (serial.SerialException, OSError):
                pass
            self._port = None
            self.transcript.note("closed")
            self.transcript.close()

    def __enter__(self) -> SerialLink:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> serial.SerialBase:
        if self._port is None:
            raise LinkError(f"console {self.name} is not open")
        return self._port

    # -- I/O ---------------------------------------------------------------------------------
    def write(self, text: str, *, secret: bool = False) -> None:
        self.transcript.sent(text, secret=secret)
        try:
            self.port.write(text.encode(self.encoding))
            self.port.flush()
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"console {self.name}: write failed: {exc}") from exc

    def send(self, text: str, *, secret: bool = False) -> None:
        self.write(text + self.newline, secret=secret)

    def _read_some(self, deadline: float) -> bool:
        port = self.port
        try:
            waiting = port.in_waiting
            if waiting:
                data = port.read(waiting)
            else:
                wait = round(max(0.0, min(_READ_SLICE, deadline - time.monotonic())), 2)
                if port.timeout != wait:  # pyserial reconfigures the port on every assignment
                    port.timeout = wait
                data = port.read(1)
        except (serial.SerialException, OSError) as exc:
            raise LinkError(f"console {self.name}: read failed: {exc}") from exc
        if not data:
            return False
        text = self.cleaner.feed(data)
        if text:
            self.transcript.received(text)
            self.expecter.feed(text)
        return True

    def compile(self, pattern: str) -> re.Pattern[str]:
        if pattern in self.prompts:
            return self.prompts[pattern]
        return re.compile(pattern, re.MULTILINE)

    def expect_any(self, patterns: dict[str, str | re.Pattern[str]], timeout: float | None = None) -> Match:
        """Wait for the earliest of several named patterns; raises ExpectTimeout."""
        compiled = {k: v if isinstance(v, re.Pattern) else self.compile(v) for k, v in patterns.items()}
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            match = self.expecter.search(compiled)
            if match is not None:
                return match
            if time.monotonic() >= deadline:
                names = [p if p in self.prompts else compiled[k].pattern for k, p in patterns.items()
                         if isinstance(p, str)]
                self.transcript.note(f"timeout after {timeout:g} s waiting for {names}")
                raise ExpectTimeout(names, timeout, self.expecter.buffer)
            self._read_some(deadline)

    def expect(self, pattern: str | re.Pattern[str], timeout: float | None = None) -> Match:
        return self.expect_any({"ok": pattern}, timeout)

    def drain(self) -> str:
        """Forget unmatched output (e.g. before a fresh login) without waiting."""
        text = self.expecter.buffer
        self.expecter.clear()
        return text
