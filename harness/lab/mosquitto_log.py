"""Read Mosquitto 2.0 log lines into events: who connected, who was refused, which TLS handshake
failed, what was published.

Mosquitto has no machine-readable log; these are the lines of 2.0.x with ``log_type all`` and
``connection_messages true`` (checked against 2.0.11). A line the parser does not know is simply
not an event: the full log is kept as evidence anyway. Some facts span lines (a refused client is
"<unknown>" in the disconnect line; its address is in the CONNACK line before it), so the parser
keeps a little state per broker instance — Mosquitto handles one connection's packet completely
before the next, which makes "the line just before" reliable for these pairs.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass

# Event kinds, in the order a client usually produces them.
CONNECTION = "connection"  # TCP accepted (before TLS and CONNECT)
TLS_FAILURE = "tls_failure"  # TLS handshake failed (unknown CA, verify failed, protocol mismatch)
CONNACK = "connack"  # the broker answered CONNECT; detail is the reason code as sent
CONNECTED = "connected"  # CONNECT accepted
NOT_AUTHORISED = "not_authorised"  # CONNECT refused for bad or missing credentials
SUBSCRIBE = "subscribe"
PUBLISH = "publish"  # a client published (detail: "q1 r0 5 bytes")
DISCONNECTED = "disconnected"
READY = "ready"  # the broker opened its listeners
RELOAD = "reload"  # SIGHUP received: config and password file are being re-read
ERROR = "error"
WARNING = "warning"

_STAMP = re.compile(r"^(\d+): (.*)$")
_RULES: list[tuple[str, re.Pattern[str]]] = [
    (CONNECTION, re.compile(r"^New connection from (?P<address>\S+) on port (?P<port>\d+)\.$")),
    (CONNECTED, re.compile(r"^New client connected from (?P<address>\S+) as (?P<client_id>.*) "
                           r"\((?P<flags>p\d+, c\d+, k\d+)(?:, u'(?P<username>.*)')?\)\.$")),
    (CONNACK, re.compile(r"^Sending CONNACK to (?P<client_id>.*) \(\d+, (?P<detail>\d+)\)$")),
    (NOT_AUTHORISED, re.compile(r"^Client (?P<client_id>.*) disconnected, not authori[sz]ed\.$")),
    (TLS_FAILURE, re.compile(r"^Client connection from (?P<address>\S+) failed: (?P<detail>.*?)\.?$")),
    (TLS_FAILURE, re.compile(r"^OpenSSL Error\[\d+\]: (?P<detail>.*)$")),
    (PUBLISH, re.compile(r"^Received PUBLISH from (?P<client_id>.*) \(d\d, q(?P<qos>\d), r(?P<retain>\d), "
                         r"m\d+, '(?P<topic>.*)', \.\.\. \((?P<size>\d+) bytes\)\)$")),
    (SUBSCRIBE, re.compile(r"^Received SUBSCRIBE from (?P<client_id>.*)$")),
    (DISCONNECTED, re.compile(r"^Client (?P<client_id>.*?) (?:disconnected(?:: (?P<detail>.*?))?|"
                              r"closed its connection|has exceeded timeout, disconnecting)\.$")),
    (DISCONNECTED, re.compile(r"^Socket error on client (?P<client_id>.*), disconnecting\.$")),
    (READY, re.compile(r"^mosquitto version (?P<detail>\S+) running$")),
    (RELOAD, re.compile(r"^Reloading config\.$")),
    (ERROR, re.compile(r"^Error: (?P<detail>.*)$")),
    (WARNING, re.compile(r"^Warning: (?P<detail>.*)$")),
]
_UNKNOWN = "<unknown>"


@dataclass(frozen=True)
class BrokerEvent:
    kind: str
    transport: str  # the broker instance: plain | tls | rogue
    t: float  # wall clock (epoch s) when the harness read the line; Mosquitto stamps whole seconds
    line: str  # the log line as written to the evidence log (redacted)
    client_id: str | None = None
    username: str | None = None
    address: str | None = None  # peer "ip:port" or "ip" as Mosquitto printed it
    detail: str | None = None
    seq: int = 0  # order within its instance

    def to_dict(self) -> dict[str, object]:
        return {k: v for k, v in self.__dict__.items() if v is not None}


class MosquittoLogParser:
    """One per broker instance (the multi-line facts need that instance's previous lines)."""

    def __init__(self, transport: str) -> None:
        self.transport = transport
        self._last_connection: str | None = None  # address of the latest accepted TCP connection
        self._last_connack_to: str | None = None
        self._subscriber: str | None = None  # client whose SUBSCRIBE topic lines follow
        self._seq = 0

    def parse(self, line: str, t: float | None = None) -> BrokerEvent | None:
        m = _STAMP.match(line)
        message = m.group(2) if m else line
        t = time.time() if t is None else t
        if message.startswith("\t") and self._subscriber is not None:
            topic, _, qos = message.strip().rpartition(" (QoS ")
            return self._event(SUBSCRIBE, t, line, client_id=self._subscriber, detail=f"{topic} q{qos.rstrip(')')}")
        self._subscriber = None
        for kind, rule in _RULES:
            r = rule.match(message)
            if r is None:
                continue
            g = {k: v for k, v in r.groupdict().items() if v is not None}
            if kind == CONNECTION:
                self._last_connection = g["address"]
                return self._event(kind, t, line, address=g["address"], detail=f"port {g['port']}")
            if kind == CONNACK:
                self._last_connack_to = g["client_id"]
                return self._event(kind, t, line, client_id=g["client_id"], detail=g["detail"])
            if kind == NOT_AUTHORISED:
                # Refused before it had an identity: Mosquitto named the address in the CONNACK line.
                who = g["client_id"]
                address = self._last_connack_to if who == _UNKNOWN else None
                return self._event(kind, t, line, client_id=None if who == _UNKNOWN else who,
                                   address=address or self._last_connection)
            if kind == TLS_FAILURE:
                return self._event(kind, t, line, address=g.get("address") or self._last_connection,
                                   detail=g["detail"])
            if kind == PUBLISH:
                return self._event(kind, t, line, client_id=g["client_id"],
                                   detail=f"{g['topic']} q{g['qos']} r{g['retain']} {g['size']} bytes")
            if kind == SUBSCRIBE:
                self._subscriber = g["client_id"]
                return None  # one event per topic line that follows
            if kind == DISCONNECTED and g.get("client_id") == _UNKNOWN:
                g.pop("client_id")
            return self._event(kind, t, line, **g)
        return None

    def _event(self, kind: str, t: float, line: str, **fields: str | None) -> BrokerEvent:
        self._seq += 1
        known = {k: fields.get(k) for k in ("client_id", "username", "address", "detail")}
        return BrokerEvent(kind, self.transport, t, line, seq=self._seq, **known)
