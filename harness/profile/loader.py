"""Load and validate device profiles and lab configurations with errors a human can act on."""

from __future__ import annotations

import math
import re
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from harness.profile.lab_models import LabConfig
from harness.profile.models import (
    BENCH_OPTIONS,
    CONTROL_VERBS,
    FILTERS,
    HTTP_OPTIONS,
    LINK_OPTIONS,
    LINK_VERBS,
    STEP_OPTIONS,
    TEMPLATE,
    DeviceProfile,
    HttpAuth,
    Step,
    check_serial_url,
    normal_mac,
)
from harness.profile.yamlpos import ConfigError, ConfigIssue, Loc, LocatedDocument, load_located

# Procedures a profile must declare because mandatory provisions need them, and the ICS
# condition (Table B.1) that makes them necessary (None: always).
# `logout` is optional (a new connection, a forgotten web session or `attention` stand in for it).
REQUIRED_PROCEDURES: dict[str, tuple[int | None, str]] = {
    "login": (8, "5.1-1 and every test that needs a session (ICS condition 8: the device allows user authentication)"),
    "factory_reset": (None, "5.1-1 after reset and 5.11-1"),
    "set_user_data": (None, "5.11-1"),
    "read_user_data": (None, "5.11-1"),
    "change_password": (8, "5.1-4 (ICS condition 8: the device allows user authentication)"),
}
_TEMPLATE = TEMPLATE

_FRIENDLY = {
    "missing": "missing required field",
    "extra_forbidden": "unknown key (check spelling; see `harness schema`)",
}


def _doc_loc(data: Any, loc: Loc) -> Loc:
    """Translate a pydantic loc (which contains union tags) into a path in the document."""
    out: list[Any] = []
    cur = data
    for i, part in enumerate(loc):
        last = i == len(loc) - 1
        if part == "[key]":  # pydantic's marker for "the key itself" (the key is the part before)
            continue
        if isinstance(cur, dict) and part in cur:
            out.append(part)
            cur = cur[part]
        elif isinstance(cur, dict) and isinstance(part, str) and part.isdigit() and int(part) in cur:
            out.append(int(part))
            cur = cur[int(part)]
        elif isinstance(cur, list) and isinstance(part, int) and 0 <= part < len(cur):
            out.append(part)
            cur = cur[part]
        elif last and isinstance(part, str) and (cur is None or isinstance(cur, dict)):
            out.append(part)  # a missing field: named, located at its parent
        # anything else is a union/validator tag pydantic adds, not a document key
    return tuple(out)


def _validate(model: type[BaseModel], doc: LocatedDocument) -> Any:
    if not isinstance(doc.data, dict):
        raise ConfigError([ConfigIssue(doc.file, 1, "", "expected a mapping at the top level")])
    try:
        return model.model_validate(doc.data)
    except ValidationError as exc:
        issues = []
        seen = set()
        for err in exc.errors():
            loc = _doc_loc(doc.data, err["loc"])
            msg = _FRIENDLY.get(err["type"], err["msg"])
            msg = msg.removeprefix("Value error, ")
            key = (loc, msg)
            if key in seen:
                continue
            seen.add(key)
            issues.append(doc.issue(loc, msg))
        raise ConfigError(issues) from None


def _step_action(step: Step) -> list[str]:
    return [k for k in step if k not in STEP_OPTIONS]


