"""5.5-7 and 5.8-2: credentials, security parameters and personal data never cross a network in
plaintext. Judged on what the lab broker captured from the device, with the transport known
(each lab broker instance is one transport)."""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass

from harness.verdict import CheckResult, Evidence

# Field names that carry security parameters whatever their value (JSON keys, key=value pairs).
_SECURITY_KEYS = re.compile(r"[\"']?(pass(word|wd|phrase)?|psk|secret|token|api[_-]?key|private[_-]?key|"
                            r"credential|auth)[\"']?\s*[:=]", re.I)


@dataclass
class Observed:
    transport: str  # plain | tls | rogue
    topic: str
    payload: str


@dataclass
class Planted:
    """A value the harness knows is sensitive: a planted Wi-Fi key, a label password, a token."""

    name: str
    value: str
    kind: str  # "security" (credential, key) or "personal"


def _variants(value: str) -> list[str]:
    raw = value.encode()
    return [value, base64.b64encode(raw).decode(), raw.hex()]


def _findings(messages: list[Observed], planted: list[Planted], kind: str) -> list[dict[str, str]]:
    out = []
    for m in messages:
        if m.transport != "plain":
            continue
        for p in planted:
            if p.kind == kind and len(p.value) >= 4 and any(v in m.payload for v in _variants(p.value)):
                out.append({"topic": m.topic, "transport": "plaintext MQTT", "carries": p.name})
        if kind == "security":
            for hit in {h.group(0).strip("\"': =") for h in _SECURITY_KEYS.finditer(m.payload)}:
                out.append({"topic": m.topic, "transport": "plaintext MQTT", "carries": f"field {hit!r}"})
    return out


def _judge(messages: list[Observed], planted: list[Planted], kind: str, what: str) -> CheckResult:
    by_transport: dict[str, int] = {}
    for m in messages:
        by_transport[m.transport] = by_transport.get(m.transport, 0) + 1
    summary = Evidence("table", "captured device traffic", [{"transport": t, "messages": n}
                                                            for t, n in sorted(by_transport.items())])
    if not messages:
        return CheckResult.inconclusive("the device published nothing the lab broker captured, so its traffic "
                                        "could not be judged", summary)
    findings = _findings(messages, planted, kind)
    if findings:
        ev = Evidence("table", f"{what} in plaintext", findings)
        where = sorted({f["topic"] for f in findings})
        return CheckResult.failed(f"{what} sent in plaintext on {', '.join(where)}", summary, ev)
    plain = by_transport.get("plain", 0)
    detail = (f"{plain} plaintext message(s) carry none" if plain else "all captured traffic used TLS")
    return CheckResult.passed(f"{len(messages)} captured message(s): {detail}", summary)


def judge_security_parameters(messages: list[Observed], planted: list[Planted]) -> CheckResult:
    """5.5-7-2: credentials and security parameters are not sent unencrypted."""
    return _judge(messages, planted, "security", "credentials or security parameters")


def judge_personal_data(messages: list[Observed], planted: list[Planted]) -> CheckResult:
    """5.8-2-2: sensitive personal data is not sent unencrypted."""
    return _judge(messages, planted, "personal", "personal data")


# --- facts from the passive capture of the unit (harness.lab.sniffer + harness.lab.dissect) ----------

PLAINTEXT_PROTOCOLS = ("MQTT", "HTTP", "telnet")
_INCOMPLETE = ("the capture was not confirmed complete (its end marker did not come through), so packets of the "
               "unit may be missing")


@dataclass
class WireCredential:
    """A credential seen in clear on the wire: which field, in which conversation, sent by whom."""

    conversation: str  # "127.91.0.1:40211 → 127.91.255.1:1883"
    protocol: str  # MQTT | HTTP | telnet
    field: str  # "MQTT CONNECT password" — the field, never the value
    sender: str  # "the unit" | "the peer"


@dataclass
class WireConversation:
    conversation: str
    protocol: str  # TLS | SSH | MQTT | HTTP | telnet | unknown | empty
    detail: str
    unit_is_client: bool
    server: str  # "address:port" of the side that accepted the connection

    @property
    def encrypted(self) -> bool:
        return self.protocol in ("TLS", "SSH")


