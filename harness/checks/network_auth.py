"""Checks of how a device authenticates its peers and its callers over the network:
5.5-1-2 (a broker with an untrusted certificate is refused) and 5.5-5-2 (a configuration change
without authentication is refused)."""

from __future__ import annotations

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


def judge_rogue_broker(obs: RogueBrokerObservation) -> CheckResult:
    ev = Evidence("table", "rogue broker (unknown CA)", [{
        "clients connected": obs.connected_clients, "TLS handshake failures": obs.tls_failures,
        "messages through it": obs.messages, "device said": obs.device_said[:200], "alive after": obs.alive_after}])
    if obs.connected_clients or obs.messages:
        return CheckResult.failed("the device completed an MQTT session with a broker whose certificate comes "
                                  "from an unknown CA (man-in-the-middle possible)", ev)
    if not obs.tls_failures:
        return CheckResult.inconclusive("the device made no TLS attempt toward the rogue broker, so refusal "
                                        "was not shown", ev)
    if obs.alive_after is not True:
        return CheckResult.inconclusive("the handshake failed, but the device was not shown alive afterwards", ev)
    return CheckResult.passed("the device aborted the TLS handshake with the rogue broker and stayed alive", ev)


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
