"""MQTT link on paho-mqtt 2: connect (with or without credentials, TLS), probe credentials, subscribe,
publish, and expect messages with explicit timeouts, keeping a redacted transcript.

Rules this module keeps:

- paho's automatic reconnect is off (``reconnect_on_failure=False``): a broker that refuses our
  credentials is asked once, never hammered; a lost connection is reported, not hidden.
- Every wait is a condition wait on a paho callback (CONNACK, SUBACK, PUBACK/PUBCOMP, a message,
  the disconnect), bounded by a timeout; paho's own socket connect and TLS handshake are bounded
  by ``connect_timeout``.
- Lab faults (cannot reach or log in to the broker the *lab* relies on, connection lost) raise
  ``MqttLinkError``, a ``LabFault``. ``connect_attempt`` is a probe instead: its outcomes are data
  (``ok``, ``rejected`` only on a CONNACK refusal code the broker sent, ``timeout``, ``error``).
- Silence while expecting a message raises ``MqttTimeout`` (an ``ExpectTimeout``, like the serial
  link's): the procedure decides what silence means, it is never a refusal by itself.
- Messages that arrive before anyone expects them wait in a bounded inbox (oldest dropped first,
  and counted), so "publish a command, then expect the reply" does not lose a fast reply.
- ``open()`` connects at once: a lab fault shows up where the link is opened, not in the middle of
  a procedure step.
"""

from __future__ import annotations

import bisect
import re
import secrets
import socket
import ssl
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from harness.links.base import LinkError
from harness.links.serial import ExpectTimeout
from harness.links.transcript import Transcript
from harness.redact import REDACTOR
from harness.scope import Scope

PROTOCOLS = {"3.1": paho.MQTTv31, "3.1.1": paho.MQTTv311, "5": paho.MQTTv5}
_DEFAULT_PORT = {"mqtt": 1883, "mqtts": 8883}
# paho 2 reports MQTT 3.x CONNACK return codes as MQTT 5 reason codes (5 becomes 135); evidence
# must show the code the broker actually sent, so map the names back to the 3.1.1 table.
_V3_CONNACK = {"Success": 0, "Unsupported protocol version": 1, "Client identifier not valid": 2,
               "Server unavailable": 3, "Bad user name or password": 4, "Not authorized": 5}
_SHOW_LIMIT = 512
OUTCOMES = ("ok", "rejected", "timeout", "error")


class MqttLinkError(LinkError):
    """The MQTT link failed on the lab side (broker unreachable, our login refused, TLS to the lab
    broker failed, connection lost): the device was not judged."""


class MqttTimeout(ExpectTimeout):
    """No expected message within the timeout. Not a lab fault by itself: the procedure decides."""


@dataclass
class MqttMessage:
    topic: str
    payload: bytes
    qos: int
    retain: bool
    t: float  # wall clock (epoch s) when the link received it
    seq: int = 0
    groups: dict[str, str | None] = field(default_factory=dict)  # named groups of the payload match

    @property
    def text(self) -> str:
        return self.payload.decode("utf-8", errors="replace")


@dataclass
class ConnectResult:
    """One CONNECT attempt. ``reason_code`` is the CONNACK code as sent on the wire for the
    protocol used (3.1.1: 0-5; 5: the reason code), None when no CONNACK came."""

    outcome: str  # ok | rejected | timeout | error
    reason_code: int | None = None
    reason: str = ""
    tls_error: str | None = None
    protocol: str = "3.1.1"
    username: str | None = None
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def show_payload(payload: bytes, limit: int = _SHOW_LIMIT) -> str:
    """A payload as one line of text: UTF-8 as text (newlines escaped), anything else as hex."""
    try:
        text = payload.decode("utf-8")
        shown = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    except UnicodeDecodeError:
        shown = "hex:" + payload.hex()
    if len(shown) > limit:
        shown = shown[:limit] + f"… ({len(payload)} bytes)"
    return shown


def parse_url(url: str) -> tuple[bool, str, int]:
    """``mqtt://host[:port]`` or ``mqtts://host[:port]`` → (tls, host, port)."""
    parts = urlsplit(url)
    if parts.scheme not in _DEFAULT_PORT or not parts.hostname:
        raise MqttLinkError(f"not an MQTT URL (mqtt://host:port or mqtts://host:port): {url!r}")
    if parts.username or parts.password:
        raise MqttLinkError("put MQTT credentials in username/password, not in the URL (it is logged)")
    try:
        port = parts.port or _DEFAULT_PORT[parts.scheme]
    except ValueError as exc:
        raise MqttLinkError(f"bad port in {url!r}: {exc}") from None
    return parts.scheme == "mqtts", parts.hostname, port


