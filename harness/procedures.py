"""Interpret the profile's procedures: step lists over links.

A procedure ends with an *outcome*: ``ok``, a name the profile chose in ``expect_one_of`` or
``outcomes`` (``rejected``, ``locked`` …), or ``timeout`` when an expected output never came. A
timeout is its own outcome, never folded into a refusal: the caller decides what silence means
(for a login it means INCONCLUSIVE, not "refused").

An HTTP step without declared ``outcomes`` is ``ok`` only on 2xx/3xx: 401 and 403 are
``rejected``, 429 is ``locked``, any other status is ``http_<code>`` — a 4xx/5xx never passes
silently. A ``bench.run`` step without ``outcomes`` is ``ok`` on exit status 0, else ``exit_<n>``.
"""

from __future__ import annotations

import base64
import importlib
import json
import re
import shlex
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.links.serial import ExpectTimeout
from harness.profile.models import FILTERS, STEP_OPTIONS, TEMPLATE
from harness.redact import REDACTOR, Redactor
from harness.verdict import LabFault

if TYPE_CHECKING:
    from harness.device import Device

_TEMPLATE = TEMPLATE
# Variables whose values never go to a transcript in clear.
SECRET_VARS = {"password", "new_password", "old_password", "psk", "token", "key", "cookie", "secret",
               "session_id", "sid", "csrf", "api_key", "apikey", "access_token", "refresh_token"}


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


class LazyMap(Mapping[str, Any]):
    """A mapping whose values are computed on first use: an account's password is resolved (and
    a lab broker started) only when a step names it."""

    def __init__(self, keys: Callable[[], list[str]], get: Callable[[str], Any]) -> None:
        self._keys, self._get = keys, get
        self._cache: dict[str, Any] = {}

    def __getitem__(self, key: str) -> Any:
        if key not in self._cache:
            if key not in self._keys():
                raise KeyError(key)
            self._cache[key] = self._get(key)
        return self._cache[key]

    def __contains__(self, key: object) -> bool:
        return key in self._keys()

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())


def _filter(name: str, value: str) -> str:
    if name == "base64":
        return base64.b64encode(value.encode()).decode()
    if name == "urlencode":
        return urllib.parse.quote(value, safe="")
    if name == "json":
        return json.dumps(value)
    if name == "hex":
        return value.encode().hex()
    if name == "lower":
        return value.lower()
    if name == "upper":
        return value.upper()
    if name == "shellquote":
        return shlex.quote(value)
    raise ProfileRuntimeError(f"unknown filter {name!r} (one of {', '.join(FILTERS)})")


def _lookup(name: str, variables: Mapping[str, Any]) -> Any:
    cur: Any = variables
    for part in name.split("."):
        if isinstance(cur, Mapping) and part in cur:
            cur = cur[part]
        elif not isinstance(cur, Mapping) and hasattr(cur, part):
            cur = getattr(cur, part)
        else:
            raise ProfileRuntimeError(f"the profile uses {{{{{name}}}}} but the test provides no such value")
    return cur


def is_secret_name(name: str) -> bool:
    parts = name.split(".")
    return parts[-1] in SECRET_VARS or parts[0] == "accounts"


def render(text: str, variables: Mapping[str, Any], redactor: Redactor | None = None) -> tuple[str, bool]:
    """Fill ``{{name}}`` and ``{{name | filter}}`` placeholders; returns the text and whether a
    secret went into it (a secret-named variable, or a value the redactor knows). A known secret
    passed through a filter is registered in its filtered form too: a base64 password is as secret
    as the password. (A password from a public dictionary is not registered: it is no secret.)"""
    secret = False
    redactor = redactor or REDACTOR
    known: set[str] | None = None

    def sub(m: re.Match[str]) -> str:
        nonlocal secret, known
        name = m.group(1)
        value = _lookup(name, variables)
        text_value = "" if value is None else str(value)
        if known is None:
            known = set(redactor.secrets())
        registered = text_value in known
        hidden = is_secret_name(name) or registered
        for flt in [f.strip() for f in (m.group(2) or "").split("|") if f.strip()]:
            text_value = _filter(flt, text_value)
            if registered:
                redactor.add(text_value, f"{name} | {flt}")
        secret = secret or (hidden and bool(text_value))
        return text_value

    return _TEMPLATE.sub(sub, text), secret


