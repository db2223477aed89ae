"""Checks of how a device authenticates its peers and its callers over the network:
5.5-1-2 (a broker with an untrusted certificate is refused) and 5.5-5-2 (a configuration change
without authentication is refused)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from harness.verdict import CheckResult, Evidence


@dataclass
class RogueBrokerObservation:
    """What the rogue listener (certificate from an unknown CA) saw of the device."""

    connected_clients: list[str] = field(default_factory=list)  # client ids that completed CONNECT
    tls_failures: list[str] = field(default_factory=list)  # handshake errors logged for the device's peer
    messages: int = 0  # messages the device published through the rogue broker
    device_said: str = ""  # what the device reported (console), e.g. 'mqtt: tls error: certificate verify failed'
    alive_after: bool | None = None


# What a TLS listener's handshake error says about the client (OpenSSL's reason strings as
# Mosquitto logs them). Only an alert about the certificate, sent by a client that spoke TLS, is
# the device refusing the certificate; a client that never spoke TLS fails the handshake too.
_PLAINTEXT = re.compile(r"wrong version number|http request|https proxy request|unknown protocol|"
                        r"packet length too long|record length|not a tls|non-ssl|plain ?text", re.I)
_CERT_ALERT = re.compile(r"alert (unknown ca|bad certificate|certificate unknown|unsupported certificate|"
                         r"certificate expired|certificate revoked|access denied|decrypt error)", re.I)
_VERSION = re.compile(r"unsupported protocol|no protocols available|version too low|wrong ssl version|"
                      r"no shared cipher|alert protocol version|alert handshake failure", re.I)


def classify_tls_failure(detail: str) -> str:
    """``certificate refused`` (the client sent a certificate alert), ``plaintext`` (the client
    never spoke TLS), ``negotiation`` (TLS spoken, but no common version or cipher) or ``unclear``
    (a close or reset without an alert: the log does not show a ClientHello)."""
    if _PLAINTEXT.search(detail):
        return "plaintext"
    if _CERT_ALERT.search(detail):
        return "certificate refused"
    if _VERSION.search(detail):
        return "negotiation"
    return "unclear"


def judge_rogue_broker(obs: RogueBrokerObservation) -> CheckResult:
    """The broker part of 5.5-1-2: pointed at a TLS listener whose certificate comes from an
    unknown CA, the device must refuse the certificate in the handshake and stay alive.

    A refusal is the protocol's: a certificate alert after the client's ClientHello. A client that
    sends plaintext MQTT to the TLS listener ("wrong version number") refused nothing: it has no
    cryptography on that connection, a FAIL."""
    kinds = [(f, classify_tls_failure(f)) for f in obs.tls_failures]
    ev = Evidence("table", "rogue broker (unknown CA)", [{
        "clients connected": obs.connected_clients, "TLS handshake failures": obs.tls_failures,
        "handshake failures read as": [k for _, k in kinds],
        "messages through it": obs.messages, "device said": obs.device_said[:200], "alive after": obs.alive_after}])
    if obs.connected_clients or obs.messages:
        return CheckResult.failed("the device completed an MQTT session with a broker whose certificate comes "
                                  "from an unknown CA (man-in-the-middle possible)", ev)
    plaintext = [f for f, k in kinds if k == "plaintext"]
    if plaintext:
        return CheckResult.failed("the device spoke plaintext to the broker's TLS listener (the listener logged "
                                  f"{plaintext[0]!r}): no cryptography on its broker connection", ev)
    if not obs.tls_failures:
        return CheckResult.inconclusive("the device made no TLS attempt toward the rogue broker, so refusal "
                                        "was not shown", ev)
    refused = [f for f, k in kinds if k == "certificate refused"]
    if not refused:
        other = "; ".join(f"{f} ({k})" for f, k in kinds)
        return CheckResult.inconclusive("the handshake failed without a certificate alert from the device "
                                        f"({other}): a refusal of the certificate was not shown", ev)
    if obs.alive_after is not True:
        return CheckResult.inconclusive("the handshake failed, but the device was not shown alive afterwards", ev)
    return CheckResult.passed(f"the device refused the rogue broker's certificate in the TLS handshake "
                              f"({refused[0]}) and stayed alive", ev)


def judge_unauthenticated_change(outcome: str, detail: str, changed: bool | None, alive: bool | None) -> CheckResult:
    """``outcome`` of the unauthenticated change request (ok = accepted, rejected = refusal shown),
    ``changed`` whether an authenticated read afterwards shows the new value."""
    ev = Evidence("table", "configuration change without authentication", [{
        "request outcome": outcome, "detail": detail[:200], "value changed": changed, "alive after": alive}])
    if changed is True or (outcome == "ok" and changed is not False):
        return CheckResult.failed("the device accepted a configuration change without authentication", ev)
    if outcome == "rejected" and alive:
        return CheckResult.passed("the device refused the unauthenticated change" +
                                  (" and the value stayed" if changed is False else ""), ev)
    if outcome == "rejected":
        return CheckResult.inconclusive("the device refused, but was not shown alive afterwards", ev)
    return CheckResult.inconclusive(f"the request ended {outcome!r} ({detail or 'no answer'}): no refusal shown", ev)
