"""The lab broker: real Mosquitto processes the device under test is pointed at.

Three separate instances, one per transport, so that every captured message and every log line
says by itself which transport it used:

- ``plain``: MQTT over TCP, password file, no anonymous access;
- ``tls``: MQTT over TLS with a server certificate from the lab CA (the device trusts that CA);
- ``rogue``: MQTT over TLS with a certificate for the same names, issued by a freshly generated CA
  with the same name as the lab CA (an impostor): a device that connects here does not verify
  its server (the MITM test).

How Mosquitto is run, and why:

- Its log goes to **stderr**, read by a thread the moment a line is written (stderr is unbuffered;
  stdout is block-buffered on a pipe and Mosquitto's own file log would need write access to the
  run directory after it dropped privileges). That thread redacts each line, appends it to
  ``<workdir>/<kind>.log`` (the evidence) and turns it into events, which makes readiness ("running"
  line), reloads and handshake failures event-driven instead of polled. Readiness is then confirmed
  by one login of the harness's observer account (see ``_probe`` for why the line is not enough).
- Run as **root**, Mosquitto drops privileges to the ``mosquitto`` user (``nobody`` if absent)
  before it opens the password file, and re-reads config, password file and certificates as that
  user on SIGHUP. We keep the drop (a device under test is untrusted input to this broker; a
  broker bug must not hand it root) and put everything Mosquitto reads in ``<workdir>/runtime``,
  owned by that user with mode 0700 (keys and password file 0600). The run directory's parents
  need not be searchable by that user: Mosquitto is started *in* the runtime directory and every
  path it reads is relative to it, so the lookups start there. The runtime directory (server keys,
  password hashes) is removed by ``stop()``, and by the crash watchdog (``harness.lab.reaper``)
  when the harness is killed hard: that watchdog also ends the Mosquitto processes, by PID, after
  checking each is still the process that was started.
- The password file is written by ``mosquitto_passwd`` (the maintained tool, so the hash format
  is whatever this Mosquitto expects), the password fed on stdin: never on a command line (visible
  in /proc) and never in a plaintext file.
- Free ports: bind port 0, release, start Mosquitto on it; another process may take the port in
  between, so "Address already in use" makes us retry with a new port (bounded).
"""

from __future__ import annotations

import atexit
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TextIO

from cryptography.x509.oid import NameOID

from harness.lab.ca import LabCA, write_private
from harness.lab.mosquitto_log import READY, RELOAD, BrokerEvent, MosquittoLogParser
from harness.lab.reaper import Reaper
from harness.links.mqtt import ConnectResult, MqttLink
from harness.redact import REDACTOR, Redactor
from harness.verdict import LabFault

KINDS = ("plain", "tls", "rogue")
TLS_KINDS = ("tls", "rogue")
_PORT_ATTEMPTS = 5
_MAX_EVENTS = 50_000  # per instance; a flooding device costs a bounded amount of memory
_MAX_LINE = 8192
_TAIL_LINES = 20
OBSERVER_PREFIX = "lab-observer-"


class BrokerError(LabFault):
    """The lab broker could not be started, reloaded or reached: the bench failed, not the device."""


