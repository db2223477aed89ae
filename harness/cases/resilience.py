"""Resilience test cases: power loss (5.9-1-2), broker outage (5.9-2-2) and input validation
(5.13-1-2). Each needs something of the bench: a power instrument behind the profile's
``power_cycle`` procedure, the lab broker, the ``input_*`` procedures and the settings of IXIT
29-InpVal with ``set_setting``/``read_setting`` (docs/updates.md)."""

from __future__ import annotations

import random
import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from harness.checks.resilience import (
    FuzzCase,
    InjectionProbe,
    InputValidationObservation,
    OutageObservation,
    PowerLossObservation,
    judge_broker_outage,
    judge_input_validation,
    judge_power_loss,
)
from harness.redact import REDACTOR
from harness.verdict import CheckResult, LabFault

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


def _answers(device: Device) -> bool | None:
    """Proof of life after an input, asked twice: one slow answer on a loaded bench is not a dead
    unit. None: the link itself failed (a lab fault), so nothing is known of the unit."""
    first = _alive(device)
    return first if first is not False else _alive(device)


def lab_witness(device: Device) -> tuple[str, str]:
    """The unit went silent: show that the lab side works, independently of that silence.
    Returns (what showed it, "") or ("", why it could not be shown).

    The bench cuts and restores the unit's power (``power_cycle``: the instrument must answer) and
    the unit must then answer over the same link. A frozen lab (serial server, instrument, the
    harness's own host) cannot do both; a unit that crashed can. The power cycle also recovers
    the unit, so the run goes on."""
    if not device.has("power_cycle"):
        return "", ("the profile declares no power_cycle procedure, so nothing independent of the unit's silence "
                    "showed the lab link working")
    try:
        result = device.run("power_cycle")
    except LabFault as exc:
        device.state.session = "unknown"
        return "", f"the power cycle through the bench failed: {exc}"
    device.state.session = "unknown"
    if not result.ok:
        return "", f"the power cycle through the bench ended {result.outcome}" + (
            f" ({result.detail})" if result.detail else "")
    if _answers(device) is not True:
        return "", "the unit did not answer even after the bench power-cycled it: the link to it is suspect"
    return "the bench power-cycled the unit and it answered again over the same link", ""


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
        _login_if_console(device)
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
    _login_if_console(device)
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
    if getattr(broker, "fixed", False):  # a broker fixed in the firmware is observed, never stopped
        return CheckResult.inconclusive(broker.no_outage_reason)
    device.ensure("broker_connected")
    # The local function must answer before the outage, or its silence during it says nothing.
    if not (_alive(device) and read_ok(device)):
        return CheckResult.inconclusive("the unit's local function (attention, read_version) did not answer before "
                                        "the broker was stopped: nothing was staged")
    capture = device.bench.services.get("capture")
    broker.stop_instance(kind)
    try:
        local_ok = _alive(device) and read_ok(device)
    finally:
        since = device.broker_mark(kind)
        broker.start_instance(kind)
        if capture is not None:
            capture.reattach(kind)
        # The harness's own MQTT links lost their session with the stopped listener: later
        # procedures open them afresh instead of failing on a dead connection.
        device.reopen_links("mqtt")
    reconnected = device.await_broker(kind, since=since)
    return judge_broker_outage(OutageObservation(local_ok, reconnected, RECONNECT_TIMEOUT_S))


def read_ok(device: Device) -> bool | None:
    try:
        _login_if_console(device)
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


# How an injected command reaches a shell behind a setting; each carries a command whose output
# cannot be mistaken for the literal input (the input says `$(id)`, the output `uid=0(root)`).
INJECTIONS: list[tuple[str, str]] = [
    ("$(…)", "$({cmd})"),
    ("backticks", "`{cmd}`"),
    (";", "x;{cmd}"),
    ("|", "x|{cmd}"),
    ("&&", "x&&{cmd}"),
    ("newline", "x\n{cmd}"),
]
# A console line ends at a newline by design: a newline in a value typed on a console is the
# harness typing a second command, not an injection.
_LINE_INTERFACES = {"console", "serial", "uart", "telnet", "ssh"}
NOT_SENDABLE = "the interface cannot carry this input"
_ID_OUTPUT = r"uid=\d+\([^)\s]*\)"
_LINK_FAILURE = re.compile(r"refused|unreachable|no route|reset by peer|not connected|broken pipe|"
                           r"connection (?:lost|closed)|name or service", re.I)