def filter_covers(subscription: str, wanted: str) -> bool:
    """Whether every topic ``wanted`` matches is also matched by ``subscription``."""
    sub, want = subscription.split("/"), wanted.split("/")
    for i, level in enumerate(sub):
        if level == "#":
            return True
        if i >= len(want) or want[i] == "#":
            return False
        if level != "+" and level != want[i]:
            return False
    return len(sub) == len(want)


def _wire_code(code: ReasonCode, protocol: str) -> int | None:
    if protocol == "5":
        return int(code.value)
    return _V3_CONNACK.get(code.getName())


class _NamedContext(ssl.SSLContext):
    """Verifies the server against the name the profile gave while paho connects to the address
    the scope guard resolved (one lookup, no second resolution to race)."""

    server_name: str | None = None

    def wrap_socket(self, sock: socket.socket, *args: Any, server_hostname: str | None = None,
                    **kwargs: Any) -> ssl.SSLSocket:
        return super().wrap_socket(sock, *args, server_hostname=self.server_name or server_hostname, **kwargs)


class _Inbox:
    """Received messages not yet expected, in arrival order, bounded (oldest dropped first).

    Each expect scans only the messages that arrived since its last look (bisect on the sequence
    number), so waiting costs time linear in the traffic, not quadratic."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.items: list[MqttMessage] = []
        self.dropped = 0
        self._next = 0

    def append(self, msg: MqttMessage) -> None:
        msg.seq = self._next
        self._next += 1
        self.items.append(msg)
        if len(self.items) > self.limit:
            excess = len(self.items) - self.limit
            del self.items[:excess]
            self.dropped += excess

    @property
    def last_seq(self) -> int:
        return self._next - 1

    def since(self, seq: int) -> list[MqttMessage]:
        return self.items[bisect.bisect_right(self.items, seq, key=lambda m: m.seq):]

    def remove(self, seqs: set[int]) -> None:
        if seqs:
            self.items = [m for m in self.items if m.seq not in seqs]


_Pattern = tuple[str, "re.Pattern[str] | None"]


class _Session:
    """State of one paho client, filled by its callbacks under the link's condition."""

    def __init__(self, cond: threading.Condition) -> None:
        self.cond = cond
        self.connack: ReasonCode | None = None
        self.closed = False
        self.close_reason = ""
        self.subacks: dict[int, list[ReasonCode]] = {}
        self.published: set[int] = set()

    @property
    def up(self) -> bool:
        return self.connack is not None and not self.connack.is_failure and not self.closed


