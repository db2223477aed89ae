"""What a packet capture shows about one unit: its TCP conversations, the protocol of each, and the
credentials and messages that crossed the network readable by anyone on the path.

The packets are read and the application protocols decoded with scapy's maintained dissectors
(``scapy.contrib.mqtt`` for MQTT, ``scapy.layers.http`` for HTTP/1.x, ``scapy.layers.tls`` for the
ClientHello); only the TCP byte streams are put back together here (in sequence order, each byte
once), because an MQTT CONNECT or an HTTP request may span segments. Telnet has no dissector in
scapy: a telnet conversation is recognised by its port or its option negotiation (IAC) and judged
by the prompts the server sent, which is what a person on the path would read too.

The facts never carry a secret's value: a finding names the field ("MQTT CONNECT password") and the
conversation. The values are handed to the redactor so that they cannot leak anywhere else.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from harness.redact import REDACTOR, Redactor

_MAX_STREAM = 1 << 20  # bytes kept per direction of a conversation
_MAX_PACKETS = 200_000
_MAX_MESSAGES = 10_000  # protocol messages decoded per conversation
_HTTP_METHODS = (b"GET ", b"POST ", b"PUT ", b"DELETE ", b"PATCH ", b"HEAD ", b"OPTIONS ")
# Names of query, form and JSON fields that carry credentials or keys, whatever their value.
CREDENTIAL_NAMES = re.compile(r"^(user(name)?|login|pass(word|wd|phrase)?|pwd|psk|secret|token|access[_-]?token|"
                              r"api[_-]?key|key|auth|credential|session|sid)$", re.I)
_TELNET_USER = re.compile(rb"\b(login|user ?name)\s*:", re.I)
_TELNET_PASSWORD = re.compile(rb"\bpassword\s*:", re.I)
TELNET_PORTS = (23, 2323)
MARKER = b"harness-capture-marker-"


@dataclass(frozen=True)
class Credential:
    """A credential or session secret seen in clear: the field, never the value."""

    field: str  # e.g. "MQTT CONNECT password", "HTTP Authorization header (Basic)"
    sender: str  # "the unit" or "the peer" (who sent it)


@dataclass(frozen=True)
class WireMessage:
    """An application message carried in clear (an MQTT PUBLISH, an HTTP request or response body)."""

    protocol: str
    topic: str  # MQTT topic, or "METHOD path" for HTTP
    payload: str
    sender: str


@dataclass
class Conversation:
    """One TCP conversation of the unit."""

    client: str  # "address:port"
    server: str
    unit_is_client: bool
    protocol: str = "unknown"  # TLS | SSH | MQTT | HTTP | telnet | unknown | empty
    detail: str = ""
    packets: int = 0
    bytes_client: int = 0
    bytes_server: int = 0
    credentials: list[Credential] = field(default_factory=list)
    messages: list[WireMessage] = field(default_factory=list)
    # The readable bytes of a plaintext conversation, to look for planted values in; never in evidence.
    plaintext: bytes = field(default=b"", repr=False)

    @property
    def encrypted(self) -> bool:
        return self.protocol in ("TLS", "SSH")

    @property
    def name(self) -> str:
        return f"{self.client} → {self.server}"

    def to_dict(self) -> dict[str, Any]:
        return {"conversation": self.name, "initiator": "unit" if self.unit_is_client else "peer",
                "protocol": self.protocol, "detail": self.detail, "packets": self.packets,
                "bytes": self.bytes_client + self.bytes_server,
                "credentials in clear": ", ".join(sorted({c.field for c in self.credentials})) or "-"}


@dataclass
class WireFacts:
    """Everything the capture showed about one unit."""

    unit: str
    packets: int = 0  # packets to or from the unit
    conversations: list[Conversation] = field(default_factory=list)
    other: dict[str, int] = field(default_factory=dict)  # packets that were not TCP, by protocol

    def rows(self) -> list[dict[str, Any]]:
        return [c.to_dict() for c in self.conversations]


class _Stream:
    """One direction of a TCP conversation, rebuilt from its segments by sequence number."""

    def __init__(self) -> None:
        self.segments: dict[int, bytes] = {}
        self.size = 0

    def add(self, seq: int, data: bytes) -> None:
        if data and seq not in self.segments and self.size < _MAX_STREAM:
            self.segments[seq] = data
            self.size += len(data)

    def bytes(self) -> bytes:
        if not self.segments:
            return b""
        out = bytearray()
        base = min(self.segments)
        end = base
        for seq in sorted(self.segments):
            data = self.segments[seq]
            offset = (seq - base) % (1 << 32)
            if offset + len(data) <= len(out):
                continue  # a retransmission of bytes we have
            out += data[max(0, end - base - offset):] if offset < len(out) else data
            end = base + len(out)
        return bytes(out[:_MAX_STREAM])


_USER_NAMES = re.compile(r"^(user(name)?|login)$", re.I)
_MIN_SECRET = 4  # shorter values ("1", "on") would blank out ordinary words all over the report


def _hide(redactor: Redactor, value: str, name: str, field: str = "") -> None:
    """Register a value seen in clear with the redactor: not user names, not trivially short ones."""
    if len(value) >= _MIN_SECRET and not _USER_NAMES.match(field):
        redactor.add(value, name)


def _endpoint(addr: str, port: int) -> str:
    return f"[{addr}]:{port}" if ":" in addr else f"{addr}:{port}"


def read_capture(path: str | Path, unit_address: str, *, redactor: Redactor = REDACTOR,
                 telnet_ports: Iterable[int] = ()) -> WireFacts:
    """Read a pcap file and describe the unit's conversations (``telnet_ports``: ports the profile
    declares telnet on, besides 23 and 2323)."""
    import scapy.layers.inet  # noqa: F401  (registers the link and network layers PcapReader decodes)
    import scapy.layers.inet6  # noqa: F401
    import scapy.layers.l2  # noqa: F401
    from scapy.utils import PcapReader

    packets: list[Any] = []
    try:
        with PcapReader(str(path)) as reader:
            for i, pkt in enumerate(reader):
                if i >= _MAX_PACKETS:
                    break
                packets.append(pkt)
    except EOFError:
        pass  # a capture cut in the middle of its last packet: what came before stands
    return describe(packets, unit_address, redactor=redactor, telnet_ports=telnet_ports)


def describe(packets: Iterable[Any], unit_address: str, *, redactor: Redactor = REDACTOR,
             telnet_ports: Iterable[int] = ()) -> WireFacts:
    """The unit's conversations in ``packets`` (scapy packets), with their protocols and findings."""
    from scapy.layers.inet import IP, TCP
    from scapy.layers.inet6 import IPv6

    unit = str(ipaddress.ip_address(unit_address))
    facts = WireFacts(unit)
    flows: dict[tuple[tuple[str, int], tuple[str, int]], dict[str, Any]] = {}
    for pkt in packets:
        ip = pkt.getlayer(IP) or pkt.getlayer(IPv6)
        if ip is None:
            continue
        src, dst = str(ip.src), str(ip.dst)
        if unit not in (src, dst) or MARKER in bytes(ip.payload):
            continue  # not the unit's, or the capture's own flush marker (and the ICMP answer to it)
        facts.packets += 1
        tcp = pkt.getlayer(TCP)
        if tcp is None:
            name = ip.payload.name if ip.payload is not None else "unknown"
            facts.other[name] = facts.other.get(name, 0) + 1
            continue
        a, b = (src, int(tcp.sport)), (dst, int(tcp.dport))
        key = (a, b) if a <= b else (b, a)
        flow = flows.get(key)
        flags = int(tcp.flags)
        syn_only = bool(flags & 0x02) and not flags & 0x10
        if flow is None:
            # The sender of a bare SYN opened the conversation; without one (capture started
            # mid-conversation) the side on the lower port is taken as the server.
            if syn_only:
                client = a
            else:
                client = a if a[1] > b[1] else b
            flow = flows[key] = {"client": client, "streams": {a: _Stream(), b: _Stream()}, "packets": 0}
        elif syn_only:
            flow["client"] = a
        flow["packets"] += 1
        data = bytes(tcp.payload)
        if data:
            flow["streams"][a].add(int(tcp.seq), data)
    for flow in flows.values():
        client = flow["client"]
        server = next(ep for ep in flow["streams"] if ep != client) if len(flow["streams"]) > 1 else client
        conv = Conversation(_endpoint(*client), _endpoint(*server), unit_is_client=client[0] == unit,
                            packets=flow["packets"])
        up = flow["streams"][client].bytes()
        down = flow["streams"][server].bytes() if server != client else b""
        conv.bytes_client, conv.bytes_server = len(up), len(down)
        _classify(conv, up, down, server[1], redactor, (*TELNET_PORTS, *telnet_ports))
        facts.conversations.append(conv)
    facts.conversations.sort(key=lambda c: (c.server, c.client))
    return facts


