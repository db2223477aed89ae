"""Resilience test cases: power loss (5.9-1-2), broker outage (5.9-2-2) and malformed input
(5.13-1-2). Each needs something of the bench: a power instrument behind the profile's
``power_cycle`` procedure, the lab broker, the ``input_*`` procedures of the profile."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING, Any

from harness.checks.resilience import (
    FuzzCase,
    OutageObservation,
    PowerLossObservation,
    judge_broker_outage,
    judge_input_validation,
    judge_power_loss,
)
from harness.redact import REDACTOR
from harness.verdict import CheckResult, Evidence, LabFault

if TYPE_CHECKING:
    from harness.device import Device

RECONNECT_TIMEOUT_S = 60.0


def _alive(device: Device) -> bool | None:
    try:
        if device.has("attention"):
            out = device.run("attention").outcome
            if out in ("logged_in", "logged_out"):
                device.state.session = out
                return True
            device.state.session = "unknown"
            return False
        return device.run("alive").ok if device.has("alive") else None
    except LabFault:
        return None


def recover(device: Device) -> str | None:
    """Power-cycle a unit that stopped answering, when the profile can; returns what was done."""
    if not device.has("power_cycle"):
        return None
    try:
        result = device.run("power_cycle")
    except LabFault as exc:
        return f"power cycle failed: {exc}"
    device.state.session = "unknown"
    return "recovered by a power cycle" if result.ok else f"power cycle ended {result.outcome}"


def _read_config(device: Device) -> dict[str, str] | None:
    try:
        device.ensure("logged_in")
        res = device.run("read_user_data")
    except LabFault:
        device.state.session = "unknown"
        return None
    return {"ssid": str(res.captures.get("ssid") or "")} if res.ok else None


def _broker_in_use(device: Device) -> bool:
    return device.state.broker is True and "broker" in device.bench.services


def power_loss(device: Device) -> CheckResult:
    """5.9-1-2"""
    if not device.has("power_cycle"):
        return CheckResult.inconclusive("the profile declares no power_cycle procedure (a bench supply or relay "
                                        "is needed to cut the power)")
    if device.has("connect_broker") and "broker" in device.bench.services:
        device.ensure("broker_connected")  # "in operation": connected, so reconnection is judged too
    device.ensure("logged_in")
    planted = {"ssid": f"harness-{secrets.token_hex(4)}", "psk": secrets.token_urlsafe(12)}
    REDACTOR.add(planted["psk"], "planted Wi-Fi key")
    if not device.run("set_user_data", **planted).ok:
        return CheckResult.inconclusive("the harness could not set the configuration to watch")
    device.mark_changed(user_data=True)
    before = _read_config(device)
    if before != {"ssid": planted["ssid"]}:
        return CheckResult.inconclusive(f"the configuration could not be read back before the power cut ({before})")
    watch_broker = _broker_in_use(device)
    since = device.broker_mark() if watch_broker else 0
    cycle = device.run("power_cycle")
    device.state.session = "unknown"
    reconnected = device.await_broker(since=since) if cycle.ok and watch_broker else None
    if watch_broker:
        device.state.broker = bool(reconnected)  # a unit that lost its broker is provisioned again
    after = _read_config(device) if cycle.ok else None
    return judge_power_loss(PowerLossObservation(
        booted=cycle.ok or None, config_before=before, config_after=after, reconnected=reconnected,
        instrument={k: v.get("identity") for k, v in device.instruments_used.items()}))


def broker_outage(device: Device) -> CheckResult:
    """5.9-2-2: the lab broker instance the device uses goes away and comes back on the same port."""
    broker = device.bench.services.get("broker")
    kind = "tls"
    if broker is None:
        return CheckResult.inconclusive("the run has no lab broker: the outage cannot be staged")
    device.ensure("broker_connected")
    capture = device.bench.services.get("capture")
    broker.stop_instance(kind)
    try:
        local_ok = _alive(device) and read_ok(device)
    finally:
        since = device.broker_mark(kind)
        broker.start_instance(kind)
        if capture is not None:
            capture.reattach(kind)
    reconnected = device.await_broker(kind, since=since)
    return judge_broker_outage(OutageObservation(local_ok, reconnected, RECONNECT_TIMEOUT_S))


def read_ok(device: Device) -> bool | None:
    try:
        device.ensure("logged_in")
        return device.run("read_version").ok
    except LabFault:
        return None


# Malformed inputs: a fixed, deterministic grammar (reproducible evidence, bounded count) rather
# than random generation; every entry is a class of parser bug seen in device firmware.
INPUTS: list[tuple[str, str]] = [
    ("empty", ""),
    ("oversized line 4 KiB", "A" * 4096),
    ("oversized line 64 KiB", "B" * 65536),
    ("format string", "%s%s%s%n%x%p" * 8),
    ("control characters", "\x00\x01\x02\x1b[2J\x7f\x08\x07"),
    ("high code points", "\xff\xfe\x80\u0000\uffff" * 4),
    ("shell metacharacters", "; id; $(id) `id` | id && id"),
    ("path traversal", "../../../../etc/passwd"),
    ("deep JSON", "[" * 2000 + "]" * 2000),
    ("broken JSON", '{"a": [1, 2, {"b": "'),
    ("huge number", "9" * 400),
    ("negative number", "-2147483649"),
    ("quotes", "\"'\"'\"'" * 50),
    ("unicode", "ʕ•ᴥ•ʔ 𝕳𝖆𝖗𝖓𝖊𝖘𝖘 \u202e\ufeff"),
    ("long token", "x" * 300 + " " + "y" * 300),
]


def malformed_input(device: Device) -> CheckResult:
    """5.13-1-2: each ``input_<interface>`` procedure of the profile gets every malformed input;
    after each the device must still answer (``attention``)."""
    procedures = [p for p in ("input_serial", "input_mqtt", "input_http") if device.has(p)]
    if not procedures:
        return CheckResult.inconclusive("the profile declares no input_serial/input_mqtt/input_http procedure")
    cases: list[FuzzCase] = []
    budget = len(procedures) * len(INPUTS)
    recovered: str | None = None
    for proc in procedures:
        for label, text in INPUTS:
            try:
                device.ensure("logged_in")
                device.run(proc, input=text)
            except LabFault:
                pass  # the liveness check below decides
            alive = _alive(device)
            cases.append(FuzzCase(proc.removeprefix("input_"), f"{label}: {_show(text)}", alive))
            if alive is False:
                recovered = recover(device)
                break
        if cases and cases[-1].alive_after is False:
            break
    result = judge_input_validation(cases, budget)
    if recovered:
        result.evidence.append(Evidence("text", "after the finding", recovered))
    return result


def _show(text: str) -> str:
    shown: Any = text if len(text) <= 80 else f"{text[:60]}… ({len(text)} characters)"
    return repr(shown)