class MqttLink:
    kind = "mqtt"

    def __init__(self, name: str, *, url: str, username: str | None = None, password: str | None = None,
                 ca: str | Path | None = None, client_id: str | None = None, timeout: float = 10.0,
                 keepalive: int = 30, transcript_dir: str | Path | None = None, scope: Scope | None = None,
                 protocol: str = "3.1.1", verify: bool = True, certfile: str | Path | None = None,
                 keyfile: str | Path | None = None, subscriptions: Iterable[str] = (), max_queue: int = 1000,
                 guard: Scope | None = None, **_: Any) -> None:
        if protocol not in PROTOCOLS:
            raise MqttLinkError(f"MQTT protocol must be one of {sorted(PROTOCOLS)}, not {protocol!r}")
        self.name = name
        self.url = url
        self.tls, self.host, self.port = parse_url(url)
        self.username = username
        self.password = password
        if password:
            REDACTOR.add(password, f"{name} MQTT password")
        self.ca = str(ca) if ca else None
        self.verify = verify
        self.certfile = str(certfile) if certfile else None
        self.keyfile = str(keyfile) if keyfile else None
        self.client_id = client_id or f"harness-{name}-{secrets.token_hex(3)}"
        self.timeout = timeout
        self.keepalive = keepalive
        # `guard`: the bench's scope handed over with the link's settings (Bench.mqtt_settings) when
        # the caller passes no scope of its own.
        self.scope = scope if scope is not None else guard
        self.protocol = protocol
        self.initial_subscriptions = list(subscriptions)
        self.transcript = Transcript(name, transcript_dir)
        self._cond = threading.Condition()
        self._inbox = _Inbox(max_queue)
        self._listeners: list[Callable[[MqttMessage], None]] = []
        self._disconnect_listeners: list[Callable[[str], None]] = []
        self._client: paho.Client | None = None
        self._session: _Session | None = None
        self.subscriptions: dict[str, int] = {}  # topic filter -> granted QoS
        self._closed = False

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self) -> MqttLink:
        """Connect now (and subscribe the configured filters); MqttLinkError if that fails."""
        if self._closed:
            raise MqttLinkError(f"mqtt {self.name}: the link was closed")
        if self.connected:
            return self
        self._drop_client()
        session = _Session(self._cond)
        client = self._new_client(self.client_id, self.username, self.password, session, receive=True)
        result = self._connect(client, session, self.timeout)
        self._note_attempt(result, "link login")
        if not result.ok:
            self._stop(client)
            detail = result.tls_error or result.reason
            raise MqttLinkError(f"mqtt {self.name}: cannot log in to {self.url}: {result.outcome}: {detail}")
        self._client, self._session = client, session
        self.subscriptions.clear()
        for topic in self.initial_subscriptions:
            self.subscribe(topic)
        return self

    def close(self) -> None:
        if self._closed:
            return
        self._drop_client()
        self._closed = True
        self.transcript.note("closed")
        self.transcript.close()

    def __enter__(self) -> MqttLink:
        return self.open()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def connected(self) -> bool:
        with self._cond:
            return self._session is not None and self._session.up

    @property
    def dropped(self) -> int:
        """Messages dropped from the inbox because nobody expected them before it filled."""
        return self._inbox.dropped

    def add_listener(self, listener: Callable[[MqttMessage], None]) -> None:
        """Also hand every received message to ``listener`` (called on paho's network thread)."""
        self._listeners.append(listener)

    def add_disconnect_listener(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(reason)`` when the link's connection ends (on paho's network thread)."""
        self._disconnect_listeners.append(listener)

    # -- probing credentials -----------------------------------------------------------------
    def connect_attempt(self, username: str | None = None, password: str | None = None, *,
                        timeout: float | None = None, client_id: str | None = None,
                        protocol: str | None = None) -> ConnectResult:
        """One CONNECT with a fresh client (no retries), then a clean disconnect. The password is
        never written anywhere; the transcript says only whether one was given."""
        protocol = protocol or self.protocol
        session = _Session(threading.Condition())
        client = self._new_client(client_id or f"harness-probe-{secrets.token_hex(3)}", username, password,
                                  session, receive=False, protocol=protocol)
        result = self._connect(client, session, self.timeout if timeout is None else timeout, protocol)
        result.username = username
        self._stop(client)
        self._note_attempt(result, f"attempt as {username!r} ({'with' if password else 'no'} password)")
        return result

    # -- messages ----------------------------------------------------------------------------
    def subscribe(self, topic: str, qos: int = 0, *, timeout: float | None = None,
                  retain_as_published: bool = False) -> int:
        """Subscribe and wait for the SUBACK; returns the granted QoS. A refused subscription is an
        MqttLinkError (what was asked for cannot be observed). ``retain_as_published`` (MQTT 5)
        keeps the publisher's retain flag on forwarded messages, which capture needs."""
        client, session = self._require()
        try:
            if retain_as_published:
                if self.protocol != "5":
                    raise MqttLinkError(f"mqtt {self.name}: retain-as-published needs protocol 5")
                rc, mid = client.subscribe((topic, SubscribeOptions(qos=qos, retainAsPublished=True)))
            else:
                rc, mid = client.subscribe(topic, qos)
        except ValueError as exc:  # an empty topic or a bad QoS: the profile's mistake, not the device's
            raise MqttLinkError(f"mqtt {self.name}: cannot subscribe to {topic!r}: {exc}") from None
        if rc != MQTTErrorCode.MQTT_ERR_SUCCESS or mid is None:
            raise MqttLinkError(f"mqtt {self.name}: cannot subscribe to {topic!r}: {paho.error_string(rc)}")
        wait = self.timeout if timeout is None else timeout
        with self._cond:
            self._cond.wait_for(lambda: mid in session.subacks or session.closed, wait)
            codes = session.subacks.pop(mid, None)
        if codes is None:
            raise self._lost(session) if session.closed else MqttLinkError(
                f"mqtt {self.name}: no SUBACK for {topic!r} within {wait:g} s")
        code = codes[0]
        if code.is_failure:
            self.transcript.note(f"SUBSCRIBE {topic} refused: {code}")
            raise MqttLinkError(f"mqtt {self.name}: the broker refused the subscription to {topic!r}: {code}")
        granted = int(code.value)
        self.subscriptions[topic] = granted
        self.transcript.note(f"subscribed {topic} (QoS {granted})")
        return granted

    def publish(self, topic: str, payload: str | bytes = b"", qos: int = 0, retain: bool = False, *,
                timeout: float | None = None, secret: bool = False) -> None:
        """Publish and wait until it is done for its QoS (0: written; 1: PUBACK; 2: PUBCOMP).
        ``secret`` keeps the payload out of the transcript (e.g. a command carrying a password)."""
        client, session = self._require()
        data = payload.encode("utf-8") if isinstance(payload, str) else bytes(payload)
        shown = "«secret payload»" if secret else show_payload(data)
        self.transcript.sent(f"PUBLISH {topic} [q{qos}{' retain' if retain else ''}] {shown}")
        try:
            info = client.publish(topic, data, qos, retain)
        except ValueError as exc:  # wildcard or empty topic, bad QoS, oversized payload
            raise MqttLinkError(f"mqtt {self.name}: cannot publish to {topic!r}: {exc}") from None
        if info.rc != MQTTErrorCode.MQTT_ERR_SUCCESS:
            raise MqttLinkError(f"mqtt {self.name}: cannot publish to {topic!r}: {paho.error_string(info.rc)}")
        wait = self.timeout if timeout is None else timeout
        with self._cond:
            done = self._cond.wait_for(lambda: info.mid in session.published or session.closed, wait)
            session.published.discard(info.mid)
            closed = session.closed
        if closed and not done:
            raise self._lost(session)
        if not done:
            what = {0: "sending", 1: "PUBACK", 2: "PUBCOMP"}.get(qos, "acknowledgement")
            raise MqttLinkError(f"mqtt {self.name}: no {what} for {topic!r} within {wait:g} s")

    def expect(self, topic_filter: str, payload_regex: str | re.Pattern[str] | None = None, *,
               timeout: float | None = None) -> MqttMessage:
        """The next message on ``topic_filter`` whose payload matches (re.search) ``payload_regex``."""
        _, msg, _ = self.expect_any({"ok": (topic_filter, payload_regex)}, timeout)
        return msg

    def expect_any(self, patterns: Mapping[str, tuple[str, str | re.Pattern[str] | None] | str],
                   timeout: float | None = None) -> tuple[str, MqttMessage, dict[str, str | None]]:
        """Wait for the earliest message matching one of several named (topic filter, payload
        regex) pairs; returns (name, message, named groups). A matched message is consumed, and so
        are the earlier ones on the same filters that did not match (they were passed over, as
        console output before a prompt is). Raises MqttTimeout on silence, MqttLinkError when the
        connection is lost with nothing matching left in the inbox."""
        compiled: dict[str, _Pattern] = {}
        for name, spec in patterns.items():
            filt, regex = (spec, None) if isinstance(spec, str) else spec
            compiled[name] = (filt, re.compile(regex) if isinstance(regex, str) else regex)
        for filt, _ in compiled.values():
            if not any(filter_covers(sub, filt) for sub in self.subscriptions):
                self.transcript.note(f"subscribing {filt} on expect: messages before now were not seen")
                self.subscribe(filt)
        wait = self.timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        with self._cond:
            session = self._session
            last = -1
            while True:
                hit = self._search(self._inbox.since(last), compiled)
                if hit is not None:
                    name, msg, match = hit
                    passed = {m.seq for m in self._inbox.since(-1) if m.seq <= msg.seq and
                              any(paho.topic_matches_sub(f, m.topic) for f, _ in compiled.values())}
                    self._inbox.remove(passed)
                    msg.groups = match.groupdict() if match is not None else {}
                    return name, msg, msg.groups
                last = self._inbox.last_seq
                if session is None or session.closed:
                    raise self._lost(session)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(remaining)
            tail = [f"{m.topic} {show_payload(m.payload, 120)}" for m in self._inbox.items
                    if any(paho.topic_matches_sub(f, m.topic) for f, _ in compiled.values())][-5:]
        described = [f"{f}" + (f" ~ /{r.pattern}/" if r is not None else "") for f, r in compiled.values()]
        self.transcript.note(f"timeout after {wait:g} s waiting for {described}")
        raise MqttTimeout(described, wait, "\n".join(tail))

    def command(self, topic: str, payload: str | bytes, *, reply: str, payload_regex: str | None = None,
                qos: int = 0, retain: bool = False, timeout: float | None = None,
                secret: bool = False) -> MqttMessage:
        """Publish a command and wait for its reply: subscribes to ``reply`` first (so a fast reply
        is not missed) and forgets stale replies already queued."""
        if not any(filter_covers(sub, reply) for sub in self.subscriptions):
            self.subscribe(reply, qos)
        self.drain(reply)
        self.publish(topic, payload, qos, retain, timeout=timeout, secret=secret)
        return self.expect(reply, payload_regex, timeout=timeout)

    def drain(self, topic_filter: str | None = None) -> list[MqttMessage]:
        """Forget (and return) queued messages, all or those on one filter, without waiting."""
        with self._cond:
            gone = [m for m in self._inbox.items
                    if topic_filter is None or paho.topic_matches_sub(topic_filter, m.topic)]
            self._inbox.remove({m.seq for m in gone})
        return gone

    # -- internals ---------------------------------------------------------------------------
    @staticmethod
    def _search(messages: list[MqttMessage], compiled: dict[str, _Pattern]
                ) -> tuple[str, MqttMessage, re.Match[str] | None] | None:
        for msg in messages:
            for name, (filt, regex) in compiled.items():
                if not paho.topic_matches_sub(filt, msg.topic):
                    continue
                if regex is None:
                    return name, msg, None
                match = regex.search(msg.text)
                if match is not None:
                    return name, msg, match
        return None

    def _require(self) -> tuple[paho.Client, _Session]:
        with self._cond:
            client, session = self._client, self._session
            if client is None or session is None:
                raise MqttLinkError(f"mqtt {self.name} is not open")
            if session.closed:
                raise self._lost(session)
            return client, session

    def _lost(self, session: _Session | None) -> MqttLinkError:
        reason = session.close_reason if session is not None else "never connected"
        self.transcript.note(f"connection lost: {reason}")
        return MqttLinkError(f"mqtt {self.name}: connection to {self.url} lost ({reason})")

    def _target(self) -> str:
        # Scope first: nothing leaves before the destination is declared. A scope with per-port
        # rules (check_target) also judges the broker's port; a plain one only its host.
        if self.scope is None:
            return self.host
        check_target = getattr(self.scope, "check_target", None)
        return check_target(self.host, self.port) if check_target else self.scope.check_host(self.host)

    def _tls_context(self) -> ssl.SSLContext:
        ctx = _NamedContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.server_name = self.host
        try:
            if self.ca:
                ctx.load_verify_locations(cafile=self.ca)
            else:
                ctx.load_default_certs()
            if self.certfile:
                ctx.load_cert_chain(self.certfile, self.keyfile)
        except (OSError, ssl.SSLError) as exc:
            raise MqttLinkError(f"mqtt {self.name}: cannot load TLS material: {exc}") from exc
        if not self.verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def _new_client(self, client_id: str, username: str | None, password: str | None, session: _Session,
                    *, receive: bool, protocol: str | None = None) -> paho.Client:
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                             protocol=PROTOCOLS[protocol or self.protocol], reconnect_on_failure=False)
        client.connect_timeout = self.timeout
        if username is not None:
            client.username_pw_set(username, password)
        if self.tls:
            client.tls_set_context(self._tls_context())
            if not self.verify:
                client.tls_insecure_set(True)
        cond = session.cond

        # paho runs callbacks on its network thread and, by default, lets an exception there kill
        # that thread: every callback here is exception-free by construction.
        def on_connect(_c: Any, _u: Any, _flags: Any, reason: ReasonCode, _p: Any) -> None:
            with cond:
                session.connack = reason
                cond.notify_all()

        def on_disconnect(_c: Any, _u: Any, _flags: Any, reason: ReasonCode, _p: Any) -> None:
            with cond:
                session.closed = True
                session.close_reason = str(reason)
                cond.notify_all()
            for listener in self._disconnect_listeners if receive else ():
                try:
                    listener(str(reason))
                except Exception as exc:  # noqa: BLE001 (a listener bug must not kill paho's thread)
                    self.transcript.note(f"disconnect listener failed: {type(exc).__name__}: {exc}")

        def on_subscribe(_c: Any, _u: Any, mid: int, codes: list[ReasonCode], _p: Any) -> None:
            with cond:
                session.subacks[mid] = list(codes)
                cond.notify_all()

        def on_publish(_c: Any, _u: Any, mid: int, _reason: Any, _p: Any) -> None:
            with cond:
                session.published.add(mid)
                cond.notify_all()

        client.on_connect = on_connect
        client.on_disconnect = on_disconnect
        client.on_subscribe = on_subscribe
        client.on_publish = on_publish
        if receive:
            client.on_message = self._on_message
        return client

    def _on_message(self, _client: Any, _userdata: Any, raw: paho.MQTTMessage) -> None:
        try:
            topic = raw.topic
        except UnicodeDecodeError:  # a device may send anything; keep it visible, not fatal
            topic = bytes(raw._topic).decode("utf-8", errors="replace")
        msg = MqttMessage(topic, bytes(raw.payload), int(raw.qos), bool(raw.retain), time.time())
        self.transcript.received(f"{topic} [q{msg.qos}{' retain' if msg.retain else ''}] "
                                 f"{show_payload(msg.payload)}\n")
        for listener in self._listeners:
            try:
                listener(msg)
            except Exception as exc:  # noqa: BLE001 (a listener bug must not kill paho's thread)
                self.transcript.note(f"message listener failed: {type(exc).__name__}: {exc}")
        if self._inbox.limit > 0:
            with self._cond:
                self._inbox.append(msg)
                self._cond.notify_all()

    def _connect(self, client: paho.Client, session: _Session, timeout: float,
                 protocol: str | None = None) -> ConnectResult:
        protocol = protocol or self.protocol
        started = time.monotonic()

        def result(outcome: str, **kw: Any) -> ConnectResult:
            return ConnectResult(outcome, protocol=protocol, duration_s=time.monotonic() - started, **kw)

        address = self._target()
        client.connect_timeout = timeout
        try:
            client.connect(address, self.port, self.keepalive)
        except ssl.SSLCertVerificationError as exc:
            return result("error", reason="TLS: the server certificate was not accepted",
                          tls_error=exc.verify_message or str(exc))
        except ssl.SSLError as exc:
            return result("error", reason="TLS handshake failed", tls_error=exc.reason or str(exc))
        except TimeoutError:
            return result("timeout", reason=f"no TCP/TLS connection within {timeout:g} s")
        except OSError as exc:
            return result("error", reason=f"{type(exc).__name__}: {exc.strerror or exc}")
        client.loop_start()
        remaining = max(0.0, timeout - (time.monotonic() - started))
        with session.cond:
            session.cond.wait_for(lambda: session.connack is not None or session.closed, remaining)
            connack, closed, why = session.connack, session.closed, session.close_reason
        if connack is not None:
            code = _wire_code(connack, protocol)
            return result("rejected" if connack.is_failure else "ok", reason_code=code, reason=str(connack))
        if closed:
            return result("error", reason=f"connection closed before CONNACK ({why})")
        return result("timeout", reason=f"no CONNACK within {timeout:g} s")

    def _note_attempt(self, result: ConnectResult, what: str) -> None:
        code = "" if result.reason_code is None else f" {result.reason_code}"
        tls = f" TLS: {result.tls_error}" if result.tls_error else ""
        self.transcript.note(f"CONNECT {self.url} {what} (MQTT {result.protocol}) → {result.outcome}{code} "
                             f"{result.reason}{tls} [{result.duration_s:.3f} s]")

    def _stop(self, client: paho.Client) -> None:
        # disconnect() also wakes paho's network thread out of its select(), so loop_stop() returns
        # at once instead of after paho's 1 s loop timeout; on a dead socket it is a no-op.
        client.disconnect()
        client.loop_stop()
        try:
            sock = client.socket()
            if sock is not None:
                sock.close()
        except OSError:
            pass

    def _drop_client(self) -> None:
        with self._cond:
            client = self._client
            self._client = self._session = None
        if client is not None:
            self._stop(client)


__all__ = ["ConnectResult", "MqttLink", "MqttLinkError", "MqttMessage", "MqttTimeout", "OUTCOMES",
           "filter_covers", "parse_url", "show_payload"]
