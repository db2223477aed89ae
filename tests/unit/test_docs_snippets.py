"""Every ```yaml block in docs/ parses, and a profile, lab configuration or fragment of one validates.

A block is classified by its top-level keys: a whole profile (``schema_version`` + ``product``), a
whole lab configuration (``schema_version`` + ``name``), a profile fragment (keys of a profile,
IXIT document names, or a list of steps) or a lab fragment (keys of a lab configuration). A fragment
is completed with a skeleton (one unit, the required procedures, stub links for the links its
steps name) and validated like a profile file.

Markers, as a comment on the block's first line:
- ``# docs-check: invalid`` — a deliberately broken example: it must FAIL validation.
- ``# docs-check: skip (why)`` — not a configuration (a runtime facts file, a log excerpt).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.profile import ConfigError, load_profile
from harness.profile.lab_models import LabConfig
from harness.profile.loader import REQUIRED_PROCEDURES, load_lab
from harness.profile.models import (
    CONTROL_VERBS,
    IXIT_DOCUMENTS,
    LINK_VERBS,
    STEP_OPTIONS,
    TEMPLATE,
    DeviceProfile,
)

ROOT = Path(__file__).resolve().parents[2]
DOCS = sorted([*ROOT.glob("docs/*.md"), *ROOT.glob("docs/*/*.md")])
_FENCE = re.compile(r"^```ya?ml[^\n]*\n(.*?)^```", re.MULTILINE | re.DOTALL)

PROFILE_KEYS = set(DeviceProfile.model_fields)
LAB_KEYS = set(LabConfig.model_fields)
# Stub settings for a link a fragment's steps use without declaring it, chosen by the verb.
STUBS: dict[str, dict[str, Any]] = {
    "serial": {"type": "serial", "url": "loop://", "prompts": {"prompt": "# $", "login_prompt": "login: $",
                                                                "password_prompt": "Password: $", "shell": "# $"}},
    "http": {"type": "http", "base_url": "http://{{unit.address}}"},
    "mqtt": {"type": "mqtt", "broker": "lab"},
    "ssh": {"type": "ssh"},
    "supply": {"type": "instrument", "role": "supply", "resource": "TCPIP::192.0.2.9::5025::SOCKET"},
    "relay": {"type": "instrument", "role": "relay", "resource": "TCPIP::192.0.2.9::5025::SOCKET"},
}


def blocks() -> list[tuple[str, int, str]]:
    out = []
    for doc in DOCS:
        text = doc.read_text(encoding="utf-8")
        for m in _FENCE.finditer(text):
            line = text.count("\n", 0, m.start()) + 1
            out.append((str(doc.relative_to(ROOT)), line, m.group(1)))
    return out


BLOCKS = blocks()


def _marker(text: str) -> str | None:
    first = text.lstrip().splitlines()[0] if text.strip() else ""
    m = re.match(r"#\s*docs-check:\s*(\w+)", first)
    return m.group(1) if m else None


def _steps(procedures: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for steps in procedures.values() if isinstance(steps, list) for s in steps if isinstance(s, dict)]


def _stub_link(verb: str) -> dict[str, Any]:
    if verb == "hold_button":
        return STUBS["relay"]
    for kind in ("serial", "http", "mqtt", "ssh"):
        if verb in LINK_VERBS[kind]:
            return STUBS[kind]
    return STUBS["supply"]


def _complete_profile(fragment: dict[str, Any]) -> dict[str, Any]:
    """A fragment plus just enough around it to be a profile: what it leaves out is stubbed."""
    profile: dict[str, Any] = {"schema_version": 1, "product": {"manufacturer": "Docs", "model": "Example"}}
    profile.update(fragment)
    procedures = dict(profile.get("procedures") or {})
    for name in REQUIRED_PROCEDURES:
        procedures.setdefault(name, [{"settle": 0}])
    steps = _steps(procedures)
    for step in steps:  # procedures the fragment calls but does not show
        for key in ("wait_for", "call"):
            if isinstance(step.get(key), str):
                procedures.setdefault(step[key], [{"settle": 0}])
    profile["procedures"] = procedures
    links = dict(profile.get("links") or {})
    for step in steps:
        for key in step:
            if key in STEP_OPTIONS or key in CONTROL_VERBS or "." not in str(key):
                continue
            link, _, verb = str(key).partition(".")
            links.setdefault(link, _stub_link(verb))
    profile["links"] = links
    if "units" not in fragment:
        text = yaml.safe_dump(fragment)
        unit_vars = {m.group(1).split(".")[2]: "x" for m in TEMPLATE.finditer(text)
                     if m.group(1).startswith("unit.vars.") and len(m.group(1).split(".")) == 3}
        accounts = {m.group(1).split(".")[1] for m in TEMPLATE.finditer(text) if m.group(1).startswith("accounts.")}
        profile["units"] = [{"id": "U1", "serial": "S1", "address": "192.0.2.10",
                             "accounts": {a: {"password": {"secret": "PW"}} for a in accounts | {"admin"}},
                             "vars": unit_vars}]
    return profile


def classify(data: Any) -> tuple[str, Any]:
    """('profile' | 'lab', document to validate) or ('other', None)."""
    if isinstance(data, list) and data and all(isinstance(s, dict) for s in data):
        return "profile", _complete_profile({"procedures": {"example": data}})
    if not isinstance(data, dict) or not data:
        return "other", None
    keys = set(data)
    if "schema_version" in keys and "product" in keys:
        return "profile", data
    if "schema_version" in keys and keys <= LAB_KEYS:
        return "lab", data
    if keys <= set(IXIT_DOCUMENTS):
        return "profile", _complete_profile({"ixit": data})
    if keys <= PROFILE_KEYS:
        return "profile", _complete_profile(data)
    if keys <= LAB_KEYS:
        return "lab", {"schema_version": 1, **data}
    return "other", None


def _validate(kind: str, document: Any, tmp_path: Path) -> None:
    path = tmp_path / "snippet.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    (load_profile if kind == "profile" else load_lab)(path)


@pytest.mark.parametrize("where,line,text", BLOCKS, ids=[f"{w}:{n}" for w, n, _ in BLOCKS])
def test_yaml_block_in_docs(where: str, line: int, text: str, tmp_path: Path) -> None:
    marker = _marker(text)
    if marker == "skip":
        return
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        pytest.fail(f"{where}:{line}: not YAML: {exc}")
    kind, document = classify(data)
    assert kind != "other", (f"{where}:{line}: a YAML block that is neither a profile, a lab configuration nor a "
                             f"fragment of one; mark it '# docs-check: skip (why)' if that is intended")
    if marker == "invalid":
        with pytest.raises(ConfigError):
            _validate(kind, document, tmp_path)
        return
    try:
        _validate(kind, document, tmp_path)
    except ConfigError as exc:
        pytest.fail(f"{where}:{line}: the example does not validate:\n{exc}")


def test_the_docs_have_yaml_examples() -> None:
    # The procedures reference and the MQTT page carry examples; losing them is a docs regression.
    where = {w for w, _, _ in BLOCKS}
    assert {"docs/procedures.md", "docs/mqtt.md"} <= where


def test_fragments_are_classified() -> None:
    assert classify([{"console.send": "x"}])[0] == "profile"
    assert classify({"15-Intf": []})[0] == "profile"
    assert classify({"broker": {"host": "127.0.0.1"}})[0] == "lab"
    assert classify({"hello": 1})[0] == "other"


def test_a_broken_fragment_fails(tmp_path: Path) -> None:
    kind, document = classify({"procedures": {"x": [{"web.get": "/", "outcomes": {"ok": 2000}}]}})
    with pytest.raises(ConfigError):
        _validate(kind, document, tmp_path)


def test_generated_reference_is_current() -> None:
    """docs/*.schema.json and docs/profile-reference.md follow the models (`make docs` rewrites them)."""
    import json

    from harness.profile.loader import lab_schema, profile_schema

    on_disk = json.loads((ROOT / "docs" / "profile.schema.json").read_text())
    assert on_disk == profile_schema(), "docs/profile.schema.json is stale: run `make docs`"
    on_disk = json.loads((ROOT / "docs" / "lab.schema.json").read_text())
    assert on_disk == lab_schema(), "docs/lab.schema.json is stale: run `make docs`"
    reference = (ROOT / "docs" / "profile-reference.md").read_text()
    for name in DeviceProfile.model_fields:
        assert f"`{name}`" in reference, f"docs/profile-reference.md lacks {name}: run `make docs`"
    assert "`7-UpdMech`" in reference and "`29-InpVal`" in reference