@dataclass
class Setting:
    """One entry of IXIT 29-InpVal: a setting the harness writes into and reads back."""
    name: str
    interface: str | None = None
    accepts: str | None = None  # the validation the supplier declares: a stored value must match it
    valid: str | None = None  # a good value to write back at the end


def declared_settings(device: Device) -> list[Setting]:
    raw = device.profile.ixit.other.get("29-InpVal")
    entries = raw if isinstance(raw, list) else (raw.get("settings") if isinstance(raw, dict) else None) or []
    out = []
    for entry in entries:
        if isinstance(entry, dict) and entry.get("setting"):
            out.append(Setting(str(entry["setting"]), _opt(entry.get("interface")), _opt(entry.get("accepts")),
                               _opt(entry.get("valid"))))
    return out


def _opt(value: Any) -> str | None:
    return None if value is None else str(value)


def injection_probes(setting: Setting, rng: random.Random) -> list[tuple[str, str, str]]:
    """(family, value, regex of the command's output) for one setting."""
    probes = []
    for family, template in INJECTIONS:
        if family == "newline" and (setting.interface or "").lower() in _LINE_INTERFACES:
            continue
        a, b = rng.randrange(10_000, 99_999), rng.randrange(10_000, 99_999)
        probes.append((family, template.format(cmd="id"), _ID_OUTPUT))
        probes.append((family, template.format(cmd=f"echo HX$(({a}+{b}))"), re.escape(f"HX{a + b}")))
    return probes


def _login_if_console(device: Device) -> None:
    if device.has("login"):
        device.ensure("logged_in")


def _deliver(device: Device, procedure: str, **variables: Any) -> tuple[bool, Any, str]:
    """Run one input procedure: (delivered, result, why not). A link that failed before the device
    got the input (a broker down, a refused connection) did not deliver it."""
    try:
        _login_if_console(device)
    except LabFault as exc:
        device.state.session = "unknown"
        return False, None, f"could not log in before the input: {exc}"
    try:
        res = device.run(procedure, **variables)
    except LabFault as exc:
        device.state.session = "unknown"
        return False, None, str(exc)
    except Exception as exc:  # noqa: BLE001 - the client would not even build it (a 64 KiB URL)
        return False, None, f"{NOT_SENDABLE}: {type(exc).__name__}: {exc}"
    if res.outcome == "not_sent":  # the link could not build the request (a 64 KiB URL)
        return False, res, f"{NOT_SENDABLE}: {res.detail or 'not sent'}"
    if res.outcome == "timeout" and _LINK_FAILURE.search(res.detail or ""):
        return False, res, res.detail
    return True, res, ""


def _marks(device: Device) -> dict[str, int]:
    return {name: t.mark() for name, t in device.transcripts().items()}


def _received_since(device: Device, marks: dict[str, int]) -> dict[str, str]:
    """What every link received since ``marks``: transcript lines in the device-to-harness direction."""
    out = {}
    for name, transcript in device.transcripts().items():
        text = transcript.read_since(marks.get(name, 0))
        lines = [line.split(" < ", 1)[1] for line in text.splitlines() if " < " in line[:14]]
        if lines:
            out[name] = "\n".join(lines)
    return out


def _search(pattern: str, places: dict[str, str]) -> tuple[str | None, str]:
    for where, text in places.items():
        m = re.search(pattern, text)
        if m:
            return m.group(0), where
    return None, ""


def _read_setting(device: Device, name: str) -> tuple[str | None, Any]:
    try:
        _login_if_console(device)
        res = device.run("read_setting", name=name)
    except LabFault:
        device.state.session = "unknown"
        return None, None
    value = res.captures.get("value") if res.ok else None
    return (None if value is None else str(value)), res


def _texts(res: Any, label: str) -> dict[str, str]:
    if res is None:
        return {}
    out = {f"{label} {k}": str(v) for k, v in res.captures.items() if isinstance(v, str) and v}
    if res.detail:
        out[f"{label} answer"] = res.detail
    return out


