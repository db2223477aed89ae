"""Serial console link over any pyserial URL (/dev/tty*, rfc2217://, socket://, a pty).

Three console habits are handled here so that profiles need no code for them:
- ``settle``: some consoles drop input typed within a fraction of a second of their prompt; each
  send first waits until the line has been quiet that long (reading, so nothing is lost).
- ``drain`` / ``wait_quiet``: discard pending output, or treat silence as "ready".
- a port that disappears and comes back (a pty or USB-UART re-created by a power cycle) is
  reopened, waiting at most ``reopen_timeout`` for it to reappear.
"""

from __future__ import annotations

import errno
import re
import threading
import time
from pathlib import Path
from typing import Any

import serial

from harness.links.base import LinkError
from harness.links.expect import Expecter, Match, StreamCleaner
from harness.links.transcript import Transcript

_READ_SLICE = 0.5  # longest single blocking read, so a deadline is honoured promptly
# How long a value captured at the very end of what arrived waits for the rest of its line.
_OPEN_END_QUIET = 0.2


_DRAIN_ATTEMPTS = 5  # tcdrain calls interrupted by signals, retried before the write counts as failed
try:
    import termios
    _TERMIOS_ERRORS: tuple[type[Exception], ...] = (termios.error,)
except ImportError:  # not POSIX: pyserial's flush() there raises no termios.error
    _TERMIOS_ERRORS = ()


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
                 max_buffer: int = 65536, transcript_dir: str | Path | None = None, settle: float = 0.0,
                 reopen_timeout: float = 10.0, **_: Any) -> None:
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
        self.settle = float(settle or 0.0)
        self.reopen_timeout = float(reopen_timeout)
        self.reopened = 0  # times the port vanished and was opened again
        self._port: serial.SerialBase | None = None
        self._last_rx = time.monotonic()  # when the device last said something
        self._stop = threading.Event()  # the reopen wait: event-driven, so a stopping run can end it

    # -- lifecycle ---------------------------------------------------------------------------
    def _open_port(self) -> serial.SerialBase:
        options: dict[str, Any] = {"baudrate": self.baud, "timeout": _READ_SLICE, "exclusive": None}
        if not self.url.startswith("rfc2217://"):
            options["write_timeout"] = self.timeout  # pyserial's RFC 2217 client has none (NotImplementedError)
        return serial.serial_for_url(self.url, **options)

    def open(self) -> SerialLink:
        try:
            self._port = self._open_port()
        except (serial.SerialException, OSError, ValueError) as exc:
            raise LinkError(f"console {self.name}: cannot open {self.url}: {exc}") from exc
        self._last_rx = time.monotonic()
        self.transcript.note(f"opened {self.url} at {self.baud} baud")
        return self

    def _close_port(self) -> bool:
        """Close the port if it is open (a failing one may refuse even that); True if it was."""
        if self._port is None:
            return False
        try:
            self._port.close()
        except (serial.SerialException, OSError):
            pass
        self._port = None
        return True

    def _is_local_device(self) -> bool:
        return "://" not in self.url

    def _may_come_back(self) -> bool:
        """A USB-UART's node (or the /dev/serial/by-id link to it) comes back after a power cycle.
        A pty named by its own /dev/pts path never does: its number goes to the next pty anyone
        opens, and reopening it would read another console (a link to a pty may be re-pointed)."""
        if not self._is_local_device():
            return False
        return Path(self.url).is_symlink() or not self.url.startswith("/dev/pts/")

    def _reopen(self, cause: BaseException) -> None:
        """The port failed under us. A local device node that vanished (power-cycled USB-UART, a
        re-created pty) is waited for and opened again; anything else is a lab fault."""
        vanished = isinstance(cause, OSError) and cause.errno in (errno.ENOENT, errno.ENODEV, errno.EIO, errno.ENXIO)
        vanished = vanished or isinstance(cause, serial.SerialException)
        if not (self._may_come_back() and vanished and self.reopen_timeout > 0):
            raise LinkError(f"console {self.name}: {cause}") from cause
        self._close_port()
        self.transcript.note(f"port {self.url} failed ({cause}); waiting up to {self.reopen_timeout:g} s for it")
        deadline = time.monotonic() + self.reopen_timeout
        last: BaseException = cause
        delay = 0.05
        while True:
            if Path(self.url).exists():
                try:
                    self._port = self._open_port()
                except (serial.SerialException, OSError) as exc:
                    last = exc
                else:
                    self.reopened += 1
                    self.cleaner = StreamCleaner(self.encoding)
                    self._last_rx = time.monotonic()
                    self.transcript.note(f"reopened {self.url}")
                    return
            left = deadline - time.monotonic()
            if left <= 0:
                raise LinkError(f"console {self.name}: {self.url} did not come back within "
                                f"{self.reopen_timeout:g} s ({last})") from cause
            # A device node has no "created" event pyserial can wait on: poll with a growing step.
            self._stop.wait(min(delay, left))
            delay = min(delay * 2, 0.5)

    def new_session(self) -> None:
        """Close and reopen the port, keeping the transcript: what a lab does by hand to end a
        console session on a device without ``logout`` (a UART shell may well survive it)."""
        self._close_port()
        self.expecter.clear()
        self.cleaner = StreamCleaner(self.encoding)
        self.transcript.note("closing and reopening the port for a new session")
        self.open()

    def close(self) -> None:
        if self._close_port():
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
        if self.settle > 0:
            self._settle()
        self.transcript.sent(text, secret=secret)
        data = text.encode(self.encoding)
        try:
            self._write_raw(data)
        except (serial.SerialException, OSError) as exc:
            self._reopen(exc)
            try:
                self._write_raw(data)
            except (serial.SerialException, OSError) as again:
                raise LinkError(f"console {self.name}: write failed: {again}") from again

    def _write_raw(self, data: bytes) -> None:
        self.port.write(data)
        # pyserial's flush() is tcdrain(), which Python does not restart after a signal as it does
        # read() and write() (PEP 475 leaves termios out): "Interrupted system call" only means
        # "drain again". Another termios error becomes an OSError, so the write path reopens.
        for attempt in range(_DRAIN_ATTEMPTS):
            try:
                self.port.flush()
                return
            except _TERMIOS_ERRORS as exc:  # neither an OSError nor a SerialException
                if exc.args and exc.args[0] == errno.EINTR and attempt + 1 < _DRAIN_ATTEMPTS:
                    continue
                raise OSError(*exc.args) from exc

    def send(self, text: str, *, secret: bool = False) -> None:
        self.write(text + self.newline, secret=secret)

    def wait_quiet(self, seconds: float, timeout: float | None = None) -> bool:
        """Read until the device has said nothing for ``seconds`` ("silence means ready"), counted
        from now at the earliest: the silence is observed, not assumed from an unread buffer.

        True when the line fell quiet; False when it kept talking until ``timeout`` (default: the
        link timeout, and never less than ``seconds``). What was read stays for the next expect.
        """
        start = time.monotonic()
        limit = max(self.timeout if timeout is None else timeout, seconds)
        if self._quiet_for(seconds, start + limit, since=start):
            return True
        self.transcript.note(f"the console did not fall quiet for {seconds:g} s within {limit:g} s")
        return False

    def _settle(self) -> None:
        """Before a send: what already arrived is read, then the line must have been quiet
        ``settle`` s since the device's last byte (no wait at all on a line quiet long enough)."""
        now = time.monotonic()
        for _ in range(1024):  # bounded: a flooding device is caught by the deadline below
            if not self._read_some(now):
                break
        if not self._quiet_for(self.settle, now + max(self.timeout, self.settle), since=0.0):
            self.transcript.note(f"sending although the console did not fall quiet for {self.settle:g} s")

    def _quiet_for(self, seconds: float, deadline: float, *, since: float) -> bool:
        while True:
            now = time.monotonic()
            quiet_until = max(self._last_rx, since) + seconds
            if now >= quiet_until:
                return True
            if now >= deadline:
                return False
            self._read_some(min(quiet_until, deadline))

    def _read_port(self, deadline: float) -> bytes:
        port = self.port
        waiting = port.in_waiting
        if waiting:
            return bytes(port.read(waiting))
        wait = round(max(0.0, min(_READ_SLICE, deadline - time.monotonic())), 2)
        if port.timeout != wait:  # pyserial reconfigures the port on every assignment
            port.timeout = wait
        return bytes(port.read(1))

    def _read_some(self, deadline: float) -> bool:
        try:
            data = self._read_port(deadline)
        except (serial.SerialException, OSError) as exc:
            self._reopen(exc)
            return False
        if not data:
            return False
        self._last_rx = time.monotonic()
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
        settle_until: float | None = None  # a capture ends at the end of the data: quiet until then
        while True:
            final = settle_until is not None and time.monotonic() >= settle_until
            match = self.expecter.search(compiled, defer_open_end=not final)
            if match is not None:
                return match
            if self.expecter.open_end:
                if settle_until is None:
                    settle_until = min(deadline, time.monotonic() + _OPEN_END_QUIET)
                if self._read_some(settle_until):
                    settle_until = None  # more came: judge the value again
                continue
            settle_until = None
            if time.monotonic() >= deadline:
                names = [p if p in self.prompts else compiled[k].pattern for k, p in patterns.items()
                         if isinstance(p, str)]
                self.transcript.note(f"timeout after {timeout:g} s waiting for {names}")
                raise ExpectTimeout(names, timeout, self.expecter.buffer)
            self._read_some(deadline)

    def expect(self, pattern: str | re.Pattern[str], timeout: float | None = None) -> Match:
        return self.expect_any({"ok": pattern}, timeout)

    def drain(self, max_s: float = 0.0, quiet_s: float = 0.3) -> str:
        """Forget unmatched output (e.g. before a fresh login). With ``max_s`` 0 at once; else
        first read until the line has been quiet ``quiet_s`` seconds, for at most ``max_s``, so
        output still on its way (a boot log, a banner) is dropped too. Returns what was dropped
        (the transcript has it all)."""
        if max_s > 0:
            self.wait_quiet(min(quiet_s, max_s), max_s)
        text = self.expecter.buffer
        self.expecter.clear()
        return text