def render_data(data: Any, variables: Mapping[str, Any], redactor: Redactor | None = None) -> tuple[Any, bool]:
    """Render every string inside a JSON-like structure (keys and values)."""
    if isinstance(data, str):
        return render(data, variables, redactor)
    if isinstance(data, list):
        out, secret = [], False
        for item in data:
            value, hidden = render_data(item, variables, redactor)
            out.append(value)
            secret = secret or hidden
        return out, secret
    if isinstance(data, dict):
        rendered: dict[Any, Any] = {}
        secret = False
        for k, v in data.items():
            key, h1 = render_data(k, variables, redactor) if isinstance(k, str) else (k, False)
            value, h2 = render_data(v, variables, redactor)
            rendered[key] = value
            secret = secret or h1 or h2
        return rendered, secret
    return data, False


def _status_matches(status: int | None, codes: Any) -> bool:
    if codes is None:
        return True
    wanted = codes if isinstance(codes, list) else [codes]
    for code in wanted:
        text = str(code)
        if re.fullmatch(r"[1-5]xx", text):
            if status is not None and status // 100 == int(text[0]):
                return True
        elif status == int(code):
            return True
    return False


def default_http_outcome(status: int | None) -> str:
    """The rule for a step that declares no outcomes: only 2xx/3xx are ``ok``."""
    if status is not None and 200 <= status < 400:
        return "ok"
    if status in (401, 403):
        return "rejected"
    if status == 429:
        return "locked"
    return f"http_{status}"