def _free_port(host: str) -> int:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _drop_user() -> pwd.struct_passwd | None:
    """The account Mosquitto runs as when we are root (None: not root, no privilege change)."""
    if os.geteuid() != 0:
        return None
    for name in ("mosquitto", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise BrokerError("running as root but neither user 'mosquitto' nor 'nobody' exists to drop to")


class _Instance:
    """One Mosquitto process, its log reader and its events."""

    def __init__(self, kind: str, host: str, logfile: Path, redactor: Redactor, max_events: int,
                 child_setup: Callable[[], None] | None = None) -> None:
        self.kind = kind
        self.child_setup = child_setup
        self.host = host
        self.port = 0
        self.logfile = logfile
        self.redactor = redactor
        self.proc: subprocess.Popen[bytes] | None = None
        self._reader: threading.Thread | None = None
        self._cond = threading.Condition()
        self._events: deque[BrokerEvent] = deque(maxlen=max_events)
        self._parser = MosquittoLogParser(kind)
        self._tail: deque[str] = deque(maxlen=_TAIL_LINES)
        self._exited = False
        self._log: TextIO | None = None

    # -- process ---------------------------------------------------------------------------------
    def launch(self, mosquitto: str, config: Path) -> None:
        """Run Mosquitto in the config's folder with the config's name only: every path it reads is
        relative to that folder (see the module's docstring)."""
        self._exited = False
        self._tail.clear()
        if self._log is None:
            self._log = open(self.logfile, "a", encoding="utf-8")  # lives as long as the instance
        try:
            self.proc = subprocess.Popen([mosquitto, "-c", config.name], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         cwd=config.parent, preexec_fn=self.child_setup)
        except OSError as exc:
            raise BrokerError(f"cannot run {mosquitto}: {exc}") from exc
        self._reader = threading.Thread(target=self._read, args=(self.proc,), daemon=True,
                                        name=f"mosquitto-{self.kind}-log")
        self._reader.start()

    def _read(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        fd = proc.stderr.fileno()
        partial = b""
        while True:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                chunk = b""
            if not chunk:
                break
            *lines, partial = (partial + chunk).split(b"\n")
            if len(partial) > _MAX_LINE:
                lines.append(partial)
                partial = b""
            self._lines([raw.decode("utf-8", errors="replace") for raw in lines])
        if partial:
            self._lines([partial.decode("utf-8", errors="replace")])
        proc.stderr.close()
        with self._cond:
            self._exited = True
            self._cond.notify_all()

    def _lines(self, lines: list[str]) -> None:
        if not lines:
            return
        now = time.time()
        lines = [self.redactor.redact(line) for line in lines]
        with self._cond:
            if self._log is not None:
                self._log.write("".join(line + "\n" for line in lines))
                self._log.flush()  # one flush per read: the evidence is on disk as soon as it happened
            for line in lines:
                self._tail.append(line)
                event = self._parser.parse(line, now)
                if event is not None:
                    self._events.append(event)
            self._cond.notify_all()

    def wait_event(self, predicate: Callable[[BrokerEvent], bool], timeout: float, since: int = 0) -> BrokerEvent | None:
        """The first event after sequence number ``since`` that satisfies predicate, or None when the
        process ended or the timeout passed first."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                fresh: list[BrokerEvent] = []
                for event in reversed(self._events):  # only what came since the last look
                    if event.seq <= since:
                        break
                    fresh.append(event)
                for event in reversed(fresh):
                    if predicate(event):
                        return event
                if fresh:
                    since = fresh[0].seq
                remaining = deadline - time.monotonic()
                if self._exited or remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def last_seq(self) -> int:
        with self._cond:
            return self._events[-1].seq if self._events else 0

    def events(self) -> list[BrokerEvent]:
        with self._cond:
            return list(self._events)

    def tail(self) -> str:
        with self._cond:
            return "\n".join(self._tail)

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    @property
    def ended(self) -> bool:
        """Its stderr closed: the process is gone (poll() may lag behind by a moment)."""
        with self._cond:
            return self._exited

    def request_stop(self) -> None:
        """SIGTERM without waiting, so that several instances wind down at the same time."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()

    def terminate(self, timeout: float) -> None:
        proc, self.proc = self.proc, None
        if proc is not None:
            if proc.poll() is None:
                proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if self._reader is not None:
            self._reader.join(timeout)
            self._reader = None

    def close_log(self) -> None:
        with self._cond:
            if self._log is not None:
                self._log.close()
                self._log = None


# Brokers between start() and stop(), held strongly: a broker object that went out of scope while
# running must still be stopped at exit rather than leave its Mosquitto processes behind.
_LIVE: set[LabBroker] = set()


@atexit.register
def _stop_all() -> None:  # a test or run that forgot stop() must not leave brokers behind
    for broker in list(_LIVE):
        broker.stop()


class LabBroker:
    def __init__(self, workdir: str | Path, *, ca: LabCA | None = None, accounts: dict[str, str] | None = None,
                 host: str = "127.0.0.1", mosquitto: str = "/usr/sbin/mosquitto",
                 mosquitto_passwd: str = "/usr/bin/mosquitto_passwd", timeout: float = 10.0,
                 kinds: Iterable[str] = KINDS, cert_names: Iterable[str] = (),
                 redactor: Redactor = REDACTOR, max_events: int = _MAX_EVENTS,
                 child_setup: Callable[[], None] | None = None) -> None:
        self.workdir = Path(workdir)
        # Run in each Mosquitto child before exec (e.g. a simulator's prctl(PR_SET_PDEATHSIG)), so
        # that a parent killed hard does not leave brokers behind.
        self.child_setup = child_setup
        self.host = host
        self.mosquitto = mosquitto
        self.mosquitto_passwd = mosquitto_passwd
        self.timeout = timeout
        self.kinds = tuple(kinds)
        unknown = set(self.kinds) - set(KINDS)
        if unknown or not self.kinds:
            raise ValueError(f"broker kinds must be among {KINDS}, got {self.kinds}")
        # The names a device may use for the TLS listeners; the address itself always.
        names = [host] + [n for n in cert_names if n != host]
        if host in ("127.0.0.1", "::1") and "localhost" not in names:
            names.append("localhost")
        self.cert_names = names
        self.redactor = redactor
        self._ca = ca
        self._rogue_ca: LabCA | None = None
        self._accounts: dict[str, str] = {}
        # The harness's own account for capture and probes: random, never shown.
        self.observer = (OBSERVER_PREFIX + secrets.token_hex(4), secrets.token_urlsafe(24))
        for user, password in {**(accounts or {}), self.observer[0]: self.observer[1]}.items():
            self._remember(user, password)
        self._instances: dict[str, _Instance] = {}
        self._runtime: Path | None = None
        self._user = _drop_user()
        self._max_events = max_events
        self._lock = threading.Lock()
        self._active = False
        self._reaper: Reaper | None = None

    # -- lifecycle --------------------------------------------------------------------------------
    def start(self) -> LabBroker:
        with self._lock:
            if self._active:
                return self
            self._instances.clear()
            self._active = True
            _LIVE.add(self)
            try:
                self._reaper = Reaper().start()
                self._prepare()
                for kind in self.kinds:
                    self._start_instance(kind)
            except BaseException:
                self._stop_locked()
                raise
        return self

    def stop(self) -> None:
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        # Instances are kept after stop: their events and logs stay readable as evidence.
        for inst in self._instances.values():
            inst.request_stop()
        for inst in self._instances.values():
            inst.terminate(self.timeout)
            inst.close_log()
        self._active = False
        if self._runtime is not None:
            shutil.rmtree(self._runtime, ignore_errors=True)
            self._runtime = None
        if self._reaper is not None:
            self._reaper.close()
            self._reaper = None
        _LIVE.discard(self)

    # -- outages (5.9-2) ---------------------------------------------------------------------------
    def stop_instance(self, kind: str) -> None:
        """Take one listener away, as a broker outage: its log and events stay readable."""
        with self._lock:
            inst = self._instance(kind)
            inst.request_stop()
            inst.terminate(self.timeout)

    def start_instance(self, kind: str) -> None:
        """Bring a stopped listener back on the same port (devices reconnect to what they knew)."""
        with self._lock:
            inst = self._instance(kind)
            if inst.proc is not None and inst.proc.poll() is None:
                return
            assert self._runtime is not None, "start() the broker first"
            config = self._runtime / f"{kind}.conf"
            mark = inst.last_seq()
            self._launch(inst, config)
            if inst.wait_event(lambda e: e.kind == READY, self.timeout, mark) is None:
                tail = inst.tail()
                inst.terminate(self.timeout)
                raise BrokerError(f"lab broker {kind} did not come back on port {inst.port}:\n{tail}")
            self._probe(kind)

    def __enter__(self) -> LabBroker:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what others use -------------------------------------------------------------------------
    @property
    def ca(self) -> LabCA:
        if self._ca is None:
            self._ca = LabCA.load_or_create(self.workdir / "lab-ca")
        return self._ca

    @property
    def ca_path(self) -> Path:
        return self.ca.ca_path

    @property
    def rogue_ca_path(self) -> Path:
        """The impostor's CA: only the harness's own observer trusts it (to see what a fooled
        device sent to the rogue listener)."""
        if self._rogue_ca is None:
            raise BrokerError("the rogue listener has not been started")
        return self._rogue_ca.ca_path

    def port(self, kind: str) -> int:
        return self._instance(kind).port

    def url(self, kind: str) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        scheme = "mqtts" if kind in TLS_KINDS else "mqtt"
        return f"{scheme}://{host}:{self.port(kind)}"

    def pid(self, kind: str) -> int | None:
        proc = self._instance(kind).proc
        return proc.pid if proc is not None else None

    def running(self, kind: str) -> bool:
        return kind in self._instances and self._instances[kind].running

    @property
    def started_kinds(self) -> tuple[str, ...]:
        """The listeners of this broker that are up now."""
        return tuple(k for k, inst in self._instances.items() if inst.running)

    def log_path(self, kind: str) -> Path:
        return self.workdir / f"{kind}.log"

    def events(self, kind: str, event_kind: str | None = None) -> list[BrokerEvent]:
        events = self._instance(kind).events()
        return events if event_kind is None else [e for e in events if e.kind == event_kind]

    def wait_event(self, kind: str, predicate: Callable[[BrokerEvent], bool], timeout: float | None = None,
                   since: int = 0) -> BrokerEvent | None:
        """Event-driven wait for a log event (e.g. the rogue listener's TLS failure); None on timeout."""
        return self._instance(kind).wait_event(predicate, self.timeout if timeout is None else timeout, since)

    def last_seq(self, kind: str) -> int:
        return self._instance(kind).last_seq()

    @property
    def accounts(self) -> dict[str, str]:
        """Accounts a device may use (the observer's excluded)."""
        return {u: p for u, p in self._accounts.items() if u != self.observer[0]}

    def add_account(self, user: str, password: str) -> None:
        """Add (or change) an account; running instances reload their password file (SIGHUP) and
        this returns once each has logged the reload."""
        self._remember(user, password)
        with self._lock:
            if not self._active:
                return
            self._write_passwords()
            marks = {kind: inst.last_seq() for kind, inst in self._instances.items()}
            for kind, inst in self._instances.items():
                if not inst.running or inst.proc is None:
                    raise BrokerError(f"lab broker {kind} is not running; cannot reload accounts")
                inst.proc.send_signal(signal.SIGHUP)
            for kind, inst in self._instances.items():
                # Mosquitto logs "Reloading config." and re-reads the password file in the same
                # loop iteration, before it serves any further packet: the line is enough.
                if inst.wait_event(lambda e: e.kind == RELOAD, self.timeout, marks[kind]) is None:
                    raise BrokerError(f"lab broker {kind} did not reload within {self.timeout:g} s:\n{inst.tail()}")

    # -- internals --------------------------------------------------------------------------------
    def _remember(self, user: str, password: str) -> None:
        if not user or ":" in user or any(c in user for c in "\r\n"):
            raise BrokerError(f"unusable MQTT user name {user!r} for a Mosquitto password file")
        if not password or any(c in password for c in "\r\n"):
            raise BrokerError(f"account {user!r}: the password must be non-empty and on one line")
        self.redactor.add(password, f"lab broker account {user}")
        self._accounts[user] = password

    def _instance(self, kind: str) -> _Instance:
        try:
            return self._instances[kind]
        except KeyError:
            raise BrokerError(f"lab broker listener {kind!r} was never started "
                              f"(started: {', '.join(self._instances) or 'none'})") from None

    def _own(self, path: Path) -> None:
        if self._user is not None:
            os.chown(path, self._user.pw_uid, self._user.pw_gid)

    def _prepare(self) -> None:
        for tool in (self.mosquitto, self.mosquitto_passwd):
            if not os.access(tool, os.X_OK):
                raise BrokerError(f"{tool} is missing; install the Debian package mosquitto (make system-deps)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        self._runtime = self.workdir.resolve() / "runtime"
        if self._reaper is not None:
            self._reaper.remove_on_crash(self._runtime)
        if self._runtime.is_symlink() or self._runtime.is_file():
            self._runtime.unlink()
        elif self._runtime.exists():
            shutil.rmtree(self._runtime)  # a killed run's leftover: its keys are not reused
        self._runtime.mkdir(mode=0o700)
        os.chmod(self._runtime, 0o700)
        self._own(self._runtime)
        self._write_passwords()
        if "tls" in self.kinds:
            cert, key = self.ca.issue_server_cert(self.cert_names, self._runtime, "tls")
            self._own(cert)
            self._own(key)
        if "rogue" in self.kinds:
            # Same name as the lab CA (an impostor), its own key: only the signature tells them apart.
            names = self.ca.cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
            common_name = str(names[0].value) if names else "IoT conformance lab CA"
            self._rogue_ca = LabCA.create(self.workdir / "rogue-ca", common_name=common_name,
                                          key_type=self.ca.key_type)
            cert, key = self._rogue_ca.issue_server_cert(self.cert_names, self._runtime, "rogue")
            self._own(cert)
            self._own(key)

    def proven_alive(self, kind: str) -> str | None:
        """Prove a listener alive now: the harness's own login answered with a CONNACK by the
        process this broker started. None when proven; else why not (a dead process, a port that
        refused or answered with something else)."""
        inst = self._instances.get(kind)
        if inst is None or not inst.running:
            return f"the lab broker's {kind} listener is not running"
        try:
            result = self._login(kind)
        except Exception as exc:  # a listener that cannot be reached proves nothing either way
            return f"the lab broker's {kind} listener did not answer a login: {type(exc).__name__}: {exc}"
        if not result.ok:
            return (f"the lab broker's {kind} listener refused the harness's own login: {result.outcome} "
                    f"{result.reason} {result.tls_error or ''}".rstrip())
        if not inst.running:  # whatever answered, the process we started is gone
            return f"the lab broker's {kind} listener ended while it was being proven alive"
        return None

    def _login(self, kind: str) -> ConnectResult:
        ca = None
        if kind in TLS_KINDS:
            ca = self.rogue_ca_path if kind == "rogue" else self.ca_path
        link = MqttLink(f"broker-probe-{kind}", url=self.url(kind), ca=str(ca) if ca else None,
                        timeout=self.timeout, transcript_dir=self.workdir / "probe")
        try:
            return link.connect_attempt(*self.observer, client_id=f"{OBSERVER_PREFIX}probe-{kind}")
        finally:
            link.close()

    def _probe(self, kind: str) -> None:
        """Log in once with the observer account and wait for the CONNACK.

        The "running" line is not enough: Mosquitto 2.0 logs it *before* it arms its main loop, and
        a SIGTERM or SIGHUP in that gap is lost (seen here: stop() then waited its full timeout).
        A CONNACK comes from the main loop, and it also proves the password file was readable after
        the privilege drop and that the certificate loads."""
        result = self._login(kind)
        if not result.ok:
            inst = self._instances[kind]
            raise BrokerError(f"lab broker {kind} is up but refused the harness's own login: {result.outcome} "
                              f"{result.reason} {result.tls_error or ''}\n{inst.tail()}")

    def _write_passwords(self) -> None:
        assert self._runtime is not None
        target = self._runtime / "passwd"
        tmp = self._runtime / "passwd.new"
        write_private(tmp, b"")
        for user, password in self._accounts.items():
            try:
                done = subprocess.run([self.mosquitto_passwd, str(tmp), user], input=f"{password}\n{password}\n".encode(),
                                      capture_output=True, timeout=self.timeout, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise BrokerError(f"mosquitto_passwd failed for {user!r}: {exc}") from exc
            if done.returncode != 0:
                out = self.redactor.redact((done.stdout + done.stderr).decode(errors="replace").strip())
                raise BrokerError(f"mosquitto_passwd refused account {user!r}: {out}")
        os.chmod(tmp, 0o600)
        self._own(tmp)
        os.replace(tmp, target)  # a reload never sees a half-written file

    def _config(self, kind: str, port: int) -> str:
        """Mosquitto's configuration as the evidence shows it (absolute paths); the copy Mosquitto
        reads has the paths in the runtime directory made relative to it (``_start_instance``)."""
        assert self._runtime is not None
        run = self._runtime
        lines = [
            f"# lab broker '{kind}' generated by harness.lab.broker",
            "per_listener_settings false",
            "persistence false",
            "allow_anonymous false",
            f"password_file {run / 'passwd'}",
            "log_dest stderr",
            "log_type all",
            "connection_messages true",
            f"listener {port} {self.host}",
        ]
        if self._user is not None:
            lines.insert(1, f"user {self._user.pw_name}")
        if kind in TLS_KINDS:
            lines += [f"certfile {run / (kind + '.pem')}", f"keyfile {run / (kind + '.key.pem')}"]
        return "\n".join(lines) + "\n"

    def _launch(self, inst: _Instance, config: Path) -> None:
        inst.launch(self.mosquitto, config)
        if self._reaper is not None and inst.proc is not None:
            self._reaper.watch(inst.proc.pid)  # ended by the watchdog if the harness is killed

    def _start_instance(self, kind: str) -> None:
        assert self._runtime is not None
        inst = _Instance(kind, self.host, self.log_path(kind), self.redactor, self._max_events, self.child_setup)
        self._instances[kind] = inst
        for attempt in range(1, _PORT_ATTEMPTS + 1):
            port = _free_port(self.host)
            text = self._config(kind, port)
            config = self._runtime / f"{kind}.conf"
            config.write_text(text.replace(f"{self._runtime}/", ""), encoding="utf-8")
            self._own(config)
            (self.workdir / f"{kind}.conf").write_text(text, encoding="utf-8")  # evidence: no secrets in it
            mark = inst.last_seq()
            inst.port = port
            self._launch(inst, config)
            # Returns at the "running" line, or at once when the process ends (a start error).
            if inst.wait_event(lambda e: e.kind == READY, self.timeout, mark) is not None:
                self._probe(kind)
                return
            exited = inst.ended
            inst.terminate(self.timeout)
            tail = inst.tail()
            if exited and "Address already in use" in tail and attempt < _PORT_ATTEMPTS:
                continue  # someone took the port between our probe and Mosquitto's bind
            why = "exited before it was ready" if exited else f"did not report ready within {self.timeout:g} s"
            raise BrokerError(f"lab broker {kind} {why} ({self.host}:{port}):\n{tail}")
