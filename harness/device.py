"""A unit on the bench: its links, its procedures and what the harness knows of its state.

The state model lets each test declare what it needs (``factory_default``, ``logged_in``,
``logged_out``) and brings the unit there with the fewest procedure calls: a factory reset only
when the unit is not known to be in its factory state, a login only when there is no session.

A session is whatever the profile's ``login`` procedure opens: a console shell (user and password,
or a password only), or a web session whose token the login captured as ``session.NAME`` (no
console at all); those values reach later procedures until the session ends. ``logout``
is optional: without it the harness ends a console session by opening the console anew (a telnet
session ends; a UART shell that survives it is reported), and a web session by forgetting its
token. A console that shows its shell prompt without a login is recorded as the fact
``console_without_login`` for the 5.6-4 checks. ``onboard`` (Wi-Fi, broker account), when
declared, runs after every factory reset the harness performs.
"""

from __future__ import annotations

import contextlib
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.checks.passwords import LoginAttempt
from harness.links.http import HttpLink
from harness.links.serial import SerialLink
from harness.procedures import ProcedureResult, ProcedureRunner
from harness.profile.resolve import Bench
from harness.verdict import LabFault

REFUSALS = ("rejected", "locked")


class DeviceStateError(LabFault):
    """The harness could not bring the unit into the state a test needs."""


@dataclass(frozen=True)
class ConsoleLoginFact:
    """Whether the console gives a shell without a login, and what showed it."""

    without_login: bool | None  # None: could not be observed (no attention procedure, no answer)
    evidence: str


@dataclass
class DeviceState:
    session: str = "unknown"  # logged_in | logged_out | unknown
    factory_default: bool | None = None  # None: unknown
    user: str | None = None
    password: str | None = None  # the password the harness believes is current
    user_data: bool | None = None
    broker: bool | None = None  # the unit is provisioned for, and connected to, the lab broker
    procedure_calls: dict[str, int] = field(default_factory=dict)
    # The console showed its shell prompt although no session was open (5.6-4); None: not observed.
    console_without_login: bool | None = None
    console_evidence: str = ""
    console_login: dict[str, ConsoleLoginFact] = field(default_factory=dict)  # per console link
    # No session was opened since the last boot, factory reset or logout: a shell prompt now
    # means the console needs no login.
    no_session_opened: bool = False


BOOTING_PROCEDURES = ("booted", "reboot", "power_cycle", "factory_reset")