@dataclass
class WireView:
    """What the capture of the unit showed, or why there is none (``unavailable``)."""

    conversations: list[WireConversation]
    credentials: list[WireCredential]
    unavailable: str | None = None  # the cause when the bench could not capture
    complete: bool = False  # every packet up to the end of the campaign came through


@dataclass
class BrokerLogin:
    """The lab broker's own log of the unit logging in (started-broker mode)."""

    listener: str  # plain | tls | rogue
    account: str
    connected: bool


def _wire_rows(wire: WireView) -> list[dict[str, object]]:
    return [{"conversation": c.conversation, "protocol": c.protocol, "detail": c.detail,
             "initiator": "unit" if c.unit_is_client else "peer"} for c in wire.conversations]


def _credential_rows(found: list[WireCredential]) -> list[dict[str, str]]:
    return [{"conversation": c.conversation, "protocol": f"plaintext {c.protocol}", "field": c.field,
             "sent by": c.sender} for c in found]


def _fields(found: list[WireCredential]) -> str:
    by_field: dict[str, set[str]] = {}
    for c in found:
        by_field.setdefault(c.field, set()).add(c.conversation)
    return "; ".join(f"{name} on {', '.join(sorted(convs))}" for name, convs in sorted(by_field.items()))


def judge_security_parameters_on_wire(messages: list[Observed], planted: list[Planted], wire: WireView,
                                      *, transport_known: bool, whole_cycle: bool = True) -> CheckResult:
    """5.5-7-2 with the passive capture: the broker-side judgment (``messages``, plaintext ones
    included from the capture) plus every credential the capture saw in clear.

    ``transport_known``: the broker told over which transport each message came (a started lab
    broker); with an observed broker only the capture can tell, so without one nothing PASSes."""
    creds = wire.credentials
    if creds:
        return CheckResult.failed(f"credentials sent in plaintext: {_fields(creds)}",
                                  Evidence("table", "credentials in clear (values redacted)", _credential_rows(creds)),
                                  Evidence("table", "captured conversations of the unit", _wire_rows(wire)))
    result = judge_security_parameters(messages, planted)
    return _with_wire(result, wire, transport_known, whole_cycle, "credentials or security parameters")


def judge_personal_data_on_wire(messages: list[Observed], planted: list[Planted], wire: WireView,
                                *, transport_known: bool, whole_cycle: bool = True) -> CheckResult:
    """5.8-2-2 with the passive capture (see judge_security_parameters_on_wire)."""
    return _with_wire(judge_personal_data(messages, planted), wire, transport_known, whole_cycle, "personal data")


def _with_wire(result: CheckResult, wire: WireView, transport_known: bool, whole_cycle: bool, what: str) -> CheckResult:
    """``whole_cycle``: the unit's publications were watched until one of its topics came round
    again; without that, the periodic messages that carry data may not have been seen at all."""
    if wire.unavailable is None:
        result.evidence.append(Evidence("table", "captured conversations of the unit", _wire_rows(wire)))
    if result.verdict != "PASS" or transport_known:
        return result
    if not whole_cycle:
        return CheckResult.inconclusive(f"the unit's publications were not seen over a whole cycle (no topic came "
                                        f"round again in time), so {what} it sends periodically may not have been "
                                        f"seen", *result.evidence)
    if wire.unavailable is not None:
        return CheckResult.inconclusive(f"the broker is observed, not run by the lab, so only a capture of the "
                                        f"unit's packets shows whether {what} crossed the network in clear, and "
                                        f"there is none: {wire.unavailable}", *result.evidence)
    if not wire.complete:
        return CheckResult.inconclusive(_INCOMPLETE, *result.evidence)
    plain = [c for c in wire.conversations if c.unit_is_client and c.protocol == "MQTT"]
    secure = [c for c in wire.conversations if c.unit_is_client and c.encrypted]
    if not plain and not secure:
        return CheckResult.inconclusive("the capture shows no broker connection of the unit, so the transport "
                                        "of what the observer saw is unknown", *result.evidence)
    return result


