"""Interpret the profile's procedures: step lists over links.

A procedure ends with an *outcome*: ``ok``, a name the profile chose in ``expect_one_of``
(``rejected``, ``locked`` …), or ``timeout`` when an expected output never came. A timeout is its
own outcome, never folded into a refusal: the caller decides what silence means (for a login it
means INCONCLUSIVE, not "refused").
"""

from __future__ import annotations

import importlib
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
        if link.kind == "serial":
            return self._serial(link, verb, arg, variables, result, step_timeout, step)
        if link.kind == "http":
            return self._http(link, verb, arg, variables, result, step_timeout, step)
        raise ProfileRuntimeError(f"procedure {proc!r} step {index}: link kind {link.kind!r} has no steps yet")

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
        path, _ = render(str(arg), variables)
        body = step.get("body")
        if body is not None:
            body, _ = render(str(body), variables)
        resp = link.request(verb.upper(), path, body=body, timeout=timeout)
        if resp.error:
            result.detail = resp.error
            return "timeout"
        expected = step.get("expect_status")
        result.captures["status"] = resp.status
        if expected is not None and resp.status != int(expected):
            result.detail = f"HTTP {resp.status}, expected {expected}"
            return "rejected"
        capture = step.get("capture") or {}
        for var, regex in capture.items():
            m = re.search(regex, resp.text or "")
            result.captures[var] = m.group(1) if m and m.groups() else (m.group(0) if m else None)
        return "ok"