def check_procedures(profile: DeviceProfile, doc: LocatedDocument) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    links = profile.links
    for name, steps in profile.procedures.items():
        base: Loc = ("procedures", name)
        if isinstance(steps, str):
            if not re.match(r"^[\w.]+:[\w.]+$", steps):
                issues.append(doc.issue(base, f"expected a list of steps or 'module:Class', got {steps!r}"))
            continue
        if not steps:
            issues.append(doc.issue(base, "a procedure needs at least one step"))
        for i, step in enumerate(steps):
            loc = base + (i,)
            if not isinstance(step, dict):
                issues.append(doc.issue(loc, "a step is a mapping like {console.send: 'text'}"))
                continue
            actions = _step_action(step)
            if len(actions) != 1:
                issues.append(doc.issue(loc, f"a step has exactly one action, found {actions or 'none'}"))
                continue
            action = actions[0]
            arg = step[action]
            aloc = loc + (action,)
            issues += _check_templates(profile, doc, loc, step)
            if action in CONTROL_VERBS:
                if action in ("wait_for", "call") and not (isinstance(arg, str) and arg in profile.procedures):
                    issues.append(doc.issue(aloc, f"no procedure named {arg!r}"))
                if action == "settle" and not (isinstance(arg, (int, float)) and not isinstance(arg, bool)
                                               and math.isfinite(arg) and arg >= 0
                                               or isinstance(arg, str) and arg in profile.settle):
                    issues.append(doc.issue(aloc, "settle takes seconds or a name declared under `settle:`"))
                if action == "bench.run":
                    issues += _check_bench(doc, loc, step)
                if action == "set" and (not isinstance(arg, dict) or not arg):
                    issues.append(doc.issue(aloc, "set maps variable names to templates, e.g. {session.token: '{{token}}'}"))
                if "timeout" in step and not _seconds(step["timeout"]):
                    issues.append(doc.issue(loc + ("timeout",), "timeout must be a positive number of seconds"))
                continue
            link_name, _, verb = str(action).partition(".")
            if link_name not in links:
                issues.append(doc.issue(aloc, f"unknown action {action!r}: no link named {link_name!r} "
                                              f"(declared: {', '.join(links) or 'none'})"))
                continue
            verbs = LINK_VERBS[links[link_name].type]
            if verb not in verbs:
                issues.append(doc.issue(aloc, f"a {links[link_name].type} link has no step {verb!r} "
                                              f"(one of {', '.join(sorted(verbs))})"))
                continue
            if verb == "expect_one_of":
                if not isinstance(arg, dict) or not arg:
                    issues.append(doc.issue(aloc, "expect_one_of maps outcome names to patterns"))
                    continue
                for outcome, pattern in arg.items():
                    issues += _check_pattern(doc, aloc + (outcome,), pattern, links[link_name])
            elif verb == "expect":
                issues += _check_pattern(doc, aloc, arg, links[link_name])
            elif verb in ("power_cycle", "hold_button"):
                # The device's own time (off time, button hold): seconds, or a name under `settle:`.
                if not (_seconds(arg) or isinstance(arg, str) and arg in profile.settle):
                    issues.append(doc.issue(aloc, f"{verb} takes seconds or a name declared under `settle:` "
                                                  f"(declared: {', '.join(profile.settle) or 'none'})"))
            elif verb in ("drain", "expect_silence"):
                if not _seconds(arg):
                    issues.append(doc.issue(aloc, f"{verb} takes a positive number of seconds"))
            if links[link_name].type == "http":
                issues += _check_http(doc, loc, step)
            else:
                allowed = LINK_OPTIONS[links[link_name].type]
                extra = [k for k in step if k in STEP_OPTIONS and k not in allowed]
                if extra:
                    issues.append(doc.issue(loc, f"a {links[link_name].type} step has no option {', '.join(extra)} "
                                                 f"(options: {', '.join(sorted(allowed))})"))
            if "timeout" in step and not _seconds(step["timeout"]):
                issues.append(doc.issue(loc + ("timeout",), "timeout must be a positive number of seconds"))
    cond8 = profile.ics.conditions.get(8, True)
    for proc, (condition, why) in REQUIRED_PROCEDURES.items():
        if proc in profile.procedures:
            continue
        if condition is not None and not profile.ics.conditions.get(condition, True):
            continue
        if proc == "change_password" and not cond8:
            continue
        issues.append(doc.issue(("procedures",), f"missing required procedure {proc!r} (needed by {why})"))
    return issues


def _seconds(v: Any) -> bool:
    """A step's timeout: a finite positive number (not a boolean, not .inf)."""
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) and v > 0


def _walk_strings(value: Any, loc: Loc) -> list[tuple[Loc, str]]:
    if isinstance(value, str):
        return [(loc, value)]
    if isinstance(value, dict):
        return [x for k, v in value.items() for x in _walk_strings(v, loc + (k,))]
    if isinstance(value, list):
        return [x for i, v in enumerate(value) for x in _walk_strings(v, loc + (i,))]
    return []