def http_outcome(status: int | None, text: str, step: Mapping[str, Any],
                 variables: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """Map an HTTP answer to a named outcome and the named groups of the body pattern that decided it.

    ``outcomes: {ok: 200, rejected: [401, 403], locked: {status: 429}, denied: {status: 200, body: 'denied'}}``
    — the first match in declared order wins; an answer none of them names is ``http_<code>``.
    The short form ``expect_status: 200`` means ``ok`` on 200; any other status follows the default
    rule (401/403 ``rejected``, 429 ``locked``, else ``http_<code>``)."""
    outcomes = step.get("outcomes")
    if outcomes:
        for name, spec in outcomes.items():
            if isinstance(spec, dict):
                if not _status_matches(status, spec.get("status")):
                    continue
                if spec.get("body") is not None:
                    m = re.search(_regex_render(str(spec["body"]), variables), text or "", re.MULTILINE)
                    if m is None:
                        continue
                    return str(name), {k: v for k, v in m.groupdict().items() if v is not None}
                return str(name), {}
            if _status_matches(status, spec):
                return str(name), {}
        return f"http_{status}", {}
    outcome = default_http_outcome(status)
    expected = step.get("expect_status")
    if expected is None:
        return outcome, {}
    if status == int(expected):
        return "ok", {}
    # Any other status: a refusal only when the device said so (401/403/429), else http_<code>.
    return (f"http_{status}" if outcome == "ok" else outcome), {}


def _status_outcome(status: int | None, step: dict[str, Any]) -> str | None:
    """Kept for callers of the earlier API: the outcome of a status alone."""
    return http_outcome(status, "", step, {})[0]


def _regex_render(pattern: str, variables: Mapping[str, Any]) -> str:
    """Placeholders inside a pattern are matched literally."""
    def sub(m: re.Match[str]) -> str:
        value, _ = render(m.group(0), variables)
        return re.escape(value)
    return _TEMPLATE.sub(sub, pattern)


def _url_parts(url: str) -> dict[str, Any]:
    parts = urllib.parse.urlsplit(url)
    return {"url": url, "host": parts.hostname or "", "port": parts.port or "", "scheme": parts.scheme}


_TOKEN_MIN = 8  # shorter values in an answer ("ok", a user id) are not credentials
_TOKEN_SCAN = 500  # JSON nodes looked at in one answer


def _session_tokens(resp: Any) -> Iterator[tuple[str, str]]:
    """(name, value) of every credential-like value in a login answer: JSON fields named like a
    token or a session, and Set-Cookie values."""
    text = str(getattr(resp, "text", "") or "")
    try:
        answer = json.loads(text) if text.lstrip()[:1] in ("{", "[") else None
    except ValueError:
        answer = None
    stack: list[Any] = [answer]
    for _ in range(_TOKEN_SCAN):
        if not stack:
            break
        item = stack.pop()
        if isinstance(item, dict):
            for key, value in item.items():
                name = str(key).lower()
                if isinstance(value, str) and len(value) >= _TOKEN_MIN and (
                        is_secret_name(name) or "token" in name or "session" in name):
                    yield str(key), value
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(item, list):
            stack.extend(item)
    for header, value in (getattr(resp, "headers", None) or {}).items():
        if str(header).lower() != "set-cookie":
            continue
        for line in str(value).splitlines():
            cookie, _, _ = line.partition(";")
            name, _, val = cookie.partition("=")
            if len(val.strip()) >= _TOKEN_MIN:
                yield f"cookie {name.strip()}", val.strip()


class ProcedureRunner:
    def __init__(self, device: Device) -> None:
        self.device = device
        self._stop = threading.Event()  # settle waits end early only when the run is stopping
        # Values a login answer gave (a token) for later procedures of this unit: {{session.NAME}}.
        self.session: dict[str, Any] = {}
        self._bench_link: Any = None

    # -- variables ----------------------------------------------------------------------------------
    def context(self, variables: Mapping[str, Any]) -> dict[str, Any]:
        """The variables every procedure sees, beyond what the caller passed: the unit's own
        variables, every account's password, this unit's session values and the lab broker."""
        device = self.device
        out = dict(variables)
        unit = dict(out.get("unit") or {})
        if "vars" not in unit:
            declared = getattr(device.unit, "vars", {}) or {}
            unit["vars"] = LazyMap(lambda: list(declared), lambda k: device.bench.resolve(
                declared[k], where=f"units.{device.unit_id}.vars.{k}"))
        out["unit"] = unit
        if "accounts" not in out:
            accounts = device.unit.accounts
            out["accounts"] = LazyMap(lambda: list(accounts), lambda user: {
                "user": user, "password": device.bench.password(device.unit_id, user) or "",
                "label_password": device.bench.password(device.unit_id, user) or ""})
        out.setdefault("session", self.session)
        if "lab" not in out:
            out["lab"] = LazyMap(lambda: ["broker"], lambda _: self._lab_broker())
        broker = out.get("broker")
        if isinstance(broker, Mapping) and isinstance(broker.get("url"), str):
            # The listener the caller chose: its own host and port, whatever the defaults said.
            out["broker"] = {**broker, **{k: v for k, v in _url_parts(broker["url"]).items() if v != ""}}
        return out

    def _lab_broker(self) -> dict[str, Any]:
        try:
            bv = self.device.broker_vars()
        except LabFault as exc:
            raise ProfileRuntimeError(f"the profile uses {{{{lab.broker…}}}}: {exc}") from exc
        out: dict[str, Any] = {"user": bv.get("user"), "password": bv.get("password")}
        for kind, key in (("tls", "url"), ("plain", "plain_url"), ("rogue", "rogue_url")):
            if bv.get(key):
                out[kind] = _url_parts(str(bv[key]))
        return out

    def forget_session(self) -> None:
        self.session.clear()
        for link in self.device.links.values():
            if hasattr(link, "forget_session"):
                link.forget_session()

    # -- running -------------------------------------------------------------------------------------
    def run(self, name: str, variables: dict[str, Any], *, timeout: float | None = None,
            depth: int = 0) -> ProcedureResult:
        if depth > 8:
            raise ProfileRuntimeError(f"procedure {name!r}: calls nested deeper than 8 (a loop?)")
        spec = self.device.profile.procedures.get(name)
        if spec is None:
            raise ProfileRuntimeError(f"the profile declares no procedure {name!r}")
        started = time.monotonic()
        if isinstance(spec, str):
            # A Python procedure gets what the caller passed: its run() signature predates the context.
            result = self._python(name, spec, variables)
        else:
            if depth == 0:
                variables = self.context(variables)
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

    def _capture(self, result: ProcedureResult, name: str, value: Any) -> None:
        """Store a captured value: ``session.NAME`` outlives the procedure (for later ones of this
        unit); a secret-named value is registered with the redactor before anything logs it."""
        if value is not None and str(value) and (is_secret_name(name) or name.startswith("session.")):
            # A value the device handed out for this session (a token, a cookie) is a credential.
            self.device.bench.redactor.add(str(value), name)
        if name.startswith("session."):
            self.session[name.partition(".")[2]] = value
        result.captures[name] = value

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
        if action == "set":
            values = {**variables, **result.captures}
            for name, template in dict(arg).items():
                value, _ = render(str(template), values, self.device.bench.redactor)
                self._capture(result, str(name), value)
            return "ok"
        if action == "forget_session":
            self.forget_session()
            return "ok"
        if action == "bench.run":
            return self._bench_run(arg, {**variables, **result.captures}, result, step_timeout, step)
        link_name, _, verb = action.partition(".")
        link = self.device.link(link_name)
        handler = {"serial": self._serial, "telnet": self._serial, "http": self._http, "mqtt": self._mqtt,
                   "ssh": self._ssh, "instrument": self._instrument}.get(link.kind)
        if handler is None:
            raise ProfileRuntimeError(f"procedure {proc!r} step {index}: link kind {link.kind!r} has no steps")
        return handler(link, verb, arg, variables, result, step_timeout, step)

    # -- consoles -----------------------------------------------------------------------------------
    def _serial(self, link: Any, verb: str, arg: Any, variables: dict[str, Any], result: ProcedureResult,
                timeout: float | None, step: dict[str, Any]) -> str:
        if verb in ("send", "write", "send_secret"):
            text, secret = render(str(arg), {**variables, **result.captures}, self.device.bench.redactor)
            secret = secret or verb == "send_secret"
            (link.write if verb == "write" else link.send)(text, secret=secret)
            return "ok"
        if verb == "drain":
            return self._drain(link, float(arg), float(step.get("quiet", 0.3)))
        if verb == "expect_silence":
            return self._silence(link, float(arg), timeout, result)
        patterns = {"ok": arg} if verb == "expect" else dict(arg)
        values = {**variables, **result.captures}
        rendered = {k: (p if p in link.prompts else _regex_render(p, values)) for k, p in patterns.items()}
        try:
            match = link.expect_any(rendered, timeout=timeout)
        except ExpectTimeout as exc:
            result.detail = f"no {' / '.join(rendered)} within {exc.timeout:g} s"
            return "timeout"
        for k, v in match.groups.items():
            if v is not None or k not in result.captures:
                self._capture(result, k, v)
        if match.name != "ok":
            result.detail = f"device said {match.text.strip()!r}"
        return match.name

    def _drain(self, link: Any, max_s: float, quiet_s: float) -> str:
        """Read and discard what the console has pending, up to ``max_s`` or until ``quiet_s`` of quiet."""
        try:
            link.drain(max_s=max_s, quiet_s=quiet_s)
        except TypeError:
            # A link without a bounded drain: read for max_s (nothing can match), then forget it.
            try:
                link.expect_any({"never": re.compile(r"(?!)")}, timeout=max_s)
            except ExpectTimeout:
                pass
            link.drain()
        return "ok"

    def _silence(self, link: Any, quiet_s: float, timeout: float | None, result: ProcedureResult) -> str:
        """"Silence means ready": ``quiet_s`` seconds without output, within the step's timeout."""
        if not hasattr(link, "wait_quiet"):
            raise ProfileRuntimeError(f"link {link.name!r} cannot observe silence (no wait_quiet)")
        limit = timeout if timeout is not None else max(float(getattr(link, "timeout", 10.0)), quiet_s * 2)
        if link.wait_quiet(quiet_s, limit):
            return "ok"
        result.detail = f"the device kept talking: no {quiet_s:g} s of silence within {limit:g} s"
        return "timeout"

    # -- HTTP ------------------------------------------------------------------------------------------
    def _auth(self, link: Any, step: dict[str, Any], values: Mapping[str, Any]) -> tuple[Any, dict[str, str], bool]:
        """The step's ``auth`` (or the link's): a client-side Auth, or a header for a bearer token."""
        from harness.links.http import Auth

        spec = step.get("auth")
        if spec is None:
            model = self.device.profile.links.get(link.name)
            default = getattr(model, "auth", None)
            spec = default.model_dump(exclude_none=True) if default is not None else None
        if spec is None or spec == "none":
            return None, {}, False
        # The transcript shows the scheme and the user, never the password or the header.
        redactor = self.device.bench.redactor
        if "bearer" in spec:
            token, _ = render(str(spec["bearer"]), values, redactor)
            return None, {"Authorization": f"Bearer {token}"}, True
        scheme = "digest" if "digest" in spec else "basic"
        creds = spec[scheme]
        user, _ = render(str(creds["user"]), values, redactor)
        password, _ = render(str(creds["password"]), values, redactor)
        return Auth(scheme, user, password), {}, False

    def _file(self, template: str, values: Mapping[str, Any]) -> Path:
        path = Path(render(template, values)[0])
        if not path.is_absolute():
            path = self.device.bench.base_dir / path
        if not path.is_file():
            raise ProfileRuntimeError(f"file {str(path)!r} for an HTTP upload does not exist")
        return path

    def _http(self, link: Any, verb: str, arg: Any, variables: dict[str, Any], result: ProcedureResult,
              timeout: float | None, step: dict[str, Any]) -> str:
        values = {**variables, **result.captures}
        redactor = self.device.bench.redactor
        path, secret_url = render(str(arg), values, redactor)
        kwargs: dict[str, Any] = {}
        secret = False
        headers: dict[str, str] = {}
        for key in ("json", "form", "query"):
            if step.get(key) is not None:
                data, hidden = render_data(step[key], values, redactor)
                if key != "json":
                    data = {str(k): "" if v is None else str(v) for k, v in data.items()}
                kwargs["json_body" if key == "json" else key] = data
                if key == "query":
                    secret_url = secret_url or hidden
                else:
                    secret = secret or hidden
        if step.get("body") is not None:
            kwargs["body"], hidden = render(str(step["body"]), values, redactor)
            secret = secret or hidden
        if step.get("body_file") is not None:
            kwargs["body"] = self._file(str(step["body_file"]), values).read_bytes()
            headers["Content-Type"] = "application/octet-stream"
        if step.get("files"):
            files = {}
            for field_name, spec in step["files"].items():
                spec = {"path": spec} if isinstance(spec, str) else dict(spec)
                fpath = self._file(str(spec["path"]), values)
                name = render(str(spec.get("filename", fpath.name)), values)[0]
                files[str(field_name)] = (name, fpath.read_bytes(),
                                          str(spec.get("content_type", "application/octet-stream")))
            kwargs["files"] = files
        if step.get("content_type"):
            headers["Content-Type"] = str(step["content_type"])
        for name, value in (step.get("headers") or {}).items():
            headers[str(name)], hidden = render(str(value), values, redactor)
            secret = secret or hidden
        auth, auth_headers, hidden = self._auth(link, step, values)
        headers.update(auth_headers)
        secret = secret or hidden
        captured: dict[str, Any] = {}

        def on_response(resp: Any) -> None:
            # Before the transcript sees the answer: a captured token is a secret from now on.
            outcome, groups = http_outcome(resp.status, resp.text, step, values)
            captured["outcome"], captured["groups"] = outcome, groups
            if outcome == "ok":
                for var, spec in (step.get("capture") or {}).items():
                    value = self._http_capture(link, resp, spec, values)
                    captured.setdefault("values", {})[var] = value
                    if value is not None and (is_secret_name(var) or var.startswith("session.")) and str(value):
                        redactor.add(str(value), var)
            if secret and resp.status is not None and 200 <= resp.status < 300:
                # A session the harness opened with a lab secret (a login answer) is a secret too,
                # whether a step captures it or not: the answer goes into the transcript next.
                for key, token in _session_tokens(resp):
                    redactor.add(token, f"session {key}")

        resp = link.request(verb.upper(), path, timeout=timeout, headers=headers, secret=secret, auth=auth,
                            on_response=on_response, secret_url=secret_url, **kwargs)
        if resp.error:
            result.detail = resp.error
            # A request the client refused to build (a 64 KiB query) never reached the device.
            return "timeout" if resp.sent else "not_sent"
        result.captures["status"] = resp.status
        outcome = captured.get("outcome") or http_outcome(resp.status, resp.text, step, values)[0]
        for k, v in (captured.get("groups") or {}).items():
            self._capture(result, k, v)
        if outcome != "ok":
            retry = resp.headers.get("Retry-After") or resp.headers.get("retry-after")
            result.captures["retry_after"] = retry
            result.detail = f"HTTP {resp.status}" + (f", Retry-After {retry}" if retry else "")
            return outcome
        for var, value in (captured.get("values") or {}).items():
            self._capture(result, var, value)
        return "ok"

    @staticmethod
    def _http_capture(link: Any, resp: Any, spec: Any, values: Mapping[str, Any]) -> Any:
        """``REGEX`` (on the body; group 1 or the whole match) or one of ``{header: NAME[, regex]}``,
        ``{cookie: NAME}``, ``{json: dotted.path}``, ``{body: REGEX}``. Names and paths are templates
        (``{json: 'settings.{{name}}'}``); in a regular expression a placeholder matches literally."""
        if isinstance(spec, str):
            spec = {"body": spec}
        spec = {k: (_regex_render(str(v), values) if k in ("regex", "body") else render(str(v), values)[0])
                for k, v in spec.items()}
        if "header" in spec:
            lowered = {k.lower(): v for k, v in resp.headers.items()}
            text = lowered.get(str(spec["header"]).lower())
        elif "cookie" in spec:
            return getattr(link, "cookies", {}).get(str(spec["cookie"]))
        elif "json" in spec:
            try:
                cur: Any = json.loads(resp.text or "null")
            except ValueError:
                return None
            for part in str(spec["json"]).split("."):
                if isinstance(cur, list) and part.isdigit() and int(part) < len(cur):
                    cur = cur[int(part)]
                elif isinstance(cur, dict) and part in cur:
                    cur = cur[part]
                else:
                    return None
            return cur if isinstance(cur, str) or cur is None else json.dumps(cur)
        else:
            text = resp.text or ""
        regex = spec.get("regex") or spec.get("body")
        if text is None or regex is None:
            return text
        m = re.search(str(regex), text, re.MULTILINE)
        if m is None:
            return None
        return m.group(1) if m.groups() else m.group(0)

    # -- bench tools --------------------------------------------------------------------------------
    def _bench_run(self, arg: Any, values: dict[str, Any], result: ProcedureResult, timeout: float | None,
                   step: dict[str, Any]) -> str:
        from harness.links.bench import BenchLink, bench_outcome

        if self._bench_link is None:
            self._bench_link = BenchLink("bench", transcript_dir=self.device.transcript_dir,
                                         redactor=self.device.bench.redactor)
        redactor = self.device.bench.redactor
        argv, secret = render_data([str(a) for a in arg], values, redactor)
        env, hidden = render_data({str(k): str(v) for k, v in (step.get("env") or {}).items()}, values, redactor)
        cwd = Path(render(str(step["cwd"]), values)[0]) if step.get("cwd") else self.device.bench.base_dir
        if not cwd.is_absolute():
            cwd = self.device.bench.base_dir / cwd
        run = self._bench_link.run(argv, timeout=float(timeout or 30.0), env=env, cwd=cwd, secret=secret or hidden)
        if run.error:
            raise ProfileRuntimeError(f"bench.run {argv[0]!r}: {run.error}")
        if run.timed_out:
            result.detail = f"{argv[0]} did not finish within {run.timeout:g} s"
            return "timeout"
        outcome, groups = bench_outcome(run.exit_code, run.output, step.get("outcomes"))
        for k, v in groups.items():
            self._capture(result, k, v)
        result.captures["exit_code"] = run.exit_code
        if outcome != "ok":
            last = run.output.strip().splitlines()[-1:] if run.output.strip() else []
            result.detail = f"{argv[0]} exited {run.exit_code}" + (f": {redactor.redact(last[0])[:200]}" if last else "")
            return outcome
        for var, regex in (step.get("capture") or {}).items():
            m = re.search(str(regex), run.output, re.MULTILINE)
            self._capture(result, var, (m.group(1) if m.groups() else m.group(0)) if m else None)
        return "ok"

    def close(self) -> None:
        """Close what the runner itself opened (the bench tools' transcript)."""
        if self._bench_link is not None:
            self._bench_link.close()

    @property
    def bench_transcript(self) -> Any:
        """The transcript of the bench tools this unit's procedures ran (None before the first)."""
        return None if self._bench_link is None else self._bench_link.transcript

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
            payload, secret = render(str(step.get("payload", "")), values, self.device.bench.redactor)
            link.publish(self._topic(link, str(arg), values), payload, qos=int(step.get("qos", 0)),
                         retain=bool(step.get("retain", False)), secret=secret)
            return "ok"
        if verb == "connect":
            user, _ = render(str(step.get("user", "{{user}}")), values)
            password, _ = render(str(step.get("password", "{{password}}")), values, self.device.bench.redactor)
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
        for k, v in groups.items():
            if v is not None:
                self._capture(result, k, v)
        result.captures["topic"] = message.topic
        if name != "ok":
            result.detail = f"device published {message.topic}: {message.text[:200]!r}"
        return name

    # -- SSH ----------------------------------------------------------------------------------------
    def _ssh(self, link: Any, verb: str, arg: Any, variables: dict[str, Any], result: ProcedureResult,
             timeout: float | None, step: dict[str, Any]) -> str:
        values = {**variables, **result.captures}
        user, _ = render(str(step.get("user", "{{user}}")), values)
        password, _ = render(str(step.get("password", "{{password}}")), values, self.device.bench.redactor)
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