def judge_authentication_channel(wire: WireView, broker_logins: list[BrokerLogin]) -> CheckResult:
    """5.1-3-2: authentication over a channel with best-practice cryptography.

    FAIL when credentials crossed a channel without cryptography: seen in clear by the capture (an
    MQTT CONNECT, an HTTP Authorization header, query string, form field or cookie, a telnet login)
    or, with a started lab broker, the unit logged in with its account on the plaintext listener.
    PASS only when authentication was observed and every observed channel of the unit was TLS or
    SSH; without a capture nothing else PASSes."""
    plain_logins = [b for b in broker_logins if b.connected and b.listener == "plain"]
    creds = wire.credentials
    evidence = []
    if wire.unavailable is None:
        evidence.append(Evidence("table", "captured conversations of the unit", _wire_rows(wire)))
    if broker_logins:
        evidence.append(Evidence("table", "unit logins logged by the lab broker",
                                 [{"listener": b.listener, "account": b.account, "connected": b.connected}
                                  for b in broker_logins]))
    if creds or plain_logins:
        parts = []
        if creds:
            parts.append(_fields(creds))
            evidence.insert(0, Evidence("table", "credentials in clear (values redacted)", _credential_rows(creds)))
        if plain_logins:
            parts.append("MQTT CONNECT user name and password to the lab broker's plaintext listener "
                         f"(account {plain_logins[0].account}, logged by the broker)")
        return CheckResult.failed("authentication over a channel without cryptography: " + "; ".join(parts), *evidence)
    if wire.unavailable is not None:
        return CheckResult.inconclusive(f"no capture of the unit's packets, so its authentication channels were not "
                                        f"observed: {wire.unavailable}", *evidence)
    if not wire.complete:
        return CheckResult.inconclusive(_INCOMPLETE, *evidence)
    secure = [c for c in wire.conversations if c.encrypted]
    tls_logins = [b for b in broker_logins if b.connected and b.listener == "tls"]
    if not secure and not tls_logins:
        seen = ", ".join(sorted({c.protocol for c in wire.conversations})) or "no conversation at all"
        return CheckResult.inconclusive(f"the capture shows no authentication of or by the unit ({seen})", *evidence)
    plain = [c for c in wire.conversations if c.protocol in PLAINTEXT_PROTOCOLS]
    note = (f"; {len(plain)} plaintext conversation(s) carried no credential ({', '.join(sorted({c.protocol for c in plain}))})"
            if plain else "")
    names = [f"{c.protocol} {c.conversation}" for c in secure] + [f"lab broker TLS login ({b.account})" for b in tls_logins]
    return CheckResult.passed(f"authentication observed only over cryptographically protected channels: "
                              f"{', '.join(names)}{note}", *evidence)


def judge_broker_channel(wire: WireView, broker_host: str) -> CheckResult:
    """The passive part of 5.5-1-2 for a broker fixed in firmware: the unit's connections to it
    must use TLS (a plaintext MQTT connection is no cryptography at all)."""
    if wire.unavailable is not None:
        return CheckResult.inconclusive(f"no capture of the unit's packets, so its broker connection was not "
                                        f"observed: {wire.unavailable}")
    host = broker_host.strip("[]")
    mine = [c for c in wire.conversations if c.unit_is_client and c.server.rsplit(":", 1)[0].strip("[]") == host]
    evidence = Evidence("table", f"the unit's connections to its broker {host}", _wire_rows(WireView(mine, [])))
    # Only a protocol the dissector recognised as plaintext counts: bytes it could not place (a
    # conversation captured from its middle) prove nothing either way.
    plain = [c for c in mine if c.protocol in PLAINTEXT_PROTOCOLS]
    if plain:
        return CheckResult.failed(f"the unit talks to its broker {host} without cryptography: "
                                  f"{', '.join(f'{c.protocol} {c.conversation}' for c in plain)}", evidence)
    secure = [c for c in mine if c.encrypted]
    if not secure:
        return CheckResult.inconclusive(f"the capture shows no connection of the unit to its broker {host}", evidence)
    if not wire.complete:
        return CheckResult.inconclusive(_INCOMPLETE, evidence)
    return CheckResult.passed(f"the unit's broker connection uses {', '.join(f'{c.protocol} ({c.detail})' for c in secure)}",
                              evidence)