def _inject(device: Device, setting: Setting, rng: random.Random, obs: InputValidationObservation) -> None:
    before, read = _read_setting(device, setting.name)
    alive_before: bool | None = True if (read is not None and read.ok) else _answers(device)
    for family, value, output in injection_probes(setting, rng):
        marks = _marks(device)
        delivered, res, why = _deliver(device, "set_setting", name=setting.name, value=value)
        accepted = None if res is None else (True if res.ok else False if res.outcome in ("rejected", "refused")
                                             else None)
        if res is not None and accepted is None:  # e.g. http_401: the setting was not reached
            why = f"set_setting → {res.outcome}" + (f" ({res.detail})" if res.detail else "")
        stored, read = _read_setting(device, setting.name) if delivered else (None, None)
        places = {**_texts(res, "set_setting"), **_texts(read, "read_setting"),
                  **{f"what {name} received": text for name, text in _received_since(device, marks).items()}}
        if stored is not None:
            places = {"the stored value": stored, **places}
        found, seen_in = _search(output, places)
        kept = (stored is not None and setting.accepts is not None and stored != before
                and re.fullmatch(setting.accepts, stored) is None)
        # The read-back answering is proof of life; only without it is the unit asked separately.
        alive = True if (read is not None and read.ok) else (_answers(device) if delivered else None)
        probe = InjectionProbe(setting.name, family, _show(value), delivered, accepted, stored, found, seen_in, kept,
                               alive, why, alive_before=alive_before)
        obs.probes.append(probe)
        if alive is False:
            probe.lab_proof, probe.lab_fault = lab_witness(device)
            obs.notes.append(f"after setting {setting.name} went silent: {probe.lab_proof or probe.lab_fault}")
            return
        alive_before = alive
    good = setting.valid if setting.valid is not None else before
    if good is None:
        obs.notes.append(f"setting {setting.name}: no value to write back (none read at start, no 'valid' declared)")
        return
    delivered, res, why = _deliver(device, "set_setting", name=setting.name, value=good)
    after, _ = _read_setting(device, setting.name)
    obs.notes.append(f"setting {setting.name} written back to {good!r}: "
                     + ("done" if after == good else f"read back {after!r}" + (f" ({why})" if why else "")))


def malformed_input(device: Device) -> CheckResult:
    """5.13-1-2: command injections into the settings of IXIT 29-InpVal (``set_setting`` /
    ``read_setting``) judged by their effect, and every malformed input through each
    ``input_<interface>`` procedure judged by liveness (``attention``/``alive``) — all on a unit
    proven alive before the first input. A unit silent after an input is power-cycled by the
    bench (``lab_witness``): only if it answers again is the silence its own (a crash), else the
    lab side is suspect and nothing is judged (judge_input_validation)."""
    procedures = [p for p in ("input_serial", "input_mqtt", "input_http") if device.has(p)]
    settings = declared_settings(device) if device.has("set_setting") and device.has("read_setting") else []
    if not procedures and not settings:
        return CheckResult.inconclusive("the profile declares no input_serial/input_mqtt/input_http procedure and no "
                                        "setting to inject into (IXIT 29-InpVal with set_setting/read_setting)")
    rng = random.Random(secrets.randbits(32))
    obs = InputValidationObservation(None, fuzz_planned=len(procedures) * len(INPUTS),
                                     probes_planned=sum(len(injection_probes(s, rng)) for s in settings),
                                     settings=[s.name for s in settings])
    try:
        _login_if_console(device)
        # Asked twice before giving up: one slow answer on a loaded bench is not a dead unit.
        obs.alive_at_start = _alive(device) or _alive(device)
    except LabFault as exc:
        device.state.session = "unknown"
        obs.alive_at_start, obs.start_note = False, str(exc)
    if obs.alive_at_start is not True:
        return judge_input_validation(obs)
    for setting in settings:
        _inject(device, setting, rng, obs)
        if obs.probes and obs.probes[-1].alive_after is False:
            return judge_input_validation(obs)
    # The settings' write-back may have left the unit anywhere: asked again before the first input.
    alive_before: bool | None = True if not settings else _answers(device)
    for proc in procedures:
        for label, text in INPUTS:
            delivered, _, why = _deliver(device, proc, input=text)
            alive = _answers(device)
            case = FuzzCase(proc.removeprefix("input_"), f"{label}: {_show(text)}", alive, delivered, why,
                            sendable=not why.startswith(NOT_SENDABLE), alive_before=alive_before)
            obs.fuzz.append(case)
            if alive is False:
                case.lab_proof, case.lab_fault = lab_witness(device)
                obs.notes.append(f"after {case.interface} input {label} the unit was silent: "
                                 f"{case.lab_proof or case.lab_fault}")
                return judge_input_validation(obs)
            alive_before = alive
    return judge_input_validation(obs)


def _show(text: str) -> str:
    shown: Any = text if len(text) <= 80 else f"{text[:60]}… ({len(text)} characters)"
    return repr(shown)
