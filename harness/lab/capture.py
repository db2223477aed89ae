"""Everything published on the lab broker, recorded with the transport it used.

One observer client per broker instance, logged in with the broker's own random lab account,
subscribed to ``#`` with QoS 2 (so a message keeps the QoS it was published with) and, on MQTT 5,
retain-as-published (so the retain flag is the publisher's, not the broker's). The rogue listener
is observed too, trusting the impostor CA: what a fooled device sent there is the evidence.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from harness.lab.broker import TLS_KINDS, BrokerError, LabBroker
from harness.links.mqtt import MqttLink, MqttLinkError, MqttMessage
from harness.redact import REDACTOR, Redactor
from harness.verdict import Evidence

_MAX_MESSAGES = 100_000
_REPLAY_WINDOW_S = 1.0


@dataclass(frozen=True)
class CapturedMessage:
    transport: str  # plain | tls | rogue: which broker instance (and so which transport) carried it
    topic: str
    payload: bytes
    qos: int
    retain: bool
    t: float  # wall clock (epoch s) when the observer received it
    # The listener (URL) it came through: a listener started again takes a new port, so a verdict
    # can be tied to the listeners proven alive at the end of its capture window.
    listener: str = ""
    # A retained message the broker delivered because the capture (re)subscribed: old news with a
    # new time stamp, not something the unit published now (see BrokerCapture.subscribed).
    replay: bool = False

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8", errors="replace")

    def to_dict(self, redactor: Redactor = REDACTOR) -> dict[str, object]:
        try:
            payload, encoding = self.payload.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            payload, encoding = self.payload.hex(), "hex"
        return {"transport": self.transport, "topic": redactor.redact(self.topic),
                "payload": redactor.redact(payload), "encoding": encoding, "bytes": len(self.payload),
                "qos": self.qos, "retain": self.retain, "t": round(self.t, 3), "listener": self.listener,
                "replay": self.replay}


class BrokerCapture:
    def __init__(self, broker: LabBroker, *, kinds: Iterable[str] | None = None, timeout: float | None = None,
                 transcript_dir: str | Path | None = None, max_messages: int = _MAX_MESSAGES,
                 redactor: Redactor = REDACTOR) -> None:
        self.broker = broker
        self.kinds = tuple(kinds) if kinds is not None else broker.started_kinds
        self.timeout = broker.timeout if timeout is None else timeout
        self.transcript_dir = Path(transcript_dir) if transcript_dir else broker.workdir / "capture"
        self.redactor = redactor
        self._messages: deque[CapturedMessage] = deque(maxlen=max_messages)
        self._count = 0
        self._cond = threading.Condition()
        self._links: dict[str, MqttLink] = {}
        # Per listener: until when retained messages are the broker's replay of a (re)subscription.
        self._replay_until: dict[str, float] = {}
        self.subscribed: list[tuple[str, float]] = []  # (listener kind, when) of every (re)subscription
        self._fences: dict[tuple[str, str], float] = {}  # (listener kind, marker topic) -> when it came back

    def start(self) -> BrokerCapture:
        if not self.kinds:
            raise BrokerError("nothing to capture: the lab broker has no listener running (start it first)")
        try:
            for kind in self.kinds:
                self._attach(kind)
        except BaseException:
            self.stop()
            raise
        return self

    def _attach(self, kind: str) -> None:
        user, password = self.broker.observer
        ca = self.broker.rogue_ca_path if kind == "rogue" else self.broker.ca_path
        link = MqttLink(f"capture-{kind}", url=self.broker.url(kind), username=user, password=password,
                        ca=str(ca) if kind in TLS_KINDS else None, timeout=self.timeout, protocol="5",
                        transcript_dir=self.transcript_dir, max_queue=0)
        link.add_listener(self._recorder(kind, self.broker.url(kind)))
        link.add_disconnect_listener(self._wake)
        self._links[kind] = link
        link.open()
        with self.replays(kind):
            link.subscribe("#", qos=2, retain_as_published=True)

    @contextlib.contextmanager
    def replays(self, kind: str) -> Iterator[None]:
        """Around a subscription: retained messages that arrive meanwhile, and up to a second after
        its SUBACK, are the broker's replay of what it kept, not the unit's news."""
        with self._cond:
            self._replay_until[kind] = float("inf")
            self.subscribed.append((kind, time.time()))
        try:
            yield
        finally:
            with self._cond:
                self._replay_until[kind] = time.time() + _REPLAY_WINDOW_S

    def reattach(self, kind: str) -> None:
        """After a staged outage of one listener: observe it again (messages so far are kept)."""
        old = self._links.pop(kind, None)
        if old is not None:
            old.close()
        self._attach(kind)

    def stop(self) -> None:
        for link in self._links.values():
            link.close()
        self._links.clear()

    def __enter__(self) -> BrokerCapture:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _wake(self, _reason: str) -> None:
        with self._cond:
            self._cond.notify_all()

    def _recorder(self, kind: str, listener: str = "") -> Callable[[MqttMessage], None]:
        def record(msg: MqttMessage) -> None:
            if msg.topic.startswith(self.FENCE_PREFIX):
                # The capture's own marker: kept apart, so that no check ever takes it for
                # traffic of a unit (a profile without a device topic filter watches '#').
                with self._cond:
                    self._fences[(kind, msg.topic)] = msg.t
                    self._cond.notify_all()
                return
            with self._cond:
                replay = msg.retain and time.time() <= self._replay_until.get(kind, 0.0)
            captured = CapturedMessage(kind, msg.topic, msg.payload, msg.qos, msg.retain, msg.t, listener, replay)
            with self._cond:
                self._messages.append(captured)
                self._count += 1
                self._cond.notify_all()
        return record

    FENCE_PREFIX = "harness/fence/"  # the capture's own markers (fence()); never recorded as traffic

    def fence(self, timeout: float | None = None) -> dict[str, float]:
        """Per listener, the receipt time of a marker this capture publishes through it and gets
        back. Mosquitto handles one message after another and the capture's connection delivers
        in order: what a unit published before the marker was received before it, however late
        a busy bench delivered it. A listener whose marker did not come back is left out."""
        import secrets as _secrets

        wait = self.timeout if timeout is None else timeout
        token = _secrets.token_hex(6)
        topic = f"{self.FENCE_PREFIX}{token}"
        out: dict[str, float] = {}
        for kind, link in list(self._links.items()):
            try:
                link.publish(topic, b"fence", qos=1, timeout=wait)
            except (MqttLinkError, OSError):
                continue
            with self._cond:
                if self._cond.wait_for(lambda k=kind: (k, topic) in self._fences, wait):
                    out[kind] = self._fences.pop((kind, topic))
        return out

    @property
    def messages(self) -> list[CapturedMessage]:
        with self._cond:
            return list(self._messages)

    @property
    def dropped(self) -> int:
        with self._cond:
            return self._count - len(self._messages)

    def wait_for(self, predicate: Callable[[CapturedMessage], bool], timeout: float | None = None
                 ) -> CapturedMessage | None:
        """The first captured message (already seen or arriving) that satisfies ``predicate``; None
        if none came in time (silence: the caller decides). MqttLinkError if an observer lost its
        broker, since then absence proves nothing."""
        wait = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        seen = 0  # messages already tested, counted from the first ever captured
        with self._cond:
            while True:
                size = len(self._messages)
                # Only the messages new since the last look; indexing a deque near its right end is
                # cheap, so a long capture is not rescanned on every wake.
                for i in range(max(0, size - (self._count - seen)), size):
                    if predicate(self._messages[i]):
                        return self._messages[i]
                seen = self._count
                lost = [k for k, link in self._links.items() if not link.connected]
                if lost:
                    raise MqttLinkError(f"capture lost its connection to the lab broker ({', '.join(lost)})")
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self._cond.wait(remaining)

    def to_evidence(self, name: str = "MQTT messages seen by the lab broker") -> Evidence:
        rows = [m.to_dict(self.redactor) for m in self.messages]
        return Evidence("table", name, rows)