def _sender(conv: Conversation, from_client: bool) -> str:
    return "the unit" if conv.unit_is_client == from_client else "the peer"


def _classify(conv: Conversation, up: bytes, down: bytes, server_port: int, redactor: Redactor,
              telnet_ports: tuple[int, ...] = TELNET_PORTS) -> None:
    if not up and not down:
        conv.protocol = "empty"
        conv.detail = "no payload (connection attempt only)"
        return
    if up[:1] == b"\x16" and up[1:2] == b"\x03":
        conv.protocol = "TLS"
        conv.detail = _tls_detail(up)
        return
    if _tls_record(up) or _tls_record(down):
        conv.protocol = "TLS"
        conv.detail = "TLS records (the capture began after the handshake)"
        return
    if up.startswith(b"SSH-") or down.startswith(b"SSH-"):
        conv.protocol = "SSH"
        banner = (down if down.startswith(b"SSH-") else up).split(b"\r\n", 1)[0][:80]
        conv.detail = banner.decode("ascii", errors="replace")
        return
    conv.plaintext = up + b"\n" + down
    if _looks_mqtt(up):
        conv.protocol = "MQTT"
        _mqtt(conv, up, from_client=True, redactor=redactor)
        _mqtt(conv, down, from_client=False, redactor=redactor)
        return
    if _mqtt_frames(up) and (not down or _mqtt_frames(down)):
        conv.protocol = "MQTT"
        conv.detail = "plaintext MQTT (the capture began after the CONNECT)"
        _mqtt(conv, up, from_client=True, redactor=redactor)
        _mqtt(conv, down, from_client=False, redactor=redactor)
        return
    if up.startswith(_HTTP_METHODS):
        conv.protocol = "HTTP"
        _http(conv, up, down, redactor)
        return
    if server_port in telnet_ports or up[:1] == b"\xff" or down[:1] == b"\xff":
        conv.protocol = "telnet"
        _telnet(conv, up, down)
        return
    conv.detail = "unrecognised plaintext" if _mostly_text(up + down) else "unrecognised binary"


