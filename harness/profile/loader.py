"""Load and validate device profiles and lab configurations with errors a human can act on."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from harness.profile.lab_models import LabConfig
from harness.profile.models import (
    CONTROL_VERBS,
    LINK_VERBS,
    STEP_OPTIONS,
    DeviceProfile,
    Step,
    check_serial_url,
)
from harness.profile.yamlpos import ConfigError, ConfigIssue, Loc, LocatedDocument, load_located

# Procedures a profile must declare because mandatory provisions need them, and the ICS
# condition (Table B.1) that makes them necessary (None: always).
REQUIRED_PROCEDURES: dict[str, tuple[int | None, str]] = {
    "login": (None, "5.1-1 and every test that needs a session"),
    "logout": (None, "returning the console to the login prompt"),
    "factory_reset": (None, "5.1-1 after reset and 5.11-1"),
    "set_user_data": (None, "5.11-1"),
    "read_user_data": (None, "5.11-1"),
    "change_password": (8, "5.1-4 (ICS condition 8: the device allows user authentication)"),
}
_TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*\}\}")

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
            if action in CONTROL_VERBS:
                if action in ("wait_for", "call") and arg not in profile.procedures:
                    issues.append(doc.issue(aloc, f"no procedure named {arg!r}"))
                if action == "settle" and not (isinstance(arg, (int, float)) or arg in profile.settle):
                    issues.append(doc.issue(aloc, "settle takes seconds or a name declared under `settle:`"))
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
            if "timeout" in step and not (isinstance(step["timeout"], (int, float)) and step["timeout"] > 0):
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
        counts = Counter(v.lower() if isinstance(v, str) else v for v in values if v is not None)
        for i, v in enumerate(values):
            if v is not None and counts[v.lower() if isinstance(v, str) else v] > 1:
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


def load_profile(path: str | Path) -> DeviceProfile:
    """Load, validate and cross-check a device profile; raises ConfigError listing every issue."""
    doc = load_located(path)
    profile: DeviceProfile = _validate(DeviceProfile, doc)
    issues = check_units(profile, doc) + check_procedures(profile, doc)
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