def _check_templates(profile: DeviceProfile, doc: LocatedDocument, loc: Loc, step: Step) -> list[ConfigIssue]:
    """Placeholders a step uses: known filters, unit variables every unit declares, accounts that exist."""
    issues: list[ConfigIssue] = []
    accounts = {a for u in profile.units for a in u.accounts}
    for where, text in _walk_strings(step, loc):
        if "{{" in text and not _TEMPLATE.search(text) and re.search(r"\{\{[^}]*\|", text):
            issues.append(doc.issue(where, f"malformed placeholder in {text!r} (filters: {', '.join(FILTERS)})"))
        for m in _TEMPLATE.finditer(text):
            name = m.group(1)
            for flt in [f.strip() for f in (m.group(2) or "").split("|") if f.strip()]:
                if flt not in FILTERS:
                    issues.append(doc.issue(where, f"unknown filter {flt!r} in {m.group(0)!r} (one of {', '.join(FILTERS)})"))
            parts = name.split(".")
            if parts[:2] == ["unit", "vars"]:
                if len(parts) != 3:
                    issues.append(doc.issue(where, f"{m.group(0)!r}: expected {{{{unit.vars.NAME}}}}"))
                    continue
                missing = [u.id for u in profile.units if parts[2] not in u.vars]
                if missing:
                    issues.append(doc.issue(where, f"{m.group(0)!r}: unit(s) {', '.join(missing)} declare no "
                                                   f"`vars: {{{parts[2]}: …}}`"))
            elif parts[0] == "accounts":
                if len(parts) != 3 or parts[2] not in ("password", "user", "label_password"):
                    issues.append(doc.issue(where, f"{m.group(0)!r}: expected {{{{accounts.USER.password}}}}"))
                elif parts[1] not in accounts:
                    issues.append(doc.issue(where, f"{m.group(0)!r}: no unit declares an account {parts[1]!r} "
                                                   f"(accounts: {', '.join(sorted(accounts)) or 'none'})"))
    return issues


def _check_regex(doc: LocatedDocument, loc: Loc, pattern: Any) -> list[ConfigIssue]:
    if not isinstance(pattern, str):
        return [doc.issue(loc, "expected a regular expression (a string)")]
    try:
        re.compile(_TEMPLATE.sub("x", pattern))
    except re.error as exc:
        return [doc.issue(loc, f"invalid regular expression: {exc}")]
    return []


def _is_status(v: Any) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, int):
        return 100 <= v <= 599
    return isinstance(v, str) and bool(re.fullmatch(r"[1-5]xx", v))


def _check_http(doc: LocatedDocument, loc: Loc, step: Step) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    extra = [k for k in step if k in STEP_OPTIONS and k not in HTTP_OPTIONS]
    if extra:
        issues.append(doc.issue(loc, f"an HTTP step has no option {', '.join(extra)} "
                                     f"(options: {', '.join(sorted(HTTP_OPTIONS))})"))
    bodies = [k for k in ("json", "form", "body", "body_file") if step.get(k) is not None]
    if len(bodies) > 1:
        issues.append(doc.issue(loc, f"an HTTP step has one body: {' or '.join(bodies)}, not several"))
    if step.get("files") is not None and any(k in bodies for k in ("json", "body", "body_file")):
        issues.append(doc.issue(loc + ("files",), "a multipart upload (`files`) takes its other fields from `form`"))
    for key in ("form", "query", "headers"):
        if step.get(key) is not None and not isinstance(step[key], dict):
            issues.append(doc.issue(loc + (key,), f"`{key}` maps names to values"))
    files = step.get("files")
    if files is not None:
        if not isinstance(files, dict) or not files:
            issues.append(doc.issue(loc + ("files",), "`files` maps form field names to a file path or "
                                                      "{path, filename, content_type}"))
        else:
            for fname, spec in files.items():
                if not (isinstance(spec, str) or (isinstance(spec, dict) and isinstance(spec.get("path"), str)
                                                  and not set(spec) - {"path", "filename", "content_type"})):
                    issues.append(doc.issue(loc + ("files", fname), "a file is a path or {path, filename, content_type}"))
    auth = step.get("auth")
    if auth is not None and auth != "none":
        try:
            HttpAuth.model_validate(auth)
        except ValidationError as exc:
            msg = "; ".join(e["msg"].removeprefix("Value error, ") for e in exc.errors())
            issues.append(doc.issue(loc + ("auth",), f"auth is none or one of {{basic: {{user, password}}}}, "
                                                     f"{{digest: {{user, password}}}}, {{bearer: TOKEN}}: {msg}"))
    outcomes = step.get("outcomes")
    if outcomes is not None:
        if not isinstance(outcomes, dict) or not outcomes:
            issues.append(doc.issue(loc + ("outcomes",), "outcomes map names to status codes or {status, body}"))
        else:
            for name, spec in outcomes.items():
                oloc = loc + ("outcomes", name)
                if isinstance(spec, dict):
                    if set(spec) - {"status", "body"} or not spec:
                        issues.append(doc.issue(oloc, "an HTTP outcome is a status, a list of them, or {status, body}"))
                        continue
                    codes = spec.get("status")
                    if "body" in spec:
                        issues += _check_regex(doc, oloc + ("body",), spec["body"])
                else:
                    codes = spec
                if codes is not None and not all(_is_status(c) for c in (codes if isinstance(codes, list) else [codes])):
                    issues.append(doc.issue(oloc, f"{codes!r}: HTTP status codes are 100..599 or '4xx'-style classes"))
    capture = step.get("capture")
    if capture is not None:
        if not isinstance(capture, dict):
            issues.append(doc.issue(loc + ("capture",), "capture maps variable names to a regex or "
                                                        "{header|cookie|json|body: …}"))
        else:
            for var, spec in capture.items():
                cloc = loc + ("capture", var)
                if isinstance(spec, str):
                    issues += _check_regex(doc, cloc, spec)
                elif not (isinstance(spec, dict) and len(set(spec) & {"header", "cookie", "json", "body"}) == 1
                          and not set(spec) - {"header", "cookie", "json", "body", "regex"}):
                    issues.append(doc.issue(cloc, "a capture is a regex on the body or one of {header: NAME, regex: R}, "
                                                  "{cookie: NAME}, {json: dotted.path}, {body: REGEX}"))
                elif "regex" in spec:
                    issues += _check_regex(doc, cloc + ("regex",), spec["regex"])
    return issues