class Device:
    def __init__(self, bench: Bench, unit_id: str, *, transcript_dir: str | Path | None = None,
                 settle_scale: float = 1.0) -> None:
        self.bench = bench
        self.profile = bench.profile
        self.unit = bench.unit(unit_id)
        self.unit_id = unit_id
        self.transcript_dir = transcript_dir
        self.settle_scale = settle_scale
        self.state = DeviceState()
        self._links: dict[str, Any] = {}
        self.instruments_used: dict[str, dict[str, Any]] = {}
        # Results of multi-step campaigns several test cases judge (the update rounds): run once.
        self.cache: dict[str, Any] = {}
        self._lock_wait = threading.Event()  # set only to end waits early when a run stops
        self._runner = ProcedureRunner(self)
        self.scope = bench.scope(unit_id)  # lab networks, the lab's host map, the unit's address

    # -- links ---------------------------------------------------------------------------------
    def link(self, name: str) -> Any:
        if name not in self._links:
            if name not in self.profile.links:
                raise LabFault(f"the profile declares no link {name!r}")
            settings = self.bench.link_settings(self.unit_id, name)
            kind = settings.pop("type")
            self._links[name] = self._make_link(name, kind, settings).open()
        return self._links[name]

    def _make_link(self, name: str, kind: str, settings: dict[str, Any]) -> Any:
        # Link modules are imported when a profile uses them: a serial-only bench needs no sslyze,
        # paho or pyvisa import at start.
        where = dict(transcript_dir=self.transcript_dir)
        if kind == "serial":
            if not settings.get("url"):
                raise LabFault(f"unit {self.unit_id}: link {name!r} has no url")
            return SerialLink(name, **where, **settings)
        if kind == "http":
            from harness.procedures import render
            # The base URL may name the unit: https://{{unit.address}}:8443
            settings["base_url"] = render(str(settings.get("base_url") or ""), self.variables())[0]
            return HttpLink(name, scope=self.scope, **where, **settings)
        if kind in ("telnet", "ssh"):
            settings["host"] = settings.get("host") or self.bench.address(self.unit_id)
            if not settings["host"]:
                raise LabFault(f"unit {self.unit_id}: link {name!r} has no host and the unit no address")
            if kind == "telnet":
                from harness.links.telnet import TelnetLink
                return TelnetLink(name, scope=self.scope, **where, **settings)
            from harness.links.ssh_link import SshConsole
            return SshConsole(name, scope=self.scope, **where, **settings)
        if kind == "mqtt":
            from harness.links.mqtt import MqttLink
            settings = self.bench.mqtt_settings(self.unit_id, name, settings)
            settings.pop("topics", None)
            link = MqttLink(name, **where, scope=None, **settings)
            link.topics = self.profile.links[name].topics  # type: ignore[union-attr]
            return link
        if kind == "instrument":
            from harness.channel import open_channel
            return open_channel(name, self.bench.instrument_settings(self.unit_id, name, settings), **where)
        raise LabFault(f"link kind {kind!r} is not supported")

    def prewarm(self) -> None:
        """Load in the background what this unit's links need and is slow to load (a VISA
        backend), while the first test case's steps talk to the unit over its other links."""
        backends: set[str] = set()
        for name in self.profile.links:
            try:
                settings = self.bench.link_settings(self.unit_id, name)
            except Exception:  # noqa: BLE001  the link's own open reports it
                continue
            if settings.get("type") == "instrument" and settings.get("labgrid_power") is None:
                backends.add(str(settings.get("backend") or "@py"))
        if backends:
            threading.Thread(target=_prewarm_visa, args=(backends,), name="visa-prewarm", daemon=True).start()

    def used_instrument(self, link: Any) -> None:
        """Remember which instruments a test used: their *IDN? identity goes into its evidence."""
        self.instruments_used[link.name] = link.evidence()

    @property
    def links(self) -> dict[str, Any]:
        return dict(self._links)

    def transcripts(self) -> dict[str, Any]:
        out = {n: link.transcript for n, link in self._links.items() if hasattr(link, "transcript")}
        bench = getattr(self._runner, "bench_transcript", None)  # the lab tools bench.run steps ran
        if bench is not None:
            out["bench"] = bench
        return out

    def note(self, text: str) -> None:
        for transcript in self.transcripts().values():
            transcript.note(text)

    def reopen_links(self, kind: str) -> list[str]:
        """Close the open links of one kind (e.g. "mqtt" after the lab broker's listener went away
        and came back): the next procedure that needs one opens it afresh. Returns their names."""
        closed = []
        for name in [n for n in self._links if self.link_kind(n) == kind]:
            link = self._links.pop(name)
            closed.append(name)
            try:
                link.close()
            except Exception as exc:  # noqa: BLE001 - a link that cannot even close is gone anyway
                self.note(f"closing the lost {kind} link {name}: {type(exc).__name__}: {exc}")
        return closed

    def close(self) -> None:
        for link in self._links.values():
            link.close()
        self._links.clear()
        close_runner = getattr(self._runner, "close", None)
        if close_runner is not None:
            close_runner()

    # -- procedures ----------------------------------------------------------------------------
    def has(self, procedure: str) -> bool:
        return procedure in self.profile.procedures

    def variables(self, **extra: Any) -> dict[str, Any]:
        from harness.procedures import LazyMap

        unit = self.unit
        declared = getattr(unit, "vars", None) or {}
        # The unit's own variables, resolved on first use (a secret is read only when named), for
        # templates outside procedures too: a link's base_url, an MQTT topic filter.
        unit_vars = LazyMap(lambda: list(declared), lambda k: self.bench.resolve(
            declared[k], where=f"units.{self.unit_id}.vars.{k}"))
        base: dict[str, Any] = {
            "unit": {"id": unit.id, "serial": unit.serial, "mac": unit.mac or "",
                     "address": self.bench.address(self.unit_id) or "", "vars": unit_vars},
            "product": self.profile.product.model_dump(),
            # Every account's password as the harness currently believes it (after a change the
            # new one, else the label), so a web step's auth follows a password change too.
            "accounts": LazyMap(lambda: list(unit.accounts), lambda user: {
                "user": user, "password": self.current_password(user) or "",
                "label_password": self.label_password(user) or ""}),
        }
        base.update(extra)
        return base

    def run(self, procedure: str, **variables: Any) -> ProcedureResult:
        self.state.procedure_calls[procedure] = self.state.procedure_calls.get(procedure, 0) + 1
        result = self._runner.run(procedure, self.variables(**variables))
        if procedure in BOOTING_PROCEDURES:
            # A boot ends every session: a shell prompt now was not opened by the harness.
            self.state.session = "unknown"
            self.state.no_session_opened = result.ok
            self.forget_session()
        return result

    def forget_session(self) -> None:
        """The session's values (a captured token, an HTTP client's cookies) are no longer valid."""
        forget = getattr(self._runner, "forget_session", None)
        if forget is not None:
            forget()

    def procedure_links(self, procedure: str) -> list[str]:
        """The links a step-list procedure uses (``console.send`` → ``console``), in order."""
        spec = self.profile.procedures.get(procedure)
        names: list[str] = []
        for step in spec if isinstance(spec, list) else []:
            for key in step:
                link = str(key).partition(".")[0]
                if "." in str(key) and link in self.profile.links and link not in names:
                    names.append(link)
        return names

    def link_kind(self, name: str) -> str:
        """The declared type of a link (serial, telnet, ssh, http, mqtt, instrument)."""
        return str(getattr(self.profile.links[name], "type", ""))

    def console_links(self, procedure: str = "login") -> list[str]:
        return [n for n in self.procedure_links(procedure) if self.link_kind(n) in ("serial", "telnet")]

    # -- credentials -----------------------------------------------------------------------------
    def default_user(self) -> str:
        if not self.unit.accounts:
            raise LabFault(f"unit {self.unit_id} declares no account")
        return next(iter(self.unit.accounts))

    def label_password(self, user: str | None = None) -> str | None:
        return self.bench.password(self.unit_id, user or self.default_user())

    def current_password(self, user: str | None = None) -> str | None:
        """The password the harness believes ``user`` has now: the one it set, else the label."""
        user = user or self.default_user()
        if self.state.password is not None and (self.state.user or self.default_user()) == user:
            return self.state.password
        return self.label_password(user)

    def try_login(self, user: str, password: str, *, procedure: str = "login") -> LoginAttempt:
        """One login attempt, judged strictly: a refusal counts only with proof of life after it.

        ``procedure`` names the login of one interface (console ``login``; network logins such as
        ``login_ssh`` are declared per interface in IXIT 15-Intf). Network logins are sessionless
        for the console state; their proof of life is the protocol answer itself (an SSH
        auth failure, an HTTP 401) unless the profile declares ``alive_<procedure>``.
        """
        console = procedure == "login"
        if console and self.state.session == "unknown" and self.has("attention"):
            self.attention()  # a login typed into a shell would prove nothing
        if console and self.state.session == "logged_in":
            self.logout()
        result = self.run(procedure, user=user, password=password)
        if result.ok:
            if console:
                self.state.session = "logged_in"
                self.state.user, self.state.password = user, password
                self.state.no_session_opened = False
            return LoginAttempt(user, password, "ok", True, result.detail)
        if result.outcome in REFUSALS:
            if console:
                alive = self.prove_alive()
                self.state.session = "logged_out" if alive else "unknown"
            elif self.has(f"alive_{procedure}"):
                alive = self.run(f"alive_{procedure}").ok
            else:
                alive = result.captures.get("alive", True) is not False
            return LoginAttempt(user, password, result.outcome, alive, result.detail)
        if console:
            self.state.session = "unknown"
        return LoginAttempt(user, password, result.outcome if result.outcome == "timeout" else "error",
                            None, result.detail or result.outcome)

    def wait_lockout(self, detail: str, *, cap: float = 900.0) -> float:
        """Wait the lockout period the device announced (``locked for 30 s``, ``Retry-After: 30``),
        at most ``cap`` seconds; a device time, like a settle time, so it is not scaled again."""
        m = re.search(r"(\d+(?:\.\d+)?)\s*s\b|Retry-After:?\s*(\d+)", detail or "", re.I)
        seconds = min(float(m.group(1) or m.group(2)), cap) if m else 1.0
        self.note(f"waiting {seconds:g} s for the lockout the device announced")
        self._lock_wait.wait(seconds)
        return seconds

    def prove_alive(self) -> bool:
        """Run the profile's ``alive`` procedure: the device must show it is still answering."""
        if not self.has("alive"):
            return False
        return self.run("alive").ok

    def prove_alive_network(self) -> bool:
        """After a refusal on a network interface: the profile's ``alive_network`` procedure if it
        declares one, else the console's ``alive``-style probe (``attention``)."""
        if self.has("alive_network"):
            return self.run("alive_network").ok
        if self.has("attention"):
            return self.run("attention").outcome in ("logged_in", "logged_out", "ok")
        return False

    def logout(self) -> None:
        """End the session: the profile's ``logout``, or without one, open the login's consoles
        anew (a telnet session ends with its connection) and forget a web session's token."""
        if self.has("logout"):
            result = self.run("logout")
            self.state.session = "logged_out" if result.ok else "unknown"
            if not result.ok:
                raise DeviceStateError(f"logout did not complete: {result.detail or result.outcome}")
            self.state.no_session_opened = True
            self.forget_session()
            return
        self.forget_session()
        consoles = self.console_links("login")
        for name in [n for n in self.procedure_links("login") if n in self._links]:
            link = self._links[name]
            if hasattr(link, "new_session"):
                link.new_session()
        if not consoles:
            # A web session is its token (and the cookies of a client opened anew): forgotten, it ends.
            self.note("no logout procedure: the web session ends with its token")
            self.state.session = "logged_out"
            self.state.no_session_opened = True
            return
        if self.has("attention"):
            probe = self.run("attention")
            if probe.outcome == "logged_out":
                self.state.session = "logged_out"
                self.state.no_session_opened = True
                return
            if probe.outcome == "logged_in":
                self.state.session = "logged_in"
                raise DeviceStateError(
                    f"the profile declares no logout and the console session survives reopening "
                    f"{', '.join(consoles)}: declare a logout procedure (or reboot) to end it")
        elif all(self.link_kind(n) == "telnet" for n in consoles):
            self.state.session = "logged_out"  # a new telnet connection is a new session
            self.state.no_session_opened = True
            return
        self.state.session = "unknown"
        raise DeviceStateError("the profile declares no logout, and no attention procedure shows "
                               "whether reopening the console ended the session")

    # -- the console's own login ------------------------------------------------------------------
    def attention(self, procedure: str = "attention") -> ProcedureResult:
        """Run ``attention`` (or ``attention_<link>`` for a console the harness never logs in on,
        e.g. a UART next to a telnet login) and record what it shows about the need for a login."""
        probe = self.run(procedure)
        links = self.procedure_links(procedure) or [procedure]
        main = procedure == "attention"
        if probe.outcome == "logged_out":
            if main:
                self.state.session = "logged_out"
            self._console_fact(links, ConsoleLoginFact(False, f"{procedure}: the console asked for a login"))
        elif probe.outcome == "logged_in":
            if main:
                self.state.session = "logged_in"
            if main and not (self.state.no_session_opened or not self.has("login")):
                return probe  # possibly the harness's own session: shows nothing about the console
            why = ("although no session was open (after a boot, factory reset or logout)"
                   if main and self.has("login") else "without the harness ever logging in on it")
            fact = ConsoleLoginFact(True, f"{procedure}: the console showed its shell prompt {why}")
            self._console_fact(links, fact)
            self.note(f"finding: {fact.evidence}")
        return probe

    def _console_fact(self, links: list[str], fact: ConsoleLoginFact) -> None:
        for name in links:
            self.state.console_login[name] = fact
        facts = [f.without_login for f in self.state.console_login.values()]
        self.state.console_without_login = True if True in facts else (False if facts else None)
        self.state.console_evidence = "; ".join(f"{n}: {f.evidence}" for n, f in self.state.console_login.items())

    def console_login_fact(self, procedure: str = "attention") -> ConsoleLoginFact:
        """Observe whether a console gives a shell without a login (5.6-4): ask ``attention``; if
        it shows a shell that may be a session opened earlier, end it (``logout``, or a new console
        session) and ask again."""
        if not self.has(procedure):
            return ConsoleLoginFact(None, f"the profile declares no {procedure} procedure to ask the console")
        links = self.procedure_links(procedure) or [procedure]
        for name in links:  # observed afresh, not remembered
            self.state.console_login.pop(name, None)
        probe = self.attention(procedure)
        if probe.outcome == "logged_in" and self.state.console_login.get(links[0]) is None:
            try:
                self.logout()
            except DeviceStateError as exc:
                return ConsoleLoginFact(None, f"a shell prompt, but a session opened earlier may still be open "
                                              f"and could not be ended ({exc})")
            probe = self.attention(procedure)
        if probe.outcome not in ("logged_in", "logged_out"):
            return ConsoleLoginFact(None, f"{procedure} ended {probe.outcome}: {probe.detail}")
        return self.state.console_login.get(links[0]) or ConsoleLoginFact(None, f"{procedure}: nothing recorded")

    # -- state -----------------------------------------------------------------------------------
    def login_current(self) -> None:
        """Log in with the password the harness believes is current (label password at first)."""
        if self.state.session == "logged_in":
            return
        if self.state.session == "unknown" and self.has("attention"):
            if self.attention().outcome == "logged_in":
                return
        if not self.has("login"):
            if self.state.console_without_login:
                return  # the console gives its shell to anyone: nothing to log in to
            raise DeviceStateError(f"unit {self.unit_id}: the profile declares no login procedure and "
                                   f"the console did not show a shell prompt")
        user = self.state.user or self.default_user()
        password = self.state.password if self.state.password is not None else self.label_password(user)
        if password is None:
            raise DeviceStateError(f"unit {self.unit_id}: no password known for {user!r}")
        attempt = self.try_login(user, password)
        for _ in range(3):  # a lockout left by an earlier test: wait it out, then try again
            if attempt.outcome != "locked":
                break
            self.wait_lockout(attempt.detail)
            attempt = self.try_login(user, password)
        if attempt.outcome != "ok":
            raise DeviceStateError(
                f"unit {self.unit_id}: could not log in as {user!r} with the "
                f"{'label' if self.state.password is None else 'current'} password ({attempt.outcome}: "
                f"{attempt.detail}); the unit is not in a state the harness knows — reset it to factory "
                f"default by hand, or declare a hardware reset procedure")

    def factory_reset(self) -> ProcedureResult:
        """Run the profile's factory reset from a logged-in session and update the known state."""
        self.login_current()
        result = self.run("factory_reset")
        if result.ok:
            self.state = DeviceState(session="logged_out", factory_default=True, user_data=False,
                                     procedure_calls=self.state.procedure_calls, no_session_opened=True,
                                     console_without_login=self.state.console_without_login,
                                     console_evidence=self.state.console_evidence,
                                     console_login=self.state.console_login)
            self.onboard()
        else:
            self.state.session = "unknown"
            self.state.factory_default = None
        return result

    def onboard(self) -> None:
        """Run the profile's ``onboard`` (Wi-Fi, broker account …) so the unit works again after a
        factory reset. Its steps log in themselves if they need to (``call: login``), with the
        label password as ``{{password}}``; the session it leaves is found out by ``attention``."""
        if not self.has("onboard"):
            return
        user = self.default_user() if self.unit.accounts else ""
        password = self.label_password(user) if user else None
        result = self.run("onboard", user=user, password=password or "")
        # Onboarding may have logged in: a shell prompt now proves nothing about the console.
        self.state.no_session_opened = False
        self.state.session = "unknown" if self.has("attention") else "logged_out"
        if not result.ok:
            self.state.factory_default = None
            raise DeviceStateError(f"onboarding after the factory reset did not complete: "
                                   f"{result.detail or result.outcome}")

    def ensure(self, wanted: str) -> None:
        """Bring the unit into ``wanted`` with the fewest procedure calls."""
        if wanted == "factory_default":
            if self.state.factory_default is not True:
                result = self.factory_reset()
                if not result.ok:
                    raise DeviceStateError(f"factory reset did not complete: {result.detail or result.outcome}")
            if self.state.session == "logged_in":
                self.logout()
        elif wanted == "logged_in":
            self.login_current()
        elif wanted == "logged_out":
            if self.state.session != "logged_out":
                if self.state.session == "unknown" and self.has("attention"):
                    if self.attention().outcome == "logged_out":
                        return
                self.login_current()
                self.logout()
        elif wanted == "broker_connected":
            self.connect_broker()
        elif wanted != "any":
            raise ValueError(f"unknown device state {wanted!r}")

    def broker_vars(self) -> dict[str, Any]:
        vars_ = self.bench.services.get("broker_vars", {}).get(self.unit_id)
        if vars_ is None:
            raise DeviceStateError("the run has no lab broker (the profile declares no MQTT link with broker: lab)")
        return vars_

    LISTENERS = {"url": "tls", "plain_url": "plain", "rogue_url": "rogue"}

    def broker_mark(self, kind: str = "tls") -> int:
        return int(self.bench.services["broker"].last_seq(kind))

    def await_broker(self, kind: str = "tls", *, since: int = 0, timeout: float | None = None) -> bool:
        """Wait until the lab broker's ``kind`` listener logs this unit's account connecting (after
        event ``since``): the broker's own log is the evidence, not the device's word."""
        return self.broker_outcome(kind, since=since, timeout=timeout) == "connected"

    def broker_outcome(self, kind: str = "tls", *, since: int = 0, timeout: float | None = None) -> str:
        """"connected", "tls refused" (a handshake failure logged by that listener: with one unit
        provisioned at a time it is this unit's) or "no connection" (nothing within the timeout)."""
        broker = self.bench.services["broker"]
        account = self.broker_vars()["user"]
        wait = timeout if timeout is not None else float(self.profile.settle.get("broker_connect", 30.0))
        event = broker.wait_event(kind, lambda e: (e.kind == "connected" and e.username == account)
                                  or e.kind == "tls_failure", wait, since)
        if event is None:
            return "no connection"
        return "connected" if event.kind == "connected" else f"tls refused ({event.detail})"

    def connect_broker(self, *, listener: str = "url") -> str:
        """Provision the unit for one lab broker listener (``connect_broker`` procedure) and wait for
        its connection there. Returns "connected", "refused (…)" or "no connection"; with the
        default (TLS) listener anything but "connected" is a DeviceStateError."""
        if self.state.broker and listener == "url":
            return "connected"
        variables = dict(self.broker_vars())
        variables["url"] = variables[listener]
        kind = self.LISTENERS[listener]
        since = self.broker_mark(kind)
        self.login_current()
        result = self.run("connect_broker", broker=variables)
        self.state.broker = False
        if not result.ok:
            answer = f"refused ({result.detail or result.outcome})"
        else:
            answer = self.broker_outcome(kind, since=since)
        if listener == "url":
            if answer != "connected":
                raise DeviceStateError(f"the unit did not connect to the lab broker's TLS listener: {answer}")
            self.state.broker = True
        return answer

    def mark_changed(self, *, password: str | None = None, user_data: bool | None = None) -> None:
        """A test changed the unit: it is no longer known to be in its factory state."""
        self.state.factory_default = False
        if password is not None:
            self.state.password = password
        if user_data is not None:
            self.state.user_data = user_data


def _prewarm_visa(backends: set[str]) -> None:
    with contextlib.suppress(Exception):  # importing pyvisa itself takes ~0.1 s: in this thread too
        from harness.links.instruments import load_backends
        load_backends(backends)
