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
transcript) is the serial console's own code, inherited from SerialLink.
"""

from __future__ import annotations

import select
import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from harness.links.base import LinkError
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


class TelnetLink(SerialLink):
    """A console over telnet, with SerialLink's methods (open, close, send, write, expect_any,
    expect, drain, transcript), so profile procedures written for a console run over it too."""

    kind = "telnet"

    def __init__(self, name: str, *, host: str, port: int = 23, newline: str = "\r\n",
                 prompts: dict[str, str] | None = None, timeout: float = 10.0,
                 transcript_dir: str | Path | None = None, scope: Scope | None = None,
                 encoding: str = "utf-8", max_buffer: int = 65536, **_: Any) -> None:
        super().__init__(name, f"telnet://{host}:{port}", newline=newline, encoding=encoding, timeout=timeout,
                         prompts=prompts, max_buffer=max_buffer, transcript_dir=transcript_dir)
        self.host = host
        self.tcp_port = port
        # Without a declared scope only the loopback is reachable: a link never probes the LAN
        # on its own.
        self.scope = scope or _LOOPBACK
        self._sock: socket.socket | None = None
        self._heard = False
        self.iac = IacFilter(self._send_raw)

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self) -> TelnetLink:
        address = self.scope.check_target(self.host, self.tcp_port)
        try:
            self._sock = socket.create_connection((address, self.tcp_port), timeout=self.timeout)
        except OSError as exc:
            raise LinkError(f"telnet {self.name}: cannot connect to {address}:{self.tcp_port}: {exc}") from exc
        self._heard = False  # the server said something on this connection
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
        self._drop_socket()
        self.expecter.clear()  # what the old session said is not an answer in the new one
        self.iac = IacFilter(self._send_raw)
        self.transcript.note("the device ended the session; opening a new one")
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
        self.transcript.sent(text, secret=secret)
        self._send_raw(text.encode(self.encoding).replace(b"\xff", b"\xff\xff"))

    def _read_some(self, deadline: float) -> bool:
        sock = self.sock
        wait = max(0.0, min(_READ_SLICE, deadline - time.monotonic()))
        try:
            ready, _, _ = select.select([sock], [], [], wait)
            if not ready:
                return False
            data = sock.recv(_RECV)
        except OSError as exc:
            raise LinkError(f"telnet {self.name}: read failed: {exc}") from exc
        if not data:
            # The server ended the session (a logout, too many failed logins). What is awaited may
            # come from a new session (a login prompt): open one; if it never comes, the expect
            # times out as usual. A server that refuses the new connection is a LinkError.
            self.transcript.note("connection closed by the device")
            if not self._heard:
                # Closed before saying anything: the server refuses service; reconnecting would
                # only spin until the expect's deadline.
                raise LinkError(f"telnet {self.name}: the device closed the connection without a word")
            self._reconnect()
            return True
        self._heard = True
        text = self.cleaner.feed(self.iac.feed(data))
        if text:
            self.transcript.received(text)
            self.expecter.feed(text)
        return True


__all__ = ["IacFilter", "TelnetLink"]
