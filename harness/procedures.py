"""Interpret the profile's procedures: step lists over links.

A procedure ends with an *outcome*: ``ok``, a name the profile chose in ``expect_one_of``
(``rejected``, ``locked`` …), or ``timeout`` when an expected output never came. A timeout is its
own outcome, never folded into a refusal: the caller decides what silence means (for a login it
means INCONCLUSIVE, not "refused").
"""

from __future__ import annotations

import importlib
import json
import re
import threading
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from harness.links.serial import ExpectTimeout
from harness.profile.models import STEP_OPTIONS
from harness.verdict import LabFault

if TYPE_CHECKING:
    from harness.device import Device

_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")
# Variables whose values never go to a transcript in clear.
SECRET_VARS = {"password", "new_password", "old_password", "psk", "token", "key"}


class ProfileRuntimeError(LabFault):
    """The profile asked for something the run cannot provide (unknown variable, bad step)."""


@dataclass
class ProcedureResult:
    name: str
    outcome: str = "ok"
    captures: dict[str, Any] = field(default_factory=dict)
    detail: str = ""
    duration_s: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome == "ok"


def render(text: str, variables: dict[str, Any]) -> tuple[str, bool]:
    """Fill ``{{name}}`` placeholders; returns the text and whether a secret went into it."""
    secret = False

    def sub(m: re.Match[str]) -> str:
        nonlocal secret
        name = m.group(1)
        cur: Any = variables
        for part in name.split("."):
            if isinstance(cur, dict) and part in cur:
                cur = cur[part]
            elif hasattr(cur, part):
                cur = getattr(cur, part)
            else:
                raise ProfileRuntimeError(f"the profile uses {{{{{name}}}}} but the test provides no such value")
        if name.split(".")[-1] in SECRET_VARS:
            secret = True
        return "" if cur is None else str(cur)

    return _TEMPLATE.sub(sub, text), secret


def _status_outcome(status: int | None, step: dict[str, Any]) -> str | None:
    """Map an HTTP status to a named outcome: ``outcomes: {ok: 200, rejected: [401, 403], locked: 429}``
    or the short form ``expect_status: 200`` (anything else is ``rejected``, as before)."""
    outcomes = step.get("outcomes")
    if outcomes:
        for name, codes in outcomes.items():
            if status in (codes if isinstance(codes, list) else [codes]):
                return str(name)
        return None
    expected = step.get("expect_status")
    if expected is not None and status != int(expected):
        return "rejected"
    return "ok"


def _regex_render(pattern: str, variables: dict[str, Any]) -> str:
    """Placeholders inside a pattern are matched literally."""
    def sub(m: re.Match[str]) -> str:
        value, _ = render(m.group(0), variables)
        return re.escape(value)
    return _TEMPLATE.sub(sub, pattern)