def _tls_record(data: bytes) -> bool:
    """A TLS record header: content type 20-23, version 3.1-3.4 (3.3 on the wire for TLS 1.3)."""
    return len(data) >= 5 and 20 <= data[0] <= 23 and data[1] == 3 and 1 <= data[2] <= 4


def _mostly_text(data: bytes) -> bool:
    sample = data[:4096]
    return bool(sample) and sum(32 <= c < 127 or c in (9, 10, 13) for c in sample) > 0.9 * len(sample)


def _tls_detail(up: bytes) -> str:
    try:
        from scapy.layers.tls.handshake import TLSClientHello
        from scapy.layers.tls.record import TLS

        record = TLS(up)
        hello = record.getlayer(TLSClientHello)
        if hello is None:
            return "TLS records (no ClientHello seen)"
        versions = {0x0301: "1.0", 0x0302: "1.1", 0x0303: "1.2", 0x0304: "1.3"}
        offered = [int(hello.version)]
        sni = ""
        for ext in hello.ext or []:
            if getattr(ext, "type", None) == 43 and getattr(ext, "versions", None):  # supported_versions
                offered = [int(v) for v in ext.versions]
            if getattr(ext, "type", None) == 0 and getattr(ext, "servernames", None):
                sni = ext.servernames[0].servername.decode("ascii", errors="replace")
        names = sorted({versions.get(v, hex(v)) for v in offered if v in versions or v < 0x0a0a})
        return f"ClientHello offering TLS {', '.join(names)}" + (f", SNI {sni}" if sni else "")
    except Exception as exc:  # a dissector error must not hide that the conversation was TLS
        return f"TLS (ClientHello not decoded: {type(exc).__name__})"


def _looks_mqtt(up: bytes) -> bool:
    # A CONNECT: type 1 in the high nibble, a remaining length, then the protocol name.
    return up[:1] == b"\x10" and (b"\x00\x04MQTT" in up[:12] or b"\x00\x06MQIsdp" in up[:14])


