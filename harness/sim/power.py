"""The simulator's bench: an SCPI power supply (and a relay card) served on a TCP socket.

The harness talks to it with pyvisa-py at ``TCPIP::127.0.0.1::<port>::SOCKET`` exactly as it would
talk to a LAN supply, and the simulated unit follows the output: ``on_output(False)`` takes the
unit down, ``on_output(True)`` boots it. Relay channel 1 is wired to the unit's reset button.

Written here rather than taken from a library: pyvisa-sim answers inside the client process and
serves no socket, and the SCPI *server* packages on PyPI are small single-vendor projects; what a
supply needs is ~20 headers, and the device callbacks have to run on the simulator's event loop.

Protocol: newline-terminated program messages; ``;`` separates commands (each is taken from the
root, a simplification of SCPI's path rules); headers match short or long form, any case
(``OUTP``/``OUTPut``, optional nodes such as ``[:STATe]`` and ``[SOURce:]VOLTage[:LEVel]``).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import logging
import re
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

Callback = Callable[[bool], Awaitable[None] | None]

MAX_LINE = 4096
MAX_ERRORS = 10  # SCPI's minimum queue length; the last slot reports the overflow
MAX_CLIENTS = 8
VOLTAGE_RANGE = (0.0, 30.0)
NO_ERROR = (0, "No error")

# Short form of every header node we know, by its long form.
_LONG = {"OUTPUT": "OUTP", "STATE": "STAT", "SOURCE": "SOUR", "VOLTAGE": "VOLT", "LEVEL": "LEV",
         "IMMEDIATE": "IMM", "AMPLITUDE": "AMPL", "MEASURE": "MEAS", "SCALAR": "SCAL", "CURRENT": "CURR",
         "SYSTEM": "SYST", "ERROR": "ERR", "NEXT": "NEXT", "ROUTE": "ROUT", "CLOSE": "CLOS", "OPEN": "OPEN"}
_SHORT = set(_LONG.values())


def _variants(spec: str) -> list[str]:
    """All headers a spec with optional nodes allows: "OUTP[:STAT]" → ["OUTP", "OUTP:STAT"]."""
    if spec.startswith("*"):
        return [spec]
    query = "?" if spec.endswith("?") else ""
    choices = [("", opt) if opt else (req,) for opt, req in re.findall(r"\[:?(\w+):?\]|(\w+)", spec.rstrip("?"))]
    return [":".join(n for n in combo if n) + query for combo in itertools.product(*choices)]


def _normalise(header: str) -> str | None:
    """Upper-case short form of a received header, None when a node is not ours."""
    header = header.strip().lstrip(":").upper()
    if header.startswith("*"):
        return header
    query = header.endswith("?")
    out = []
    for node in header.rstrip("?").split(":"):
        if node in _LONG:
            out.append(_LONG[node])
        elif node in _SHORT:
            out.append(node)
        else:
            return None
    return ":".join(out) + ("?" if query else "")


class _ScpiError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(f"{code},{message}")
        self.code = code
        self.message = message


def _bool(arg: str) -> bool:
    value = arg.strip().upper()
    if value in ("ON", "1"):
        return True
    if value in ("OFF", "0"):
        return False
    if not value:
        raise _ScpiError(-109, "Missing parameter")
    raise _ScpiError(-224, "Illegal parameter value")


def _channels(arg: str, count: int) -> list[int]:
    """A channel list: (@1), (@1,3), (@1:3)."""
    m = re.fullmatch(r"\s*\(@([\d,:\s]+)\)\s*", arg)
    if not m:
        raise _ScpiError(-109 if not arg.strip() else -224,
                         "Missing parameter" if not arg.strip() else "Illegal parameter value")
    out: list[int] = []
    for item in m.group(1).split(","):
        lo, _, hi = item.strip().partition(":")
        try:
            first, last = int(lo), int(hi or lo)
        except ValueError:
            raise _ScpiError(-224, "Illegal parameter value") from None
        if not (1 <= first <= last <= count):
            raise _ScpiError(-222, "Data out of range")
        out.extend(range(first, last + 1))
    return out


@dataclass
class SupplyState:
    output: bool = False
    voltage: float = 5.0
    load_a: float = 0.0


class ScpiSupplyServer:
    """One supply output and a relay card of ``relay_channels`` channels, shared by all clients.

    ``on_output(on)`` and ``on_button(pressed)`` may be plain or async; they are awaited before
    the next command is answered, so they should only change the unit's state and start its boot
    as a task, not wait for the boot to end (a client's read would time out meanwhile).
    """

    def __init__(self, host: str, port: int = 0, *, idn: str = "SimIoT Lab,PSU-1,0001,1.0",
                 on_output: Callback | None = None, on_button: Callback | None = None,
                 voltage: float = 5.0, relay_channels: int = 4) -> None:
        self.host = host
        self.port = port
        self.idn = idn
        self.on_output = on_output
        self.on_button = on_button
        self.default_voltage = voltage
        self.state = SupplyState(voltage=voltage)
        self.relays = dict.fromkeys(range(1, relay_channels + 1), False)
        self.errors: deque[tuple[int, str]] = deque()
        self.commands_seen = 0
        self._server: asyncio.Server | None = None
        self._clients: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()  # one command at a time, whichever client sent it
        self._handlers: dict[str, Callable[[str], Awaitable[str | None]]] = {}
        for spec, handler in (
            ("*IDN?", self._idn), ("*RST", self._rst), ("*CLS", self._cls), ("*OPC?", self._opc),
            ("OUTP[:STAT]", self._outp), ("OUTP[:STAT]?", self._outp_q),
            ("[SOUR:]VOLT[:LEV][:IMM][:AMPL]", self._volt), ("[SOUR:]VOLT[:LEV][:IMM][:AMPL]?", self._volt_q),
            ("MEAS[:SCAL]:CURR?", self._meas_curr), ("SYST:ERR[:NEXT]?", self._syst_err),
            ("ROUT:CLOS", self._rout_close), ("ROUT:OPEN", self._rout_open), ("ROUT:CLOS?", self._rout_close_q),
        ):
            for header in _variants(spec):
                self._handlers[header] = handler

    # -- what the simulated unit sets ------------------------------------------------------------
    def set_load(self, amps: float) -> None:
        """The current the unit draws while powered (it changes with what the unit is doing)."""
        self.state.load_a = max(0.0, float(amps))

    @property
    def output(self) -> bool:
        return self.state.output

    # -- lifecycle -------------------------------------------------------------------------------
    async def start(self) -> int:
        self._server = await asyncio.start_server(self._client, self.host, self.port, limit=MAX_LINE)
        self.port = self._server.sockets[0].getsockname()[1]
        return self.port

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._clients):
            writer.close()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def __aenter__(self) -> ScpiSupplyServer:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # -- connection ------------------------------------------------------------------------------
    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if len(self._clients) >= MAX_CLIENTS:
            writer.close()
            return
        task = asyncio.current_task()
        assert task is not None
        self._tasks.add(task)  # type: ignore[arg-type]
        self._clients.add(writer)
        try:
            while True:
                try:
                    line = await reader.readuntil(b"\n")
                except asyncio.IncompleteReadError:
                    return  # client went away
                except asyncio.LimitOverrunError:
                    self._push(-363, "Input buffer overrun")
                    return  # the rest of that line cannot be trusted: drop the connection
                text = line.decode("ascii", errors="replace").strip("\r\n")
                async with self._lock:
                    answers = await self._message(text)
                if answers:
                    writer.write((";".join(answers) + "\n").encode("ascii"))
                    await writer.drain()
        except (ConnectionError, OSError):
            return
        finally:
            self._clients.discard(writer)
            self._tasks.discard(task)  # type: ignore[arg-type]
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def _message(self, text: str) -> list[str]:
        answers = []
        for unit in text.split(";"):
            if not unit.strip():
                continue
            self.commands_seen += 1
            header, _, arg = unit.strip().partition(" ")
            handler = self._handlers.get(_normalise(header) or "")
            if handler is None:
                self._push(-113, "Undefined header")
                continue
            try:
                answer = await handler(arg)
            except _ScpiError as exc:
                self._push(exc.code, exc.message)
                continue
            if answer is not None:
                answers.append(answer)
        return answers

    def _push(self, code: int, message: str) -> None:
        if len(self.errors) >= MAX_ERRORS - 1:
            if len(self.errors) == MAX_ERRORS - 1:
                self.errors.append((-350, "Queue overflow"))
            return
        self.errors.append((code, message))

    async def _notify(self, callback: Callback | None, value: bool) -> None:
        if callback is None:
            return
        try:
            result = callback(value)
            if inspect.isawaitable(result):
                await result
        except Exception:  # a simulator bug must show up as an instrument error, not kill the server
            log.exception("power callback failed")
            self._push(-310, "System error; device callback failed")

    # -- commands --------------------------------------------------------------------------------
    async def _idn(self, arg: str) -> str:
        return self.idn

    async def _rst(self, arg: str) -> None:
        await self._set_output(False)
        self.state.voltage = self.default_voltage
        for channel in list(self.relays):
            await self._set_relay(channel, False)

    async def _cls(self, arg: str) -> None:
        self.errors.clear()

    async def _opc(self, arg: str) -> str:
        return "1"

    async def _outp(self, arg: str) -> None:
        await self._set_output(_bool(arg))

    async def _set_output(self, on: bool) -> None:
        if on == self.state.output:
            return
        self.state.output = on
        # Awaited before the next command is answered: once a client has read OUTP? 0 (or any
        # later answer), the unit is really down.
        await self._notify(self.on_output, on)

    async def _outp_q(self, arg: str) -> str:
        return "1" if self.state.output else "0"

    async def _volt(self, arg: str) -> None:
        if not arg.strip():
            raise _ScpiError(-109, "Missing parameter")
        try:
            volts = float(arg)
        except ValueError:
            raise _ScpiError(-104, "Data type error") from None
        lo, hi = VOLTAGE_RANGE
        if not lo <= volts <= hi:
            raise _ScpiError(-222, "Data out of range")
        self.state.voltage = volts

    async def _volt_q(self, arg: str) -> str:
        return f"{self.state.voltage:.3f}"

    async def _meas_curr(self, arg: str) -> str:
        powered = self.state.output and self.state.voltage > 0
        return f"{self.state.load_a if powered else 0.0:.4f}"

    async def _syst_err(self, arg: str) -> str:
        code, message = self.errors.popleft() if self.errors else NO_ERROR
        return f'{code},"{message}"'

    async def _rout_close(self, arg: str) -> None:
        for channel in _channels(arg, len(self.relays)):
            await self._set_relay(channel, True)

    async def _rout_open(self, arg: str) -> None:
        for channel in _channels(arg, len(self.relays)):
            await self._set_relay(channel, False)

    async def _rout_close_q(self, arg: str) -> str:
        return ",".join("1" if self.relays[c] else "0" for c in _channels(arg, len(self.relays)))

    async def _set_relay(self, channel: int, closed: bool) -> None:
        if self.relays[channel] == closed:
            return
        self.relays[channel] = closed
        if channel == 1:  # the unit's reset button line
            await self._notify(self.on_button, closed)