def _check_bench(doc: LocatedDocument, loc: Loc, step: Step) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    argv = step["bench.run"]
    if not isinstance(argv, list) or not argv or not all(isinstance(a, (str, int, float)) and not isinstance(a, bool)
                                                           for a in argv):
        issues.append(doc.issue(loc + ("bench.run",), "bench.run takes an argument list, e.g. [./relay, off, '3'] "
                                                      "(no shell: one list item per argument)"))
    extra = [k for k in step if k in STEP_OPTIONS and k not in BENCH_OPTIONS]
    if extra:
        issues.append(doc.issue(loc, f"a bench.run step has no option {', '.join(extra)} "
                                     f"(options: {', '.join(sorted(BENCH_OPTIONS))})"))
    if step.get("env") is not None and not isinstance(step["env"], dict):
        issues.append(doc.issue(loc + ("env",), "env maps variable names to values"))
    outcomes = step.get("outcomes")
    if outcomes is not None:
        if not isinstance(outcomes, dict) or not outcomes:
            issues.append(doc.issue(loc + ("outcomes",), "outcomes map names to exit codes or {exit, output}"))
        else:
            for name, spec in outcomes.items():
                oloc = loc + ("outcomes", name)
                codes = spec.get("exit") if isinstance(spec, dict) else spec
                if isinstance(spec, dict) and (set(spec) - {"exit", "output"} or not spec):
                    issues.append(doc.issue(oloc, "a bench.run outcome is an exit code, a list of them, or {exit, output}"))
                    continue
                if codes is not None and not all(isinstance(c, int) and not isinstance(c, bool)
                                                 for c in (codes if isinstance(codes, list) else [codes])):
                    issues.append(doc.issue(oloc, f"{codes!r}: exit codes are integers"))
                if isinstance(spec, dict) and "output" in spec:
                    issues += _check_regex(doc, oloc + ("output",), spec["output"])
    for var, regex in (step.get("capture") or {}).items() if isinstance(step.get("capture"), dict) else []:
        issues += _check_regex(doc, loc + ("capture", var), regex)
    return issues


