"""Telnet console: the serial console's API (send/expect/transcript) over a TCP telnet session.

Why our own client: the standard library's telnetlib is deprecated and removed in Python 3.13;
telnetlib3, the maintained replacement, is asyncio-only, and the console API is blocking with
explicit deadlines (a profile procedure written for a serial console must run unchanged), so it
would need an event-loop thread per link. pyserial does not fit either: ``rfc2217://`` insists on
the COM-port-control options a login daemon does not speak, and ``socket://`` passes telnet
commands through as data and reads one byte per select. What a console needs from telnet is
small: refuse every option the server proposes (answer DO with WONT and WILL with DONT, once per
option, never answering DONT/WONT, as RFC 854 asks to avoid loops), skip subnegotiations, unescape
IAC IAC and escape 0xFF on the way out. ``IacFilter`` does that in one pass with constant memory;
everything else (decoding, ANSI and newline cleaning, bounded pattern matching, the redacted
transcript, the settle before each send) is the serial console's own code, inherited from SerialLink.

A server that ends the session (a FIN or a reset) after failed logins is the device refusing, not a
lab fault: BusyBox telnetd drops the connection after three. While an ``expect_one_of`` that names
the ``closed_outcome`` (default ``rejected``) is waiting, the end of the session is that outcome;
the link opens a new session at once so the proof of life (``alive``: the login prompt again) runs
on it. A session ended while nothing waits for a refusal is reopened and the wait goes on.
"""

from __future__ import annotations

import re
import select
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.links.base import LinkError
from harness.links.expect import Match
from harness.links.serial import SerialLink
from harness.scope import Scope

IAC, DONT, DO, WONT, WILL, SB, SE = 255, 254, 253, 252, 251, 250, 240
_VERBS = {DO: "DO", DONT: "DONT", WILL: "WILL", WONT: "WONT"}
_READ_SLICE = 0.5
_RECV = 4096
_LOOPBACK = Scope(["127.0.0.0/8", "::1/128"])


class IacFilter:
    """Strips telnet commands from a byte stream and refuses every option, across chunk borders."""

    _DATA, _IAC, _VERB, _SB, _SB_IAC = range(5)

    def __init__(self, reply: Callable[[bytes], None]) -> None:
        self._reply = reply
        self._state = self._DATA
        self._verb = 0
        self._answered: set[tuple[int, int]] = set()
        self.negotiations: list[str] = []  # what the server asked, for the transcript (bounded below)

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        for byte in data:
            state = self._state
            if state == self._DATA:
                if byte == IAC:
                    self._state = self._IAC
                elif byte:  # NUL is a no-op in the NVT (it follows a bare CR)
                    out.append(byte)
            elif state == self._IAC:
                if byte == IAC:
                    out.append(IAC)  # an escaped data byte 0xFF
                    self._state = self._DATA
                elif byte in (DO, DONT, WILL, WONT):
                    self._verb = byte
                    self._state = self._VERB
                elif byte == SB:
                    self._state = self._SB
                else:
                    self._state = self._DATA  # NOP, GA, AYT, …: nothing to do
            elif state == self._VERB:
                self._option(self._verb, byte)
                self._state = self._DATA
            elif state == self._SB:
                if byte == IAC:
                    self._state = self._SB_IAC
            else:  # _SB_IAC
                self._state = self._DATA if byte == SE else self._SB
        return bytes(out)

    def _option(self, verb: int, option: int) -> None:
        if len(self.negotiations) < 64:
            self.negotiations.append(f"{_VERBS[verb]} {option}")
        answer = {DO: WONT, WILL: DONT}.get(verb)
        if answer is None or (verb, option) in self._answered:
            return
        self._answered.add((verb, option))
        self._reply(bytes((IAC, answer, option)))


_SILENT_RETRIES = 4  # new sessions closed without a word, after a hang-up, before it is a lab fault


