"""The keyword documentation builds (as `make docs` and CI build it) and documents every keyword."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _libdoc(out: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "robot.libdoc", "harness.robot.HarnessLibrary", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_libdoc_html_builds(tmp_path: Path) -> None:
    out = tmp_path / "harness-library.html"
    _libdoc(out)
    html = out.read_text()
    for name in ("Open Unit", "Check No Universal Default Password", "Conclude", "Record Verdict", "Send To Link"):
        assert name in html


def test_every_keyword_is_documented_and_typed(tmp_path: Path) -> None:
    out = tmp_path / "spec.json"
    _libdoc(out)
    spec = json.loads(out.read_text())
    assert spec["scope"] == "SUITE"
    assert "Test cases and verdicts" in spec["doc"] and "HARNESS_PROFILE" in spec["doc"]
    keywords = {k["name"]: k for k in spec["keywords"]}
    assert len(keywords) >= 25
    for name, kw in keywords.items():
        assert kw["doc"].strip(), name
        for arg in kw["args"]:
            if arg["kind"] in ("POSITIONAL_OR_NAMED", "NAMED_ONLY"):
                assert arg["type"], f"{name}: {arg['name']} has no type"
    state = next(a for a in keywords["Open Unit"]["args"] if a["name"] == "state")
    enum = next(t for t in spec["typedocs"] if t["name"] == "UnitState")
    assert state["type"]["name"] == "UnitState"
    assert [m["name"] for m in enum["members"]] == ["any", "factory_default", "logged_in", "logged_out"]
