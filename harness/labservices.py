"""Lab services a run starts for the profile: the lab broker and its capture, or the observer of an
existing broker.

Each unit gets its own broker account (random password, a secret of the run) so the broker log
tells which unit connected; the harness uses the broker's observer account for its own client
and for the capture of everything devices publish, per transport.

With ``broker: {start: false, url, ca, observer}`` the units are fixed to a broker the lab does not
run (a vendor cloud broker in firmware): the harness logs in with the observer account and watches
what is published (``bench.services["capture"]`` is then a ``BrokerObserver``), and the test cases
that need to stop or impersonate the broker say why they cannot.
"""

from __future__ import annotations

import contextlib
import secrets
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from harness.profile.resolve import Bench
from harness.redact import REDACTOR


def device_account(unit_id: str) -> str:
    return f"dev-{unit_id.lower()}"


def wants_lab_services(bench: Bench) -> bool:
    """The run needs lab services: an MQTT link of the profile asks for the lab broker, or the lab
    configuration names an existing broker to observe."""
    cfg = bench.lab.broker
    if cfg is not None and not cfg.start:
        return True
    return any(getattr(link, "type", "") == "mqtt" and str(link.broker).startswith("lab")
               for link in bench.profile.links.values())


def check_broker_scope(bench: Bench, url: str, where: str) -> None:
    """An MQTT broker URL of the lab: its host (and port) in the declared networks, a host name only
    if the lab declares it; OutOfScope before any packet (or DNS query) leaves."""
    from harness.links.mqtt import parse_url
    from harness.scope import OutOfScope

    _, host, port = parse_url(url)
    try:
        bench.scope().check_target(host, port)
    except OutOfScope as exc:
        raise OutOfScope(f"{where}: {exc}") from None


@contextlib.contextmanager
def observe_existing_broker(bench: Bench, workdir: Path) -> Iterator[dict[str, Any]]:
    """Log in to the existing broker with the observer account and record what is published."""
    from harness.lab.observer import BrokerObserver, ObservedBroker

    cfg = bench.lab.broker
    assert cfg is not None and cfg.url is not None and cfg.observer is not None
    for where, url in [("broker.url", cfg.url)] + [(f"broker.also_observe[{i}]", u) for i, u in enumerate(cfg.also_observe)]:
        check_broker_scope(bench, url, where)
    user = str(bench.resolve(cfg.observer.user, where="broker.observer.user"))
    password = str(bench.resolve(cfg.observer.password, where="broker.observer.password"))
    REDACTOR.add(password, "broker observer password")
    ca = None
    if cfg.ca is not None:
        path = Path(str(bench.resolve(cfg.ca, where="broker.ca")))
        ca = str(path if path.is_absolute() else bench.base_dir / path)
    broker = ObservedBroker(cfg.url, observer=(user, password), topics=cfg.observer.topics, ca=ca,
                            workdir=workdir, timeout=float(bench.lab.timeouts.get("broker", 10.0)),
                            also_observe=cfg.also_observe, scope=bench.scope())
    observer = BrokerObserver(broker).start()
    try:
        # broker_account: a profile's own MQTT link on `broker: lab` logs in as the observer.
        dict.update(bench.services, broker=broker, capture=observer, broker_account=(user, password))
        yield bench.services
    finally:
        observer.stop()
        for key in BROKER_KEYS:
            dict.pop(bench.services, key, None)


@contextlib.contextmanager
def start_lab_broker(bench: Bench, workdir: Path) -> Iterator[dict[str, Any]]:
    """Start the lab broker and its capture for a run; the handles go into ``bench.services``."""
    from harness.lab.broker import LabBroker
    from harness.lab.capture import BrokerCapture

    cfg = bench.lab.broker
    host = cfg.host if cfg is not None else "127.0.0.1"
    bench.scope().check_host(host)  # the lab broker listens (and devices connect) in a declared network
    accounts: dict[str, str] = {}
    for unit in bench.profile.units:
        password = secrets.token_urlsafe(18)
        REDACTOR.add(password, f"broker password of {unit.id}")
        accounts[device_account(unit.id)] = password
    for user, value in (cfg.accounts.items() if cfg else []):
        accounts[user] = str(bench.resolve(value, where=f"broker.accounts.{user}"))
    kwargs: dict[str, Any] = {}
    if cfg is not None:
        kwargs.update(host=cfg.host, mosquitto=cfg.mosquitto)
        if cfg.ca_dir is not None:
            from harness.lab.ca import LabCA
            folder = Path(str(bench.resolve(cfg.ca_dir, where="broker.ca_dir")))
            kwargs["ca"] = LabCA.load_or_create(folder if folder.is_absolute() else bench.base_dir / folder)
    broker = LabBroker(workdir, accounts=accounts, **kwargs).start()
    capture = None
    try:
        capture = BrokerCapture(broker).start()
        dict.update(bench.services,
            broker=broker, capture=capture, broker_account=broker.observer,
            broker_vars={unit: {"url": broker.url("tls"), "plain_url": broker.url("plain"),
                                "rogue_url": broker.url("rogue"), "host": broker.host,
                                "port": broker.port("tls"), "plain_port": broker.port("plain"),
                                "rogue_port": broker.port("rogue"), "user": device_account(unit),
                                "password": accounts[device_account(unit)]}
                         for unit in (u.id for u in bench.profile.units)})
        yield bench.services
    finally:
        if capture is not None:
            capture.stop()
        broker.stop()
        for key in BROKER_KEYS:
            dict.pop(bench.services, key, None)