class TelnetLink(SerialLink):
    """A console over telnet, with SerialLink's methods (open, close, send, write, expect_any,
    expect, drain, transcript), so profile procedures written for a console run over it too."""

    kind = "telnet"

    def __init__(self, name: str, *, host: str, port: int = 23, newline: str = "\r\n",
                 prompts: dict[str, str] | None = None, timeout: float = 10.0,
                 transcript_dir: str | Path | None = None, scope: Scope | None = None,
                 encoding: str = "utf-8", max_buffer: int = 65536, settle: float = 0.0,
                 closed_outcome: str | None = "rejected", **_: Any) -> None:
        super().__init__(name, f"telnet://{host}:{port}", newline=newline, encoding=encoding, timeout=timeout,
                         prompts=prompts, max_buffer=max_buffer, transcript_dir=transcript_dir, settle=settle)
        self.closed_outcome = closed_outcome or None
        self.sessions_ended = 0  # sessions the device ended (a logout, too many failed logins)
        self._ended_during_wait = False
        self._reconnect_due = False  # the device ended a session and a new one could not be opened yet
        self.host = host
        self.tcp_port = port
        # Without a declared scope only the loopback is reachable: a link never probes the LAN
        # on its own.
        self.scope = scope or _LOOPBACK
        self._sock: socket.socket | None = None
        self._heard = False
        self._silent_closes = 0  # new sessions after a hang-up that closed before a word
        self.iac = IacFilter(self._send_raw)

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self) -> TelnetLink:
        address = self.scope.check_target(self.host, self.tcp_port)
        try:
            self._sock = socket.create_connection((address, self.tcp_port), timeout=self.timeout)
        except OSError as exc:
            raise LinkError(f"telnet {self.name}: cannot connect to {address}:{self.tcp_port}: {exc}") from exc
        self._heard = False  # the server said something on this connection
        self._last_rx = time.monotonic()
        self.transcript.note(f"connected to telnet {address}:{self.tcp_port}")
        return self

    def _drop_socket(self) -> bool:
        if self._sock is None:
            return False
        try:
            self._sock.close()
        except OSError:
            pass
        self._sock = None
        return True

    def _reconnect(self) -> None:
        """A new session after the device ended one. A telnetd that refuses connections for a
        moment after hanging up (a restarting inetd service) is retried for up to the link timeout."""
        self._drop_socket()
        self._reconnect_due = False
        self.expecter.clear()  # what the old session said is not an answer in the new one
        self.iac = IacFilter(self._send_raw)
        self.transcript.note("the device ended the session; opening a new one")
        deadline = time.monotonic() + self.timeout
        delay = 0.05
        while True:
            try:
                self.open()
                return
            except LinkError as exc:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise LinkError(f"telnet {self.name}: the device ended the session and accepted no new "
                                    f"one within {self.timeout:g} s ({exc})") from exc
                self._stop.wait(min(delay, left))
                delay = min(delay * 2, 1.0)

    def new_session(self) -> None:
        """End this telnet session from our side and open a new one (a device without logout)."""
        self._drop_socket()
        self.expecter.clear()
        self.iac = IacFilter(self._send_raw)
        self.transcript.note("closing the session and opening a new one")
        self.open()

    def close(self) -> None:
        if self._drop_socket():
            if self.iac.negotiations:
                self.transcript.note(f"telnet options refused: {', '.join(self.iac.negotiations)}")
            self.transcript.note("closed")
            self.transcript.close()

    @property
    def port(self) -> Any:  # SerialLink's name for "the open connection"
        return self.sock

    @property
    def sock(self) -> socket.socket:
        if self._sock is None and self._reconnect_due:
            self._reconnect()  # the new session a refusal left for the proof of life
        if self._sock is None:
            raise LinkError(f"telnet {self.name} is not open")
        return self._sock

    # -- I/O ---------------------------------------------------------------------------------
    def _send_raw(self, data: bytes) -> None:
        try:
            self.sock.settimeout(self.timeout)
            self.sock.sendall(data)
        except OSError as exc:
            raise LinkError(f"telnet {self.name}: write failed: {exc}") from exc

    def write(self, text: str, *, secret: bool = False) -> None:
        if self.settle > 0:
            self._settle()
        self.transcript.sent(text, secret=secret)
        data = text.encode(self.encoding).replace(b"\xff", b"\xff\xff")
        try:
            self._send_raw(data)
        except LinkError as exc:
            if not isinstance(exc.__cause__, (BrokenPipeError, ConnectionResetError)) or not self._heard:
                raise
            # The device ended the session before this input reached it. The input is not sent
            # again: in a new session it would land at another prompt (a password as a user name).
            self._session_ended("the device had ended the session; input not delivered")

    def _session_ended(self, why: str) -> None:
        self.sessions_ended += 1
        self._ended_during_wait = True
        self.transcript.note(why)
        try:
            self._reconnect()
        except LinkError as exc:
            # The refusal stands; whether the device is alive is for the next use of the link
            # (the proof of life) to find out, trying once more.
            self._reconnect_due = True
            self.transcript.note(str(exc))
            if self.closed_outcome is None:
                raise

    def expect_any(self, patterns: dict[str, str | re.Pattern[str]], timeout: float | None = None) -> Match:
        """As SerialLink's, and the end of the session is the ``closed_outcome`` when it is named."""
        self._ended_during_wait = False
        if self.closed_outcome is None or self.closed_outcome not in patterns:
            return super().expect_any(patterns, timeout)
        compiled = {k: v if isinstance(v, re.Pattern) else self.compile(v) for k, v in patterns.items()}
        timeout = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + timeout
        while True:
            match = self.expecter.search(compiled)
            if match is not None:
                return match
            if self._ended_during_wait:
                self.transcript.note(f"the device ended the session: outcome {self.closed_outcome}")
                return Match(name=self.closed_outcome, text="[session ended by the device]")
            if time.monotonic() >= deadline:
                return super().expect_any(patterns, 0)  # raises ExpectTimeout with the usual detail
            self._read_some(deadline)

    def _read_some(self, deadline: float) -> bool:
        sock = self.sock
        wait = max(0.0, min(_READ_SLICE, deadline - time.monotonic()))
        try:
            ready, _, _ = select.select([sock], [], [], wait)
            if not ready:
                return False
            data = sock.recv(_RECV)
        except ConnectionResetError:
            data = b""  # a reset ends the session like a FIN does
        except OSError as exc:
            raise LinkError(f"telnet {self.name}: read failed: {exc}") from exc
        if not data:
            # The server ended the session (a logout, too many failed logins). What is awaited may
            # come from a new session (a login prompt): open one; if it never comes, the expect
            # times out as usual. A server that refuses the new connection is a LinkError.
            if not self._heard:
                if self.sessions_ended and self._silent_closes < _SILENT_RETRIES:
                    # Right after a hang-up a telnetd that restarts (inetd) can reset a connection
                    # its old listener had queued: not back yet, not a refusal of service. A few
                    # tries, backing off; a server that always does it ends as below.
                    self._silent_closes += 1
                    self.transcript.note("the new session closed without a word; trying again")
                    self._stop.wait(min(0.1 * 2 ** self._silent_closes, 1.0))
                    self._reconnect()
                    return True
                # Closed before saying anything: the server refuses service; reconnecting would
                # only spin until the expect's deadline.
                self.transcript.note("connection closed by the device")
                raise LinkError(f"telnet {self.name}: the device closed the connection without a word")
            self._session_ended("connection closed by the device")
            return True
        self._heard = True
        self._silent_closes = 0
        self._last_rx = time.monotonic()
        text = self.cleaner.feed(self.iac.feed(data))
        if text:
            self.transcript.received(text)
            self.expecter.feed(text)
        return True


__all__ = ["IacFilter", "TelnetLink"]
