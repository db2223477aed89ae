"""An existing broker the units are fixed to (a vendor cloud broker in firmware): the harness cannot
start, stop or impersonate it, only log in with an observer account and watch what is published.

``ObservedBroker`` stands where a started ``LabBroker`` would (``bench.services["broker"]``) and says
why the tests that need a re-pointable broker cannot run; ``BrokerObserver`` stands where the
``BrokerCapture`` would (``bench.services["capture"]``): the same ``messages``/``wait_for`` interface,
with transport ``observed`` because a subscriber cannot tell over which listener a message came in
(the packet capture of the unit tells; see harness.lab.sniffer).
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any
from urllib.parse import SplitResult, urlsplit

from harness.lab.broker import BrokerError
from harness.lab.capture import BrokerCapture
from harness.links.mqtt import MqttLink
from harness.redact import REDACTOR, Redactor

OBSERVED = "observed"
FIXED = ("the unit's broker is fixed in firmware (lab configuration broker: start: false, observed at {url})")
NO_ROGUE = FIXED + ": a rogue-server test is impossible, so whether the unit verifies its server was not tested"
NO_OUTAGE = FIXED + ": a broker outage cannot be staged by the lab"


class ObservedBroker:
    """The existing broker: what it is, and why it cannot be stopped or impersonated."""

    fixed = True
    kinds = (OBSERVED,)

    def __init__(self, url: str, *, observer: tuple[str, str], topics: Iterable[str] = ("#",),
                 ca: str | None = None, workdir: str | Path = ".", timeout: float = 10.0,
                 also_observe: Iterable[str] = (), redactor: Redactor = REDACTOR, scope: Any = None) -> None:
        self._url = url
        self.scope = scope  # the bench's: the observer connects to the address it agreed to
        parts = _parse(url)
        self.host = parts.hostname or ""
        self.tls = parts.scheme == "mqtts"
        self.port_number = parts.port or (8883 if self.tls else 1883)
        # Each listener the observer logs in to: the main URL, then listeners that do not share
        # messages with it (a lab stand-in broker run as one process per listener).
        self.listeners = {OBSERVED: url}
        for i, extra in enumerate(also_observe, start=2):
            _parse(extra)
            self.listeners[f"{OBSERVED}-{i}"] = extra
        self.kinds = tuple(self.listeners)
        self.observer = observer
        redactor.add(observer[1], f"observer account {observer[0]}")
        self.topics = tuple(topics)
        self.ca = ca
        self.workdir = Path(workdir)
        self.timeout = timeout
        self.no_rogue_reason = NO_ROGUE.format(url=url)
        self.no_outage_reason = NO_OUTAGE.format(url=url)

    # What the capture and the cases ask of a broker.
    @property
    def started_kinds(self) -> tuple[str, ...]:
        return self.kinds

    def url(self, kind: str = OBSERVED) -> str:
        return self.listeners.get(kind, self._url)

    def port(self, kind: str = OBSERVED) -> int:
        return self.port_number

    @property
    def ca_path(self) -> str | None:
        return self.ca

    def stop_instance(self, kind: str) -> None:
        raise BrokerError(self.no_outage_reason)

    def start_instance(self, kind: str) -> None:
        raise BrokerError(self.no_outage_reason)

    def last_seq(self, kind: str) -> int:
        raise BrokerError(self.no_rogue_reason if kind == "rogue" else
                          f"{FIXED.format(url=self._url)}: its log cannot be read")

    def stop(self) -> None:
        """Nothing to stop: the harness did not start it."""


def _parse(url: str) -> SplitResult:
    parts = urlsplit(url)
    if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
        raise BrokerError(f"observed broker {url!r} is not mqtt://host[:port] or mqtts://host[:port]")
    return parts


class BrokerObserver(BrokerCapture):
    """Everything the observer account receives on the existing broker."""

    def __init__(self, broker: ObservedBroker, **kwargs: object) -> None:
        super().__init__(broker, kinds=broker.kinds, **kwargs)  # type: ignore[arg-type]

    def _attach(self, kind: str) -> None:
        broker: ObservedBroker = self.broker  # type: ignore[assignment]
        user, password = broker.observer
        url = broker.url(kind)
        # MQTT 5 with retain-as-published: the retain flag is the publisher's, which tells a unit's
        # periodic messages (not retained) from its state and will (retained) — see cases.traffic.
        link = MqttLink(f"observer-{kind}", url=url, username=user, password=password,
                        ca=broker.ca if url.startswith("mqtts:") else None, timeout=self.timeout,
                        protocol="5", transcript_dir=self.transcript_dir, max_queue=0, scope=broker.scope)
        link.add_listener(self._recorder(OBSERVED, url))
        link.add_disconnect_listener(self._wake)
        self._links[kind] = link
        link.open()
        with self.replays(OBSERVED):
            for topic in broker.topics:
                link.subscribe(topic, qos=1, retain_as_published=True)
