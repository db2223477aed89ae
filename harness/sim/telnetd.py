"""Legacy telnet on a unit's address, port 2323 (only with the behaviour `telnet`): the console's
login dialogue and shell over TCP, after the option negotiation a real telnetd opens with.

Telnet is written here rather than taken from a library: the stdlib's telnetlib is a client (and
gone in 3.13), and a server needs only RFC 854 command stripping plus refusing what it does not
offer, which is the part below."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.sim.catalog import MODEL
from harness.sim.shell import LOGIN_PROMPT, getty
from harness.sim.tcpshell import Connection, InputFilter, TcpShellServer

if TYPE_CHECKING:
    from harness.sim.mqtt import MqttClient
    from harness.sim.unit import Unit

SE, NOP, SB, WILL, WONT, DO, DONT, IAC = 240, 241, 250, 251, 252, 253, 254, 255
ECHO, SGA, NAWS = 1, 3, 31
OFFERED = {ECHO, SGA}  # the server echoes and does not need go-ahead: character mode, as telnetd
ASKED = {NAWS}  # the client may tell its window size
OPENING = bytes([IAC, WILL, ECHO, IAC, WILL, SGA, IAC, DO, NAWS])
MAX_SUBNEGOTIATION = 256


class IacFilter:
    """Strips telnet commands from received bytes; answers each unknown option request once
    (WONT/DONT) so negotiation cannot loop."""

    def __init__(self) -> None:
        self._state = "data"  # data | iac | option | sb | sb_iac
        self._verb = 0
        self._sb_len = 0
        self._answered: set[tuple[int, int]] = set()

    def __call__(self, data: bytes) -> tuple[bytes, bytes]:
        out, replies = bytearray(), bytearray()
        for b in data:
            if self._state == "data":
                if b == IAC:
                    self._state = "iac"
                else:
                    out.append(b)
            elif self._state == "iac":
                if b == IAC:
                    out.append(IAC)  # an escaped 0xFF data byte
                    self._state = "data"
                elif b in (WILL, WONT, DO, DONT):
                    self._verb, self._state = b, "option"
                elif b == SB:
                    self._state, self._sb_len = "sb", 0
                else:
                    self._state = "data"  # NOP, AYT, GA, ...: nothing to do
            elif self._state == "option":
                replies += self._answer(self._verb, b)
                self._state = "data"
            elif self._state == "sb":
                self._sb_len += 1
                if b == IAC:
                    self._state = "sb_iac"
                elif self._sb_len > MAX_SUBNEGOTIATION:
                    self._state = "data"  # a runaway subnegotiation: give up on it
            elif self._state == "sb_iac":
                self._state = "data" if b == SE else "sb"
        return bytes(out), bytes(replies)

    def _answer(self, verb: int, option: int) -> bytes:
        if (verb, option) in self._answered:
            return b""
        self._answered.add((verb, option))
        if verb == DO and option not in OFFERED:
            return bytes([IAC, WONT, option])
        if verb == WILL and option not in ASKED:
            return bytes([IAC, DONT, option])
        return b""  # an acknowledgement, or a refusal that needs none


class TelnetServer(TcpShellServer):
    echo = True  # after WILL ECHO the server echoes (not passwords)
    name = "telnet"

    def __init__(self, unit: Unit, mqtt: MqttClient | None) -> None:
        super().__init__(unit)
        self.mqtt = mqtt

    def input_filter(self) -> InputFilter:
        return IacFilter()

    def greeting(self) -> bytes:
        return OPENING + f"\r\n{MODEL}\r\n\r\n{LOGIN_PROMPT}".encode()

    async def session(self, conn: Connection) -> None:
        await getty(self.unit, conn, self.mqtt, hang_up_on_logout=True)