def _check_pattern(doc: LocatedDocument, loc: Loc, pattern: Any, link: Any) -> list[ConfigIssue]:
    if getattr(link, "type", None) == "mqtt":
        # An MQTT expectation is a topic (filter, or a name from the link's topics) and an
        # optional payload regular expression.
        if isinstance(pattern, str):
            return []
        if not isinstance(pattern, dict) or not isinstance(pattern.get("topic"), str) or set(pattern) - {"topic", "payload"}:
            return [doc.issue(loc, "an MQTT expectation is a topic or {topic: FILTER, payload: REGEX}")]
        pattern = pattern.get("payload") or ""
    if not isinstance(pattern, str):
        return [doc.issue(loc, "a pattern is a string (a regular expression or a prompt name)")]
    if pattern in getattr(link, "prompts", {}):
        return []
    try:
        re.compile(_TEMPLATE.sub("x", pattern))
    except re.error as exc:
        return [doc.issue(loc, f"invalid regular expression: {exc}")]
    return []


def check_units(profile: DeviceProfile, doc: LocatedDocument) -> list[ConfigIssue]:
    issues: list[ConfigIssue] = []
    for field in ("id", "serial", "mac"):
        values = [getattr(u, field) for u in profile.units]
        # 02-53-49-A1-7C-31 and 02:53:49:a1:7c:31 are one unit's MAC; ids and serials differ by case only
        norm = normal_mac if field == "mac" else (lambda v: v.lower() if isinstance(v, str) else v)
        counts = Counter(norm(v) for v in values if v is not None)
        for i, v in enumerate(values):
            if v is not None and counts[norm(v)] > 1:
                issues.append(doc.issue(("units", i, field), f"duplicate unit {field} {v!r}"))
    for i, unit in enumerate(profile.units):
        for link_name, settings in unit.links.items():
            loc: Loc = ("units", i, "links", link_name)
            if link_name not in profile.links:
                issues.append(doc.issue(loc, f"no link named {link_name!r} under `links:`"))
                continue
            link = profile.links[link_name]
            for key, value in settings.items():
                if key not in type(link).model_fields or key == "type":
                    issues.append(doc.issue(loc + (key,), f"a {link.type} link has no setting {key!r}"))
                elif key == "url" and link.type == "serial" and isinstance(value, str):
                    try:
                        check_serial_url(value)
                    except ValueError as exc:
                        issues.append(doc.issue(loc + (key,), str(exc)))
    return issues


def check_policies(profile: DeviceProfile, doc: LocatedDocument) -> list[ConfigIssue]:
    """Brute-force settings name interfaces of IXIT 15-Intf (or `console`): a misspelt name would
    silently leave that interface on the default budget or counter."""
    known = {i.name for i in profile.ixit.interfaces} | {"console"}
    policy = profile.policies.brute_force
    issues = []
    for field, names in (("per_interface", list(policy.per_interface)), ("attempt_s", list(policy.attempt_s)),
                         ("independent_counters", list(policy.independent_counters))):
        for i, name in enumerate(names):
            if name not in known:
                loc: Loc = ("policies", "brute_force", field, i if field == "independent_counters" else name)
                issues.append(doc.issue(loc, f"no interface {name!r} in IXIT 15-Intf (interfaces: "
                                             f"{', '.join(sorted(known))})"))
    return issues


def load_profile(path: str | Path) -> DeviceProfile:
    """Load, validate and cross-check a device profile; raises ConfigError listing every issue."""
    doc = load_located(path)
    profile: DeviceProfile = _validate(DeviceProfile, doc)
    issues = check_units(profile, doc) + check_procedures(profile, doc) + check_policies(profile, doc)
    for name, link in profile.links.items():  # base_url, topics: the same placeholders as steps
        issues += _check_templates(profile, doc, ("links", name), link.model_dump(exclude_none=True))
    issues += _check_ics_ids(profile, doc)
    if issues:
        raise ConfigError(issues)
    return profile


def _check_ics_ids(profile: DeviceProfile, doc: LocatedDocument) -> list[ConfigIssue]:
    try:
        from harness.standard import load_catalogue
    except ImportError:  # catalogue not built yet
        return []
    cat = load_catalogue()
    return [doc.issue(("ics", "provisions", pid), f"EN 303 645 {cat.edition} has no provision {pid!r}")
            for pid in profile.ics.provisions if pid not in cat.provisions]


def load_lab(path: str | Path) -> LabConfig:
    doc = load_located(path)
    return _validate(LabConfig, doc)


def profile_schema() -> dict[str, Any]:
    schema = DeviceProfile.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Device profile (EN 303 645 conformance harness)"
    return schema


def lab_schema() -> dict[str, Any]:
    schema = LabConfig.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "Lab configuration (EN 303 645 conformance harness)"
    return schema
