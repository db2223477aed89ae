"""A unit on the bench: its links, its procedures and what the harness knows of its state.

The state model lets each test declare what it needs (``factory_default``, ``logged_in``,
``logged_out``) and brings the unit there with the fewest procedure calls: a factory reset only
when the unit is not known to be in its factory state, a login only when there is no session.
"""

from __future__ import annotations

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
from harness.scope import Scope
from harness.verdict import LabFault

REFUSALS = ("rejected", "locked")


class DeviceStateError(LabFault):
    """The harness could not bring the unit into the state a test needs."""


@dataclass
class DeviceState:
    session: str = "unknown"  # logged_in | logged_out | unknown
    factory_default: bool | None = None  # None: unknown
    user: str | None = None
    password: str | None = None  # the password the harness believes is current
    user_data: bool | None = None
    broker: bool | None = None  # the unit is provisioned for, and connected to, the lab broker
    procedure_calls: dict[str, int] = field(default_factory=dict)


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
        self.scope = Scope(list(bench.lab.networks) + ([str(a)] if (a := bench.address(unit_id)) else []))

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

    def used_instrument(self, link: Any) -> None:
        """Remember which instruments a test used: their *IDN? identity goes into its evidence."""
        self.instruments_used[link.name] = link.evidence()

    @property
    def links(self) -> dict[str, Any]:
        return dict(self._links)

    def transcripts(self) -> dict[str, Any]:
        return {n: link.transcript for n, link in self._links.items() if hasattr(link, "transcript")}

    def note(self, text: str) -> None:
        for transcript in self.transcripts().values():
            transcript.note(text)

    def close(self) -> None:
        for link in self._links.values():
            link.close()
        self._links.clear()

    # -- procedures ----------------------------------------------------------------------------
    def has(self, procedure: str) -> bool:
        return procedure in self.profile.procedures

    def variables(self, **extra: Any) -> dict[str, Any]:
        unit = self.unit
        base: dict[str, Any] = {
            "unit": {"id": unit.id, "serial": unit.serial, "mac": unit.mac or "",
                     "address": self.bench.address(self.unit_id) or ""},
            "product": self.profile.product.model_dump(),
        }
        base.update(extra)
        return base

    def run(self, procedure: str, **variables: Any) -> ProcedureResult:
        self.state.procedure_calls[procedure] = self.state.procedure_calls.get(procedure, 0) + 1
        return self._runner.run(procedure, self.variables(**variables))

    # -- credentials -----------------------------------------------------------------------------
    def default_user(self) -> str:
        if not self.unit.accounts:
            raise LabFault(f"unit {self.unit_id} declares no account")
        return next(iter(self.unit.accounts))

    def label_password(self, user: str | None = None) -> str | None:
        return self.bench.password(self.unit_id, user or self.default_user())

    def try_login(self, user: str, password: str, *, procedure: str = "login") -> LoginAttempt:
        """One login attempt, judged strictly: a refusal counts only with proof of life after it.

        ``procedure`` names the login of one interface (console ``login``; network logins such as
        ``login_ssh`` are declared per interface in IXIT 15-Intf). Network logins are sessionless
        for the console state; their proof of life is the protocol answer itself (an SSH
        auth failure, an HTTP 401) unless the profile declares ``alive_<procedure>``.
        """
        console = procedure == "login"
        if console and self.state.session == "logged_in":
            self.logout()
        result = self.run(procedure, user=user, password=password)
        if result.ok:
            if console:
                self.state.session = "logged_in"
                self.state.user, self.state.password = user, password
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
        result = self.run("logout")
        self.state.session = "logged_out" if result.ok else "unknown"
        if not result.ok:
            raise DeviceStateError(f"logout did not complete: {result.detail or result.outcome}")

    # -- state -----------------------------------------------------------------------------------
    def login_current(self) -> None:
        """Log in with the password the harness believes is current (label password at first)."""
        if self.state.session == "logged_in":
            return
        if self.state.session == "unknown" and self.has("attention"):
            probe = self.run("attention")
            if probe.outcome == "logged_in":
                self.state.session = "logged_in"
                return
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
                                     procedure_calls=self.state.procedure_calls)
        else:
            self.state.session = "unknown"
            self.state.factory_default = None
        return result

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
                    probe = self.run("attention")
                    if probe.outcome == "logged_out":
                        self.state.session = "logged_out"
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
