"""Bench instruments over pyvisa: a power supply and a relay/PDU channel (a power or button line).

Any pyvisa backend works: ``@py`` (pyvisa-py) for real instruments, e.g. a LAN supply at
``TCPIP::host::5025::SOCKET``, and ``fixtures/instruments/bench.yaml@sim`` (pyvisa-sim) in unit
tests. Every command is followed by ``SYST:ERR?`` where the instrument has it, so an instrument that
refused a command says so at once. Instrument errors and timeouts are lab faults (INCONCLUSIVE):
the device was not judged.

No sleeps here: how long a device must stay unpowered, or how long its reset button must be held,
comes from the profile, and the waiting is done by the caller's ``wait`` (the procedure runner's
stoppable wait), so a run that is being stopped is not held up by a power cycle.
"""

from __future__ import annotations

import contextlib
import re
import socket
import threading
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyvisa
from pyvisa import constants
from pyvisa.errors import VisaIOError

from harness.links.base import LinkError
from harness.links.transcript import Transcript
from harness.redact import REDACTOR
from harness.verdict import Evidence

Wait = Callable[[float], Any]

_MAX_ERROR_READS = 16  # a broken instrument may never report 0: read at most this many entries
_EXCERPT = 200  # exchanges kept in memory for evidence (the transcript file keeps them all)
_ERROR_RE = re.compile(r'^\s*([+-]?\d+)\s*(?:,\s*"?(.*?)"?\s*)?$')


_RM_LOCK = threading.Lock()


def resource_manager(backend: str) -> Any:
    """pyvisa's manager for a backend. The first one loads the backend (pyvisa-py probes for USB
    and GPIB libraries: ~0.1 s); the lock makes a manager asked for while ``load_backends`` loads
    it wait for that load instead of loading it twice."""
    with _RM_LOCK:
        return pyvisa.ResourceManager(backend)


def load_backends(backends: set[str]) -> None:
    """Load VISA backends ahead of their first instrument (Device.prewarm calls this in a thread)."""
    for backend in sorted(backends):
        with contextlib.suppress(Exception):  # a backend that cannot load says so at open, with the cause
            resource_manager(backend)