def _clock(t: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + f".{int(t * 1000) % 1000:03d}Z"


BROKER_KEYS = ("broker", "capture", "broker_account", "broker_vars")
_START_BOUND_S = 300.0  # backstop for a start in the background; its own steps time out far sooner


class LabServices(dict):  # type: ignore[type-arg]
    """``bench.services`` when the profile wants a lab broker: started on first use, or ahead of it
    by ``prestart`` (the pytest plugin does when the first unit is set up). One broker per harness
    process (parallel unit processes each provision their own unit with their own broker)."""

    def __init__(self, bench: Bench, workdir: Path) -> None:
        super().__init__()
        self._bench, self._workdir = bench, workdir
        self._cm: contextlib.AbstractContextManager[Any] | None = None
        # Why earlier starts failed (a listener killed while it started...): a verdict judged on a
        # broker started again afterwards names the recovery in its evidence.
        self.start_failures: list[dict[str, str]] = []
        self.started_at: float | None = None
        self._lock = threading.Lock()
        self._starter: threading.Thread | None = None

    def prestart(self) -> None:
        """Start the services in the background while the first test case opens its links and
        logs in: they are up (or their failure is recorded, and the first use tries again) by the
        time a test case needs them, instead of adding their start-up to that test case."""
        if self._starter is None and self._cm is None:
            self._starter = threading.Thread(target=self._start_quietly, name="lab-services-start", daemon=True)
            self._starter.start()

    def _start_quietly(self) -> None:
        with contextlib.suppress(Exception):  # recorded in start_failures; the first use raises it
            self._ensure(BROKER_KEYS[0])

    def _ensure(self, key: object) -> None:
        if key not in BROKER_KEYS or self._cm is not None:
            return
        with self._lock:  # a start under way in the background is waited for, not repeated
            if self._cm is None:
                self._start()

    def _start(self) -> None:
        cfg = self._bench.lab.broker
        observe = cfg is not None and not cfg.start
        cm = (observe_existing_broker if observe else start_lab_broker)(self._bench, self._workdir)
        try:
            cm.__enter__()  # a failure here is a LabFault of this test; the next use tries again
        except Exception as exc:
            self.start_failures.append({"failed at": _clock(time.time()),
                                        "cause": f"{type(exc).__name__}: {exc}"[:500]})
            raise
        self._cm = cm
        self.started_at = time.time()

    def recovery(self) -> dict[str, object] | None:
        """The evidence that the services in use were started again after failed starts (None when
        the first start held)."""
        if not self.start_failures or self.started_at is None:
            return None
        return {"started again at": _clock(self.started_at), "earlier starts that failed": list(self.start_failures)}

    def __getitem__(self, key: object) -> Any:
        self._ensure(key)
        return super().__getitem__(key)

    def get(self, key: object, default: Any = None) -> Any:
        self._ensure(key)
        return super().get(key, default)

    def __contains__(self, key: object) -> bool:
        self._ensure(key)
        return super().__contains__(key)

    def close(self) -> None:
        # A background start is waited for (each of its steps has its own timeout; this bound is
        # only a backstop): what it started is then stopped here, not left running.
        if self._starter is not None:
            self._starter.join(_START_BOUND_S)
        if not self._lock.acquire(timeout=_START_BOUND_S):
            return  # a start hung past every timeout: the broker's reaper ends it with the process
        try:
            if self._cm is not None:
                cm, self._cm = self._cm, None
                cm.__exit__(None, None, None)
        finally:
            self._lock.release()