def _split_mqtt(data: bytes) -> tuple[list[bytes], bool]:
    """The MQTT control packets of a stream, cut by their fixed headers (type, remaining length),
    and whether they cover it exactly. Cutting is done here because scapy's SUBSCRIBE swallows
    whatever follows it in one buffer; each packet is then decoded by scapy on its own."""
    packets: list[bytes] = []
    i = 0
    while i < len(data) and len(packets) < _MAX_MESSAGES:
        if not 1 <= data[i] >> 4 <= 14:
            return packets, False
        length, shift, j = 0, 0, i + 1
        while True:
            if j >= len(data) or shift > 21:
                return packets, False
            length |= (data[j] & 0x7F) << shift
            shift += 7
            j += 1
            if not data[j - 1] & 0x80:
                break
        if j + length > len(data):
            return packets, False  # cut by the capture's end
        packets.append(data[i:j + length])
        i = j + length
    return packets, i == len(data)


def _mqtt_frames(data: bytes) -> bool:
    """A stream joined after its CONNECT is MQTT when every byte of it falls into MQTT control
    packets other than CONNECT (type 2-14)."""
    packets, exact = _split_mqtt(data)
    return exact and bool(packets) and all(2 <= p[0] >> 4 <= 14 for p in packets)


def _mqtt(conv: Conversation, data: bytes, *, from_client: bool, redactor: Redactor) -> None:
    from scapy.contrib.mqtt import MQTT, MQTTConnect, MQTTPublish

    sender = _sender(conv, from_client)
    for raw in _split_mqtt(data)[0]:
        try:
            packet: Any = MQTT(raw)
        except Exception as exc:
            conv.detail = conv.detail or f"MQTT (a packet not decoded: {type(exc).__name__})"
            continue
        connect = packet.getlayer(MQTTConnect)
        publish = packet.getlayer(MQTTPublish)
        if connect is not None:
            password = bytes(connect.password or b"") if connect.passwordflag else b""
            level = {3: "3.1", 4: "3.1.1", 5: "5"}.get(int(connect.protolevel or 0), str(connect.protolevel))
            conv.detail = f"plaintext MQTT {level}"
            if connect.usernameflag:
                conv.credentials.append(Credential("MQTT CONNECT user name", sender))
            if connect.passwordflag:
                conv.credentials.append(Credential("MQTT CONNECT password", sender))
                _hide(redactor, password.decode("utf-8", errors="replace"), "password seen in an MQTT CONNECT")
            if connect.usernameflag:
                conv.detail += " with user name and password" if connect.passwordflag else " with user name"
        elif publish is not None:
            conv.messages.append(WireMessage("MQTT", bytes(publish.topic or b"").decode("utf-8", errors="replace"),
                                             bytes(publish.value or b"").decode("utf-8", errors="replace"), sender))
    if not conv.detail:
        conv.detail = "plaintext MQTT"


def _header(req: Any, name: str) -> bytes | None:
    value = getattr(req, name, None)
    return bytes(value) if value else None