class InstrumentError(LinkError):
    """The instrument failed or refused a command (SYST:ERR?, timeout, connection): a lab fault.

    A LinkError, hence a LabFault: the caller records INCONCLUSIVE, never FAIL.
    """

    def __init__(self, message: str, *, code: int | None = None, command: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.command = command


# --- SCPI dialects ------------------------------------------------------------------------------

@dataclass(frozen=True)
class Dialect:
    """How one instrument family spells the commands the harness needs.

    Templates take ``{ch}`` (channel), ``{state}`` (the on/off word) and ``{volts}``. A template
    without ``{ch}`` acts on the channel chosen by ``select`` (sent first when a channel is given).
    """

    name: str
    follows: str
    idn: str | None  # regex on the *IDN? answer that picks this dialect
    commands: Mapping[str, str]
    on_off: tuple[str, str] = ("ON", "OFF")


GENERIC_COMMANDS: dict[str, str] = {
    "clear": "*CLS",
    "error": "SYST:ERR?",
    "select": "INST:NSEL {ch}",
    "output": "OUTP {state}",
    "output?": "OUTP?",
    "voltage": "VOLT {volts:.3f}",
    "current?": "MEAS:CURR?",
    "relay_close": "ROUT:CLOS (@{ch})",
    "relay_open": "ROUT:OPEN (@{ch})",
    "relay?": "ROUT:CLOS? (@{ch})",
}

DIALECTS: dict[str, Dialect] = {d.name: d for d in (
    Dialect("generic",
            "the SCPI-1999 command tree as Keysight E3631A/E3640-series supplies take it (INST:NSEL, "
            "OUTP ON, VOLT, MEAS:CURR?, SYST:ERR?) and Keysight 34970A/34980A-style switch units "
            "(ROUT:CLOS/OPEN (@n)); also the simulator's supply",
            None, GENERIC_COMMANDS),
    # The tables below are transcribed from the manufacturers' programming guides; they have not
    # been run against the hardware in this project. A lab that finds a difference overrides a
    # command in its lab configuration (``commands:``) and tells us.
    Dialect("keysight_e36300", "Keysight E36300-series multi-output supplies (channel lists)",
            r"^Keysight Technologies,E363\d\d",
            {**GENERIC_COMMANDS, "output": "OUTP {state},(@{ch})", "output?": "OUTP? (@{ch})",
             "voltage": "VOLT {volts:.3f},(@{ch})", "current?": "MEAS:CURR? (@{ch})"}),
    Dialect("rigol_dp800", "Rigol DP800-series supplies (channel named in the command)",
            r"^RIGOL TECHNOLOGIES,DP8",
            {**GENERIC_COMMANDS, "output": ":OUTP CH{ch},{state}", "output?": ":OUTP? CH{ch}",
             "voltage": ":SOUR{ch}:VOLT {volts:.3f}", "current?": ":MEAS:CURR? CH{ch}"}),
    Dialect("rs_hmp", "Rohde & Schwarz / Hameg HMP supplies (select, then OUTP:STAT)",
            r"^(ROHDE&SCHWARZ|HAMEG),HMP",
            {**GENERIC_COMMANDS, "output": "OUTP:STAT {state}", "output?": "OUTP:STAT?"}),
)}


def dialect_for(identity: str, name: str | None = None) -> Dialect:
    if name:
        try:
            return DIALECTS[name]
        except KeyError:
            raise InstrumentError(f"unknown SCPI dialect {name!r} (known: {', '.join(DIALECTS)})") from None
    for dialect in DIALECTS.values():
        if dialect.idn and re.search(dialect.idn, identity, re.IGNORECASE):
            return dialect
    return DIALECTS["generic"]


def parse_bool(answer: str) -> bool:
    value = answer.strip().upper()
    if value in ("1", "ON", "+1"):
        return True
    if value in ("0", "OFF", "+0"):
        return False
    raise ValueError(answer)


# --- the link -----------------------------------------------------------------------------------

@dataclass
class Exchange:
    at: str  # wall-clock UTC, millisecond resolution
    command: str
    answer: str | None = None
    error: str | None = None

    def line(self) -> str:
        text = f"{self.at} > {self.command}"
        if self.answer is not None:
            text += f"  < {self.answer}"
        if self.error:
            text += f"  !! {self.error}"
        return REDACTOR.redact(text)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


class Instrument:
    """One SCPI instrument: open (identity, clear), query/write with an error check, a transcript."""

    kind = "instrument"
    role = "instrument"

    def __init__(self, name: str, *, resource: str, backend: str = "@py", timeout: float = 5.0,
                 read_termination: str = "\n", write_termination: str = "\n",
                 transcript_dir: str | Path | None = None, dialect: str | None = None,
                 commands: Mapping[str, str] | None = None, check_errors: bool = True,
                 channel: int | None = None, **_: Any) -> None:
        self.name = name
        self.resource = resource
        self.backend = backend
        self.timeout = timeout
        self.read_termination = read_termination
        self.write_termination = write_termination
        self.check_errors = check_errors
        self.channel = channel  # default channel when a method is given none
        self.identity: str | None = None
        self._transcript_dir = transcript_dir
        self.transcript = Transcript(name, transcript_dir)
        self._transcript_open = True
        self._dialect_name = dialect
        self._overrides = dict(commands or {})
        self.dialect: Dialect = DIALECTS["generic"]
        self._rm: pyvisa.ResourceManager | None = None
        self._res: Any = None
        self._lost = False  # a timeout or a dropped connection: reopen before the next command
        self._lock = threading.RLock()
        self._exchanges: deque[Exchange] = deque(maxlen=_EXCERPT)
        self._count = 0

    # -- lifecycle -------------------------------------------------------------------------------
    def open(self) -> Instrument:
        with self._lock:
            if not self._transcript_open:  # reopened after close(): a new transcript file
                self.transcript = Transcript(self.name, self._transcript_dir)
                self._transcript_open = True
            try:
                self._open_session()
            except InstrumentError:
                self._disconnect()  # no half-open session left behind by a failed open
                raise
        return self

    def _open_session(self) -> None:
        self._connect()
        identity = self._query_raw("*IDN?").strip()
        if not identity:
            raise InstrumentError(f"instrument {self.name}: empty answer to *IDN?", command="*IDN?")
        if self.identity is not None and identity != self.identity:
            raise InstrumentError(f"instrument {self.name}: {self.resource} now answers as {identity!r}, "
                                  f"not {self.identity!r}", command="*IDN?")
        self.identity = identity
        self.dialect = dialect_for(identity, self._dialect_name)
        self.transcript.note(f"identity {identity!r}; SCPI dialect {self.dialect.name}")
        clear = self._command("clear")
        if clear:
            self._write_raw(clear)
            self._check(clear)

    def _connect(self) -> None:
        self._disconnect()
        try:
            self._rm = resource_manager(self.backend)
            self._res = self._rm.open_resource(
                self.resource, read_termination=self.read_termination, write_termination=self.write_termination,
                timeout=int(self.timeout * 1000), open_timeout=int(self.timeout * 1000))
        except (pyvisa.errors.Error, OSError, ValueError) as exc:
            self._disconnect()
            raise InstrumentError(f"instrument {self.name}: cannot open {self.resource} "
                                  f"(backend {self.backend}): {exc}") from exc
        self._nodelay()
        self._lost = False
        self.transcript.note(f"opened {self.resource} (backend {self.backend})")

    def _nodelay(self) -> None:
        """VISA says a raw socket's writes go out at once (VI_ATTR_TCPIP_NODELAY is true by default);
        pyvisa-py leaves Nagle's algorithm on, and then a query after a bare command (``*CLS`` then
        ``SYST:ERR?``) waits for the instrument's delayed ACK: 40 ms per command on Linux."""
        if "::SOCKET" not in self.resource.upper():
            return
        res = self._res
        try:
            res.set_visa_attribute(pyvisa.constants.ResourceAttribute.tcpip_nodelay, True)  # type: ignore[union-attr]
            return
        except Exception:  # noqa: BLE001  (pyvisa-py 0.8 registers the wrong setter for it: UnknownAttribute)
            pass
        # pyvisa-py: its session's socket directly. A backend without either keeps its default:
        # slower, not wrong.
        session = getattr(getattr(res, "visalib", None), "sessions", {}).get(getattr(res, "session", None))
        sock = getattr(session, "interface", None)
        if isinstance(sock, socket.socket):
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _disconnect(self) -> None:
        res, rm = self._res, self._rm
        self._res = self._rm = None
        for obj in (res, rm):
            if obj is not None:
                try:
                    obj.close()
                except (pyvisa.errors.Error, OSError):
                    pass

    def close(self) -> None:
        with self._lock:
            if self._res is not None:
                self._disconnect()
                self.transcript.note("closed")
            if self._transcript_open:
                self.transcript.close()
                self._transcript_open = False

    def __enter__(self) -> Instrument:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- raw I/O ---------------------------------------------------------------------------------
    def _ensure(self) -> Any:
        if self._res is None or self._lost:
            if self.identity is None:
                raise InstrumentError(f"instrument {self.name} is not open")
            # After a timeout a late answer may still arrive and would be read as the answer to
            # the next command: a fresh session (and a fresh *IDN?) rather than a guess.
            self.open()
        return self._res

    def _record(self, ex: Exchange) -> None:
        self._exchanges.append(ex)
        self._count += 1

    def _failed(self, ex: Exchange, exc: Exception, what: str) -> InstrumentError:
        timeout = isinstance(exc, VisaIOError) and exc.error_code == constants.StatusCode.error_timeout
        ex.error = f"timeout after {self.timeout:g} s" if timeout else f"{type(exc).__name__}: {exc}"
        self._record(ex)
        self.transcript.note(ex.error)
        self._lost = True
        hint = ""
        if timeout and ex.command == self._command("error"):
            hint = " (an instrument without SYST:ERR? needs check_errors: false)"
        return InstrumentError(f"instrument {self.name}: {what} {ex.command!r}: {ex.error}{hint}",
                               command=ex.command)

    def _session(self) -> Any:
        if self._res is None:
            raise InstrumentError(f"instrument {self.name} is not open")
        return self._res

    def _write_raw(self, command: str) -> None:
        res = self._session()
        ex = Exchange(_now(), command)
        self.transcript.sent(command)
        try:
            res.write(command)
        except (VisaIOError, OSError) as exc:
            raise self._failed(ex, exc, "write") from exc
        self._record(ex)

    def _query_raw(self, command: str) -> str:
        res = self._session()
        ex = Exchange(_now(), command)
        self.transcript.sent(command)
        try:
            answer = res.query(command)
        except (VisaIOError, OSError, UnicodeDecodeError) as exc:
            raise self._failed(ex, exc, "no answer to") from exc
        answer = answer.rstrip("\r\n")
        ex.answer = answer
        self.transcript.received(answer + "\n")
        self._record(ex)
        return answer

    def _check(self, after: str) -> None:
        """Drain SYST:ERR? after a command; any non-zero entry is an InstrumentError."""
        query = self._command("error")
        if not self.check_errors or not query:
            return
        errors: list[tuple[int, str]] = []
        for _ in range(_MAX_ERROR_READS):
            answer = self._query_raw(query)
            m = _ERROR_RE.match(answer)
            if not m:
                self._lost = True  # perhaps a stale answer: the session is out of step
                raise InstrumentError(f"instrument {self.name}: unexpected answer {answer!r} to {query}",
                                      command=query)
            code, message = int(m.group(1)), (m.group(2) or "").strip()
            if code == 0:
                break
            errors.append((code, message))
        else:
            errors.append((0, f"error queue still not empty after {_MAX_ERROR_READS} reads"))
        if errors:
            code, message = errors[0]
            listed = "; ".join(f"{c},{m!r}" if c else m for c, m in errors)
            self.transcript.note(f"instrument error after {after!r}: {listed}")
            raise InstrumentError(f"instrument {self.name} reported an error after {after!r}: {listed}",
                                  code=code, command=after)

    # -- public I/O ------------------------------------------------------------------------------
    def write(self, command: str) -> None:
        with self._lock:
            self._ensure()
            self._write_raw(command)
            self._check(command)

    def query(self, command: str) -> str:
        with self._lock:
            self._ensure()
            answer = self._query_raw(command)
            self._check(command)
            return answer

    # -- dialect ---------------------------------------------------------------------------------
    def _command(self, key: str) -> str | None:
        if key in self._overrides:
            return self._overrides[key] or None
        return self.dialect.commands.get(key) or None

    def _render(self, key: str, channel: int | None, **values: Any) -> list[str]:
        """The command(s) for ``key``: a channel selection first when the template has no {ch}."""
        template = self._command(key)
        if template is None:
            raise InstrumentError(f"instrument {self.name}: dialect {self.dialect.name} has no {key!r} command")
        channel = self.channel if channel is None else channel
        if "{ch}" in template or "{ch:" in template:
            return [template.format(ch=1 if channel is None else channel, **values)]
        out = []
        if channel is not None:
            select = self._command("select")
            if select is None:
                raise InstrumentError(f"instrument {self.name}: no way to select channel {channel} "
                                      f"in dialect {self.dialect.name}")
            out.append(select.format(ch=channel))
        return out + [template.format(**values)]

    def _do(self, key: str, channel: int | None, **values: Any) -> None:
        with self._lock:
            for command in self._render(key, channel, **values):
                self.write(command)

    def _ask(self, key: str, channel: int | None) -> str:
        with self._lock:
            *selects, command = self._render(key, channel)
            for select in selects:
                self.write(select)
            return self.query(command)

    def _state_word(self, on: bool) -> str:
        return self.dialect.on_off[0 if on else 1]

    # -- evidence --------------------------------------------------------------------------------
    def mark(self) -> int:
        """Exchange counter: pass it to ``evidence(since=...)`` for one test's excerpt."""
        return self._count

    def used_since(self, mark: int) -> bool:
        return self._count > mark

    def evidence(self, since: int | None = None) -> dict[str, Any]:
        """Identity, resource, backend and the SCPI exchanges (of one test when ``since`` is given)."""
        with self._lock:
            kept = list(self._exchanges)
            first_kept = self._count - len(kept)  # older exchanges are only in the transcript file
            since = 0 if since is None else since
            excerpt = [ex.line() for ex in kept[max(0, since - first_kept):]]
            omitted = max(0, first_kept - since)
            return {
                "name": self.name,
                "role": self.role,
                "identity": self.identity,
                "resource": self.resource,
                "backend": self.backend,
                "dialect": self.dialect.name,
                "transcript": excerpt,
                "transcript_omitted": omitted,
                "transcript_file": str(self.transcript.path),
            }

    def as_evidence(self, since: int | None = None) -> Evidence:
        return Evidence("observation", f"instrument {self.name}", self.evidence(since))


# --- roles --------------------------------------------------------------------------------------

@dataclass
class PowerCycle:
    off_s: float
    current_off_a: float | None
    started: str
    ended: str


@dataclass
class ButtonPress:
    channel: int
    hold_s: float
    started: str
    ended: str


class PowerSupply(Instrument):
    role = "supply"

    def output(self, on: bool, channel: int | None = None) -> None:
        self._do("output", channel, state=self._state_word(on))

    def output_state(self, channel: int | None = None) -> bool:
        answer = self._ask("output?", channel)
        try:
            return parse_bool(answer)
        except ValueError:
            raise InstrumentError(f"instrument {self.name}: output state {answer!r} is neither on nor off",
                                  command=self._command("output?")) from None

    def set_voltage(self, volts: float, channel: int | None = None) -> None:
        self._do("voltage", channel, volts=float(volts))

    def measure_current(self, channel: int | None = None) -> float:
        answer = self._ask("current?", channel)
        try:
            return float(answer.strip())
        except ValueError:
            raise InstrumentError(f"instrument {self.name}: current reading {answer!r} is not a number",
                                  command=self._command("current?")) from None

    def power_cycle(self, off_s: float, wait: Wait, channel: int | None = None) -> PowerCycle:
        """Output off (confirmed), ``wait(off_s)``, output on (confirmed).

        If the wait is interrupted by an exception the output is switched back on before it
        propagates: a unit left unpowered would make every later test INCONCLUSIVE.
        """
        started = _now()
        self.output(False, channel)
        if self.output_state(channel):
            raise InstrumentError(f"instrument {self.name}: output still on after switching it off")
        current = self.measure_current(channel)
        try:
            wait(off_s)
        except BaseException:
            with contextlib.suppress(InstrumentError):
                self.output(True, channel)
            raise
        self.output(True, channel)
        if not self.output_state(channel):
            raise InstrumentError(f"instrument {self.name}: output still off after switching it on")
        return PowerCycle(off_s, current, started, _now())

    def step(self, verb: str, arg: Any, *, wait: Wait, seconds: Callable[[Any], float]) -> None:
        """A profile procedure step ``<link>.<verb>: arg`` (see SUPPLY_VERBS)."""
        # arg: the value itself, or a mapping with the value and a channel:
        #   psu.power_cycle: power_off          psu.power_cycle: {off: power_off, channel: 2}
        spec = dict(arg) if isinstance(arg, dict) else {"value": arg}
        channel = spec.get("channel")
        value = spec.get("off", spec.get("volts", spec.get("value")))
        if verb in ("power_cycle", "set_voltage") and value is None:
            raise InstrumentError(f"instrument {self.name}: step {verb!r} needs a value")
        if verb == "power_cycle":
            self.power_cycle(seconds(value), wait, channel)
        elif verb in ("power_on", "power_off"):
            self.output(verb == "power_on", channel)
        elif verb == "set_voltage":
            self.set_voltage(float(value), channel)
        else:
            raise InstrumentError(f"instrument {self.name}: a supply has no step {verb!r} ({', '.join(SUPPLY_VERBS)})")


class Relay(Instrument):
    """A relay card or switched PDU: a channel powers a unit or holds one of its button lines."""

    role = "relay"

    def set(self, channel: int, closed: bool) -> None:
        self._do("relay_close" if closed else "relay_open", channel)

    def is_closed(self, channel: int) -> bool:
        answer = self._ask("relay?", channel)
        try:
            return parse_bool(answer.split(",")[0])
        except ValueError:
            raise InstrumentError(f"instrument {self.name}: relay state {answer!r} is neither closed nor open",
                                  command=self._command("relay?")) from None

    def pulse(self, channel: int, hold_s: float, wait: Wait) -> ButtonPress:
        """Close ``channel``, ``wait(hold_s)``, open it again — the line is released even when the
        wait raises (a button held down forever is a different test)."""
        started = _now()
        self.set(channel, True)
        try:
            wait(hold_s)
        finally:
            self.set(channel, False)
        return ButtonPress(channel, hold_s, started, _now())

    def step(self, verb: str, arg: Any, *, wait: Wait, seconds: Callable[[Any], float]) -> None:
        """A profile procedure step ``<link>.<verb>: arg`` (see RELAY_VERBS)."""
        # arg: seconds (or a settle name), or {channel: n, seconds: s}
        spec = dict(arg) if isinstance(arg, dict) else {"seconds": arg}
        channel = spec.get("channel", self.channel)
        if channel is None:
            raise InstrumentError(f"instrument {self.name}: step {verb!r} needs a channel "
                                  "(in the step or as the link's `channel`)")
        if verb in ("hold_button", "power_cycle") and spec.get("seconds") is None:
            raise InstrumentError(f"instrument {self.name}: step {verb!r} needs seconds (or a settle name)")
        if verb == "hold_button":
            self.pulse(int(channel), seconds(spec["seconds"]), wait)
        elif verb in ("close", "open"):
            self.set(int(channel), verb == "close")
        elif verb == "power_cycle":  # a PDU outlet wired so that closed = powered: open, wait, close
            self.set(int(channel), False)
            try:
                wait(seconds(spec["seconds"]))
            finally:
                self.set(int(channel), True)
        else:
            raise InstrumentError(f"instrument {self.name}: a relay has no step {verb!r} ({', '.join(RELAY_VERBS)})")


# Verbs a profile procedure may use on an instrument link, by role.
SUPPLY_VERBS = ("power_cycle", "power_on", "power_off", "set_voltage")
RELAY_VERBS = ("hold_button", "close", "open", "power_cycle")
ROLES: dict[str, type[Instrument]] = {"supply": PowerSupply, "relay": Relay}


def make_instrument(name: str, *, role: str, **settings: Any) -> Instrument:
    """Build the instrument a lab configuration describes (``role: supply|relay`` plus settings)."""
    try:
        cls = ROLES[role]
    except KeyError:
        raise InstrumentError(f"instrument {name}: role {role!r} is not one of {', '.join(ROLES)}") from None
    return cls(name, **settings)

