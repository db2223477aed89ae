"""Units on labgrid places: reserve, acquire, resolve to runtime facts, release.

A device farm runs labgrid: exporters on the bench computers offer serial ports (through ser2net)
and power switches; a coordinator hands out *places* (a named set of resources, one device).
``harness run PROFILE --place U1=hub-3`` reserves the place (queueing behind other runs that hold
it, for a bounded time), acquires it, and turns its resources into the unit's runtime facts:

    NetworkSerialPort  → units.U1.console   rfc2217://host:port (or socket:// for protocol raw)
    NetworkPowerPort   → units.U1.power     {model, host, index}: labgrid's power back-ends
    NetworkService     → units.U1.address   the address the device answers on

The profile's unit names those facts (``console: {url: {runtime: units.U1.console}}``), so one
profile serves a local bench and a farm. The place is released and the reservation cancelled when
the run ends — also on an error, Ctrl-C or SIGTERM.

labgrid is an optional extra (``pip install '.[farm]'``): it replaces pyserial's ``serial``
package with its own fork. This module talks to the coordinator through ``labgrid-client`` (run
by this interpreter), so the harness never imports labgrid unless a run asks for a place.
LG_COORDINATOR, LG_PLACE and LG_TOKEN mean what they mean to labgrid-client.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import IO, Any

import yaml

from harness.farm.ser2net import RFC2217_OPTIONS

CLIENT_TIMEOUT = 30.0  # one labgrid-client command (the coordinator answers in milliseconds)
_TAG = re.compile(r"^[a-z][a-z0-9_]*$")
_TAG_VALUE = re.compile(r"^[a-z0-9_]+$")


class PlaceError(RuntimeError):
    """A place could not be had or used: a lab fault (busy, coordinator or exporter gone)."""


class PlaceUsageError(ValueError):
    """The run asked for places wrongly (bad --place, labgrid not installed)."""


def labgrid_missing() -> str | None:
    """Why places cannot be used here, or None when labgrid is installed."""
    if importlib.util.find_spec("labgrid") is None:
        return ("a labgrid place needs labgrid, which is not installed: pip install 'iot-conformance-harness[farm]' "
                "(or pip install labgrid)")
    return None


@dataclass(frozen=True)
class PlaceRequest:
    """What one unit asks for: a place by name, a place by tags, or an existing reservation."""
    unit: str
    name: str | None = None
    tags: tuple[tuple[str, str], ...] = ()
    token: str | None = None

    @classmethod
    def parse(cls, text: str, units: list[str]) -> PlaceRequest:
        """``U1=hub-3`` (name), ``U1=board=hub,site=east`` (tags), ``U1=+TOKEN`` (a reservation),
        ``U1=+`` (LG_TOKEN), ``U1=`` (LG_PLACE); without ``U1=`` the run's only unit."""
        unit, sep, spec = text.partition("=")
        if not sep or (unit not in units and len(units) == 1):
            unit, spec = "", text  # the spec alone (a name, tags or +token) for the run's only unit
        if not unit:
            if len(units) != 1:
                raise PlaceUsageError(f"--place {text!r}: name the unit (UNIT=PLACE); this run has units "
                                      f"{', '.join(units)}")
            unit = units[0]
        if unit not in units:
            raise PlaceUsageError(f"--place {text!r}: no unit {unit!r} in this run ({', '.join(units)})")
        spec = spec.strip()
        if spec.startswith("+"):
            token = spec[1:] or os.environ.get("LG_TOKEN", "")
            if not token:
                raise PlaceUsageError(f"--place {text!r}: no reservation token (and LG_TOKEN is not set)")
            return cls(unit, token=token)
        if "=" in spec:
            tags: list[tuple[str, str]] = []
            for pair in spec.split(","):
                key, _, value = pair.partition("=")
                if not _TAG.match(key) or not _TAG_VALUE.match(value):
                    raise PlaceUsageError(f"--place {text!r}: {pair!r} is not a labgrid tag filter (key=value, "
                                          f"lower-case letters, digits and _)")
                tags.append((key, value))
            return cls(unit, tags=tuple(tags))
        name = spec or os.environ.get("LG_PLACE", "")
        if not name:
            raise PlaceUsageError(f"--place {text!r}: no place name (and LG_PLACE is not set)")
        return cls(unit, name=name)

    @property
    def filters(self) -> list[str]:
        """labgrid reservation filters; a place's name is one (the coordinator adds name=<place>)."""
        if self.tags:
            return [f"{k}={v}" for k, v in self.tags]
        return [f"name={self.name}"]

    def describe(self) -> str:
        if self.token:
            return f"reservation {self.token}"
        if self.tags:
            return "place tagged " + ",".join(f"{k}={v}" for k, v in self.tags)
        return f"place {self.name}"