def _http(conv: Conversation, up: bytes, down: bytes, redactor: Redactor) -> None:
    from scapy.layers.http import HTTPRequest, HTTPResponse

    rest, count = up, 0
    while rest.startswith(_HTTP_METHODS) and count < _MAX_MESSAGES:
        count += 1
        try:
            req = HTTPRequest(rest)
        except Exception:
            break
        method = (_header(req, "Method") or b"").decode("ascii", errors="replace")
        path = (_header(req, "Path") or b"").decode("utf-8", errors="replace")
        tail = bytes(req.payload)
        declared = (_header(req, "Content_Length") or b"").strip()
        length = int(declared) if declared.isdigit() else 0
        body, rest = tail[:length], tail[length:]
        sender = _sender(conv, True)
        auth = _header(req, "Authorization")
        if auth:
            scheme = auth.split(b" ", 1)[0].decode("ascii", errors="replace")
            conv.credentials.append(Credential(f"HTTP Authorization header ({scheme})", sender))
            _redact_http_auth(auth, redactor)
        if _header(req, "Proxy_Authorization"):
            conv.credentials.append(Credential("HTTP Proxy-Authorization header", sender))
        cookie = _header(req, "Cookie")
        if cookie:
            for name, value in _cookies(cookie):
                conv.credentials.append(Credential(f"HTTP Cookie {name!r}", sender))
                _hide(redactor, value, f"cookie {name} seen in clear")
        _, _, query = path.partition("?")
        for name, value in parse_qsl(query, keep_blank_values=True):
            if CREDENTIAL_NAMES.match(name) and value:
                conv.credentials.append(Credential(f"HTTP query parameter {name!r}", sender))
                _hide(redactor, value, f"query parameter {name} seen in clear", name)
        ctype = (_header(req, "Content_Type") or b"").decode("ascii", errors="replace").lower()
        text = body.decode("utf-8", errors="replace")
        if "x-www-form-urlencoded" in ctype:
            for name, value in parse_qsl(text, keep_blank_values=True):
                if CREDENTIAL_NAMES.match(name) and value:
                    conv.credentials.append(Credential(f"HTTP form field {name!r}", sender))
                    _hide(redactor, value, f"form field {name} seen in clear", name)
        conv.messages.append(WireMessage("HTTP", f"{method} {path.partition('?')[0]}", text, sender))
    if not conv.detail:
        conv.detail = f"plaintext HTTP, {count} request(s)"
    rest, count = down, 0
    while rest.startswith(b"HTTP/") and count < _MAX_MESSAGES:
        count += 1
        try:
            resp = HTTPResponse(rest)
        except Exception:
            break
        for line in bytes(resp)[: len(rest)].split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"set-cookie":
                cname, _, cvalue = value.strip().split(b";", 1)[0].partition(b"=")
                label = cname.decode("ascii", errors="replace")
                conv.credentials.append(Credential(f"HTTP Set-Cookie {label!r}", _sender(conv, False)))
                _hide(redactor, cvalue.decode("utf-8", errors="replace"), f"cookie {label} seen in clear")
        tail = bytes(resp.payload)
        clen = _header(resp, "Content_Length")
        length = int(clen.strip()) if clen and clen.strip().isdigit() else len(tail)
        rest = tail[length:]


def _redact_http_auth(auth: bytes, redactor: Redactor) -> None:
    import base64

    scheme, _, token = auth.partition(b" ")
    value = token.strip().decode("ascii", errors="replace")
    _hide(redactor, value, "HTTP Authorization seen in clear")
    if scheme.lower() == b"basic":
        try:
            user_pass = base64.b64decode(token.strip(), validate=True).decode("utf-8", errors="replace")
        except ValueError:
            return
        password = user_pass.partition(":")[2]
        _hide(redactor, password, "HTTP Basic password seen in clear")


def _cookies(header: bytes) -> list[tuple[str, str]]:
    out = []
    for part in header.decode("utf-8", errors="replace").split(";"):
        name, sep, value = part.strip().partition("=")
        if sep and name:
            out.append((name, value))
    return out


def _strip_iac(data: bytes) -> bytes:
    """Telnet text without its option negotiation (IAC sequences)."""
    out = bytearray()
    i = 0
    while i < len(data):
        c = data[i]
        if c == 0xFF and i + 1 < len(data):
            cmd = data[i + 1]
            if cmd == 0xFF:
                out.append(0xFF)
                i += 2
            elif cmd in (0xFB, 0xFC, 0xFD, 0xFE):
                i += 3
            elif cmd == 0xFA:  # subnegotiation up to IAC SE
                end = data.find(b"\xff\xf0", i + 2)
                i = len(data) if end < 0 else end + 2
            else:
                i += 2
        else:
            out.append(c)
            i += 1
    return bytes(out)


def _telnet(conv: Conversation, up: bytes, down: bytes) -> None:
    server_text, client_text = _strip_iac(down), _strip_iac(up)
    typed = [line for line in re.split(rb"[\r\n\x00]+", client_text) if line.strip()]
    conv.detail = "plaintext telnet"
    # The server's prompts say what the client's lines were; a person on the path reads the same.
    if _TELNET_USER.search(server_text) and typed:
        conv.credentials.append(Credential("telnet login name", _sender(conv, True)))
    if _TELNET_PASSWORD.search(server_text) and len(typed) >= (2 if _TELNET_USER.search(server_text) else 1):
        conv.credentials.append(Credential("telnet password", _sender(conv, True)))
    conv.plaintext = client_text + b"\n" + server_text