class ProcedureRunner:
    def __init__(self, device: Device) -> None:
        self.device = device
        self._stop = threading.Event()  # settle waits end early only when the run is stopping

    def run(self, name: str, variables: dict[str, Any], *, timeout: float | None = None,
            depth: int = 0) -> ProcedureResult:
        if depth > 8:
            raise ProfileRuntimeError(f"procedure {name!r}: calls nested deeper than 8 (a loop?)")
        spec = self.device.profile.procedures.get(name)
        if spec is None:
            raise ProfileRuntimeError(f"the profile declares no procedure {name!r}")
        started = time.monotonic()
        if isinstance(spec, str):
            result = self._python(name, spec, variables)
        else:
            result = ProcedureResult(name)
            for index, step in enumerate(spec):
                outcome = self._step(name, index, step, variables, result, timeout, depth)
                if outcome != "ok":
                    result.outcome = outcome
                    break
        result.duration_s = time.monotonic() - started
        self.device.note(f"procedure {name} → {result.outcome}" + (f" ({result.detail})" if result.detail else ""))
        return result

    def _python(self, name: str, spec: str, variables: dict[str, Any]) -> ProcedureResult:
        module_name, _, attr = spec.partition(":")
        try:
            obj = getattr(importlib.import_module(module_name), attr)
        except (ImportError, AttributeError) as exc:
            raise ProfileRuntimeError(f"procedure {name!r}: cannot load {spec}: {exc}") from exc
        impl = obj() if isinstance(obj, type) else obj
        out = impl.run(self.device, **variables)
        if not isinstance(out, ProcedureResult):
            raise ProfileRuntimeError(f"procedure {name!r}: {spec}.run must return a ProcedureResult")
        return out

    def _step(self, proc: str, index: int, step: dict[str, Any], variables: dict[str, Any],
              result: ProcedureResult, timeout: float | None, depth: int) -> str:
        action = next(k for k in step if k not in STEP_OPTIONS)
        arg = step[action]
        step_timeout = step.get("timeout", timeout)
        if action in ("wait_for", "call"):
            sub = self.run(arg, {**variables, **result.captures}, timeout=step_timeout, depth=depth + 1)
            result.captures.update(sub.captures)
            if not sub.ok:
                result.detail = sub.detail or f"{arg} ended {sub.outcome}"
            return sub.outcome
        if action == "settle":
            seconds = float(self.device.profile.settle.get(arg, arg)) if not isinstance(arg, (int, float)) else float(arg)
            self.device.note(f"settle {seconds:g} s (declared by the profile)")
            self._stop.wait(seconds * self.device.settle_scale)
            return "ok"
        link_name, _, verb = action.partition(".")
        link = self.device.link(link_name)
        handler = {"serial": self._serial, "telnet": self._serial, "http": self._http, "mqtt": self._mqtt,
                   "ssh": self._ssh, "instrument": self._instrument}.get(link.kind)
        if handler is None:
            raise ProfileRuntimeError(f"procedure {proc!r} step {index}: link kind {link.kind!r} has no steps")
        return handler(link, verb, arg, variables, result, step_timeout, step)

    def _serial(self, link: Any, verb: str, arg: Any, variables: dict[str, Any], result: ProcedureResult,
                timeout: float | None, step: dict[str, Any]) -> str:
        if verb in ("send", "write", "send_secret"):
            text, secret = render(str(arg), {**variables, **result.captures})
            secret = secret or verb == "send_secret"
            (link.write if verb == "write" else link.send)(text, secret=secret)
            return "ok"
        patterns = {"ok": arg} if verb == "expect" else dict(arg)
        rendered = {k: (p if p in link.prompts else _regex_render(p, variables)) for k, p in patterns.items()}
        try:
            match = link.expect_any(rendered, timeout=timeout)
        except ExpectTimeout as exc:
            result.detail = f"no {' / '.join(rendered)} within {exc.timeout:g} s"
            return "timeout"
        result.captures.update({k: v for k, v in match.groups.items() if v is not None or k not in result.captures})
        if match.name != "ok":
            result.detail = f"device said {match.text.strip()!r}"
        return match.name

    def _http(self, link: Any, verb: str, arg: Any, variables: dict[str, Any], result: ProcedureResult,
              timeout: float | None, step: dict[str, Any]) -> str:
        values = {**variables, **result.captures}
        path, _ = render(str(arg), values)
        body, secret, headers = None, False, {}
        if step.get("json") is not None:
            body, secret = render(json.dumps(step["json"]), values)
            headers["Content-Type"] = "application/json"
        elif step.get("body") is not None:
            body, secret = render(str(step["body"]), values)
        for name, value in (step.get("headers") or {}).items():
            headers[name], hidden = render(str(value), values)
            secret = secret or hidden
        resp = link.request(verb.upper(), path, body=body, timeout=timeout, headers=headers, secret=secret)
        if resp.error:
            result.detail = resp.error
            return "timeout"
        result.captures["status"] = resp.status
        outcome = _status_outcome(resp.status, step)
        if outcome is None:
            result.detail = f"HTTP {resp.status}, not one the profile names for this step"
            return "unexpected"
        if outcome != "ok":
            retry = resp.headers.get("Retry-After")
            result.captures["retry_after"] = retry
            result.detail = f"HTTP {resp.status}" + (f", Retry-After {retry}" if retry else "")
            return outcome
        for var, regex in (step.get("capture") or {}).items():
            m = re.search(regex, resp.text or "")
            result.captures[var] = m.group(1) if m and m.groups() else (m.group(0) if m else None)
            if var in SECRET_VARS and result.captures[var]:
                self.device.bench.redactor.add(str(result.captures[var]))
        return "ok"

    # -- MQTT ---------------------------------------------------------------------------------------
    def _topic(self, link: Any, name: str, values: dict[str, Any]) -> str:
        template = link.topics.get(name, name) if getattr(link, "topics", None) else name
        return render(template, values)[0]

    def _mqtt(self, link: Any, verb: str, arg: Any, variables: dict[str, Any], result: ProcedureResult,
              timeout: float | None, step: dict[str, Any]) -> str:
        values = {**variables, **result.captures}
        if verb == "subscribe":
            link.subscribe(self._topic(link, str(arg), values), qos=int(step.get("qos", 0)))
            return "ok"
        if verb == "publish":
            payload, secret = render(str(step.get("payload", "")), values)
            link.publish(self._topic(link, str(arg), values), payload, qos=int(step.get("qos", 0)),
                         retain=bool(step.get("retain", False)), secret=secret)
            return "ok"
        if verb == "connect":
            user, _ = render(str(step.get("user", "{{user}}")), values)
            password, _ = render(str(step.get("password", "{{password}}")), values)
            attempt = link.connect_attempt(user or None, password or None, timeout=timeout)
            result.captures["reason_code"] = attempt.reason_code
            if attempt.outcome != "ok":
                result.detail = attempt.reason or attempt.tls_error or attempt.outcome
            return attempt.outcome
        # expect / expect_one_of: {name: topic | {topic, payload}}
        specs = {"ok": arg} if verb == "expect" else dict(arg)
        wanted = {}
        for name, spec in specs.items():
            topic, payload = (spec, None) if isinstance(spec, str) else (spec["topic"], spec.get("payload"))
            wanted[name] = (self._topic(link, topic, values),
                            None if payload is None else _regex_render(payload, values))
        try:
            name, message, groups = link.expect_any(wanted, timeout=timeout)
        except ExpectTimeout as exc:
            result.detail = f"no message on {' / '.join(t for t, _ in wanted.values())} ({exc})"
            return "timeout"
        result.captures.update({k: v for k, v in groups.items() if v is not None})
        result.captures["topic"] = message.topic
        if name != "ok":
            result.detail = f"device published {message.topic}: {message.text[:200]!r}"
        return name

    # -- SSH ----------------------------------------------------------------------------------------
    def _ssh(self, link: Any, verb: str, arg: Any, variables: dict[str, Any], result: ProcedureResult,
             timeout: float | None, step: dict[str, Any]) -> str:
        values = {**variables, **result.captures}
        user, _ = render(str(step.get("user", "{{user}}")), values)
        password, _ = render(str(step.get("password", "{{password}}")), values)
        probe = link.login(user, password, timeout=timeout)
        result.captures["alive"] = probe.alive
        if probe.outcome != "ok":
            result.detail = probe.detail
        return probe.outcome

    # -- instruments --------------------------------------------------------------------------------
    def _seconds(self, arg: Any) -> float:
        if isinstance(arg, (int, float)):
            return float(arg)
        if arg in self.device.profile.settle:
            return float(self.device.profile.settle[arg])
        raise ProfileRuntimeError(f"{arg!r} is neither seconds nor a settle name declared by the profile")

    def _wait(self, seconds: float) -> None:
        # A declared device time (off time, button hold), scaled like every settle time.
        self._stop.wait(seconds * self.device.settle_scale)

    def _instrument(self, link: Any, verb: str, arg: Any, variables: dict[str, Any], result: ProcedureResult,
                    timeout: float | None, step: dict[str, Any]) -> str:
        self.device.used_instrument(link)
        if verb == "power_off":
            link.output(False)
        elif verb == "power_on":
            link.output(True)
        elif verb == "power_cycle":
            self.device.note(f"power cycle, off for {self._seconds(arg):g} s (declared by the profile)")
            link.power_cycle(self._seconds(arg), self._wait)
        elif verb == "hold_button":
            self.device.note(f"hold the button line for {self._seconds(arg):g} s (declared by the profile)")
            link.pulse(link.channel, self._seconds(arg), self._wait)
        elif verb == "set_voltage":
            link.set_voltage(float(arg))
        elif verb == "measure_current":
            result.captures[str(arg or "current")] = link.measure_current()
        return "ok"