@dataclass
class PlaceFacts:
    """What a unit's place resolved to (no secrets: labgrid places hold none)."""
    unit: str
    place: str
    token: str
    console: str | None = None
    power: dict[str, str] | None = None
    address: str | None = None
    resources: list[dict[str, Any]] = field(default_factory=list)

    def runtime(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.console:
            out["console"] = self.console
        if self.power:
            out["power"] = dict(self.power)
        if self.address:
            out["address"] = self.address
        out["place"] = self.place
        return out


def facts_from_env(unit: str, place: str, token: str, env: Mapping[str, Any]) -> PlaceFacts:
    """Resolve ``labgrid-client env`` output (the place's target configuration) to runtime facts."""
    facts = PlaceFacts(unit, place, token)
    for target in (env.get("targets") or {}).values():
        for entry in (target or {}).get("resources") or []:
            for cls, args in entry.items():
                args = dict(args or {})
                facts.resources.append({"class": cls, **args})
                if cls == "NetworkSerialPort" and facts.console is None:
                    if not args.get("port"):
                        continue  # not exported yet (ser2net starts when the place is acquired)
                    host = args.get("host", "127.0.0.1")
                    if args.get("protocol", "rfc2217") == "raw":
                        facts.console = f"socket://{host}:{args['port']}"
                    else:
                        facts.console = f"rfc2217://{host}:{args['port']}{RFC2217_OPTIONS}"
                elif cls == "NetworkPowerPort" and facts.power is None:
                    facts.power = {k: str(args[k]) for k in ("model", "host", "index") if k in args}
                elif cls == "NetworkService" and facts.address is None and args.get("address"):
                    facts.address = str(args["address"]).split("%")[0]
    return facts


class LabgridClient:
    """``labgrid-client`` commands, each bounded in time, against LG_COORDINATOR or ``coordinator``."""

    def __init__(self, coordinator: str | None = None, *, timeout: float = CLIENT_TIMEOUT) -> None:
        self.coordinator = coordinator or os.environ.get("LG_COORDINATOR")
        self.timeout = timeout

    def argv(self, *args: str) -> list[str]:
        cmd = [sys.executable, "-m", "labgrid.remote.client"]
        if self.coordinator:
            cmd += ["-x", self.coordinator]
        return cmd + list(args)

    def run(self, *args: str, timeout: float | None = None) -> str:
        try:
            proc = subprocess.run(self.argv(*args), capture_output=True, text=True, stdin=subprocess.DEVNULL,
                                  timeout=timeout or self.timeout, check=False)
        except subprocess.TimeoutExpired:
            raise PlaceError(f"labgrid-client {' '.join(args)}: no answer within {timeout or self.timeout:g} s "
                             f"(coordinator {self.coordinator or 'default'})") from None
        if proc.returncode != 0:
            why = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or [f"exit code {proc.returncode}"]
            raise PlaceError(f"labgrid-client {' '.join(args)}: {why[0]}")
        return proc.stdout

    def reserve(self, filters: list[str], wait: float) -> str:
        """A reservation allocated to a matching place; waits (queues) up to ``wait`` seconds."""
        proc = subprocess.Popen(self.argv("reserve", "--wait", "--shell", *filters), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        lines: queue.Queue[str | None] = queue.Queue()

        def pump(stream: IO[str]) -> None:
            for line in stream:
                lines.put(line)
            lines.put(None)

        assert proc.stdout is not None
        threading.Thread(target=pump, args=(proc.stdout,), daemon=True).start()
        deadline = time.monotonic() + wait
        token = None
        try:
            while token is None:
                try:
                    line = lines.get(timeout=max(0.0, min(self.timeout, deadline - time.monotonic())))
                except queue.Empty:
                    raise PlaceError(f"no reservation token from the coordinator within {self.timeout:g} s") from None
                if line is None:
                    err = proc.stderr.read().strip() if proc.stderr else ""
                    raise PlaceError(f"labgrid-client reserve {' '.join(filters)}: "
                                     f"{err.splitlines()[-1] if err else f'exit code {proc.wait()}'}")
                m = re.search(r"LG_TOKEN=(\S+)", line)
                if m:
                    token = m.group(1)
            try:
                code = proc.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self._cancel_quietly(token)
                raise PlaceError(f"no place for {' '.join(filters)} within {wait:.0f} s (held by another run?); "
                                 f"reservation {token} cancelled") from None
            if code != 0:
                self._cancel_quietly(token)
                raise PlaceError(f"labgrid-client reserve {' '.join(filters)}: exit code {code}")
            return token
        except (KeyboardInterrupt, SystemExit):
            if token:
                self._cancel_quietly(token)  # interrupted while queued: leave no reservation behind
            raise
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait(5)

    def _cancel_quietly(self, token: str) -> None:
        with contextlib.suppress(PlaceError):
            self.run("cancel-reservation", token)

    def place_of(self, token: str) -> str:
        text = self.run("-p", f"+{token}", "show")
        m = re.search(r"^Place '([^']+)'", text, re.M)
        if not m:
            raise PlaceError(f"reservation {token}: no place in the coordinator's answer")
        return m.group(1)

    def acquire(self, token: str) -> None:
        self.run("-p", f"+{token}", "acquire")

    def env(self, token: str) -> dict[str, Any]:
        return yaml.safe_load(self.run("-p", f"+{token}", "env")) or {}

    def release(self, token: str) -> None:
        self.run("-p", f"+{token}", "release")

    def cancel(self, token: str) -> None:
        self.run("cancel-reservation", token)


@dataclass
class _Held:
    request: PlaceRequest
    token: str
    ours: bool  # a reservation this run made (and cancels); not one the user passed in
    place: str = ""
    acquired: bool = False


class PlaceSession:
    """Reserve and acquire every unit's place; release them all on exit (a context manager)."""

    def __init__(self, requests: list[PlaceRequest], *, client: LabgridClient | None = None, wait: float = 600.0,
                 out: IO[str] | None = None, export_wait: float = 15.0) -> None:
        self.requests = requests
        self.client = client or LabgridClient()
        self.wait = wait
        self.export_wait = export_wait
        self.out = out or sys.stdout
        self.held: list[_Held] = []
        self.facts: dict[str, PlaceFacts] = {}

    def _say(self, text: str) -> None:
        print(text, file=self.out, flush=True)

    def open(self) -> dict[str, PlaceFacts]:
        deadline = time.monotonic() + self.wait
        try:
            for req in self.requests:
                if req.token:
                    held = _Held(req, req.token, ours=False)
                else:
                    self._say(f"unit {req.unit}: reserving {req.describe()} (waiting up to "
                              f"{max(0.0, deadline - time.monotonic()):.0f} s)")
                    held = _Held(req, self.client.reserve(req.filters, max(1.0, deadline - time.monotonic())),
                                 ours=True)
                self.held.append(held)
                held.place = self.client.place_of(held.token)
                self.client.acquire(held.token)
                held.acquired = True
                self.facts[req.unit] = self._resolve(held)
                f = self.facts[req.unit]
                self._say(f"unit {req.unit}: acquired place {held.place} (console {f.console or 'none'}, "
                          f"power {f.power.get('model') if f.power else 'none'}, address {f.address or 'not exported'})")
        except BaseException:
            self.close()
            raise
        return self.facts

    def _resolve(self, held: _Held) -> PlaceFacts:
        """The exporter starts ser2net when the place is acquired: its port appears shortly after."""
        end = time.monotonic() + self.export_wait
        while True:
            facts = facts_from_env(held.request.unit, held.place, held.token, self.client.env(held.token))
            serial_declared = any(r["class"] == "NetworkSerialPort" for r in facts.resources)
            if facts.console or not serial_declared or time.monotonic() >= end:
                if serial_declared and not facts.console:
                    raise PlaceError(f"place {held.place}: its serial port was not exported within "
                                     f"{self.export_wait:g} s")
                return facts
            # Each `env` is a coordinator round trip of its own (tens of milliseconds): the poll is
            # bounded by export_wait and paced by those round trips.

    def close(self) -> None:
        for held in reversed(self.held):
            if held.acquired:
                try:
                    self.client.release(held.token)
                    self._say(f"unit {held.request.unit}: released place {held.place}")
                except PlaceError as exc:
                    self._say(f"unit {held.request.unit}: release of place {held.place} failed: {exc}")
                held.acquired = False
            if held.ours:
                with contextlib.suppress(PlaceError):
                    self.client.cancel(held.token)
                held.ours = False
        self.held.clear()

    def __enter__(self) -> dict[str, PlaceFacts]:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM (a CI job cancelled) unwinds like Ctrl-C, so held places are released."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def overlay_runtime(base: Mapping[str, Any], facts: Mapping[str, PlaceFacts]) -> dict[str, Any]:
    """The run's runtime facts with each placed unit's console, power and address from its place."""
    out = {**base, "units": {k: dict(v) for k, v in (base.get("units") or {}).items()}}
    for unit, f in facts.items():
        out["units"].setdefault(unit, {}).update(f.runtime())
    return out


def run_with_places(args: Any, run: Any, *, default_run_dir: Any) -> int:
    """``harness run --place …``: hold the units' places for the whole run, with the runtime facts
    they resolve to; ``run(args)`` is the ordinary run. Exit 2 on a usage error, 3 (INCONCLUSIVE:
    nothing could be judged) when a place cannot be had."""
    import json
    from pathlib import Path

    from harness.profile import ConfigError, open_bench
    missing = labgrid_missing()
    if missing:
        print(f"harness: {missing}", file=sys.stderr)
        return 2
    try:
        bench = open_bench(args.profile, args.lab, runtime_path=args.runtime)
    except ConfigError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        return 2
    units = list(args.unit or [u.id for u in bench.profile.units])
    # The command line's --place wins over the lab configuration's `places` for the same unit.
    given = list(args.place or [])
    named = {t.partition("=")[0] for t in given}
    lab_places = getattr(bench.lab, "places", None) or {}
    given += [f"{u}={spec}" for u, spec in lab_places.items() if u in units and u not in named]
    try:
        requests = [PlaceRequest.parse(text, units) for text in given]
    except PlaceUsageError as exc:
        print(f"harness: {exc}", file=sys.stderr)
        return 2
    dup = sorted({r.unit for r in requests if [q.unit for q in requests].count(r.unit) > 1})
    if dup:
        print(f"harness: --place names unit(s) {', '.join(dup)} more than once", file=sys.stderr)
        return 2
    if not args.run_dir:
        args.run_dir = str(default_run_dir(args.profile, bench.lab.reports_dir))
    farm_dir = Path(args.run_dir).resolve() / "farm"
    client = LabgridClient(getattr(args, "coordinator", None) or getattr(bench.lab, "coordinator", None))
    try:
        with sigterm_as_interrupt(), PlaceSession(requests, client=client, wait=args.place_wait) as facts:
            farm_dir.mkdir(parents=True, exist_ok=True)
            runtime = farm_dir / "runtime.json"
            runtime.write_text(json.dumps(overlay_runtime(bench.runtime, facts), indent=1))
            (farm_dir / "places.json").write_text(json.dumps(
                {u: {"place": f.place, "reservation": f.token, **f.runtime(), "resources": f.resources}
                 for u, f in facts.items()}, indent=1))
            args.runtime = str(runtime)
            return int(run(args))
    except PlaceError as exc:
        print(f"harness: {exc}", file=sys.stderr)
        print("exit code 3: the run could not start on its place(s); nothing was judged", file=sys.stderr)
        return 3
