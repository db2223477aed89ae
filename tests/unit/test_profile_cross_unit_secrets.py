"""A run of one unit says at its start which label passwords of the other units it cannot resolve
(the test cases that compare units read every unit's): by name, never by value, once — in a plain
`pytest --unit U1` run as in `harness run --unit U1` — and the report lists them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.profile.resolve import CROSS_UNIT_NOTE, open_bench

ROOT = Path(__file__).resolve().parents[2]
U1_SECRET = "U1-label-only-this-one"


def _bench_files(tmp_path: Path) -> tuple[Path, Path]:
    text = (ROOT / "device_profiles" / "template-real-device.yaml").read_text(encoding="utf-8")
    profile = tmp_path / "profile.yaml"
    profile.write_text(text.replace("    type: serial\n", "    type: serial\n    hotplug: true\n", 1), encoding="utf-8")
    (tmp_path / "secrets.json").write_text(json.dumps({"EX100_U1_LABEL": U1_SECRET}), encoding="utf-8")
    lab = tmp_path / "lab.yaml"
    lab.write_text("schema_version: 1\nsecrets: {file: secrets.json, environment: false}\n"
                   "networks: [192.0.2.0/24]\n", encoding="utf-8")
    return profile, lab


def test_the_note_names_the_missing_secret_of_the_other_unit(tmp_path: Path) -> None:
    profile, lab = _bench_files(tmp_path)
    bench = open_bench(profile, lab)
    lines = bench.unresolved_note(["U1"])
    assert lines[0] == CROSS_UNIT_NOTE
    assert len(lines) == 2 and "units.U2.accounts.admin.password" in lines[1] and "EX100_U2_LABEL" in lines[1]
    assert bench.unresolved_note(["U1", "U2"]) == []
    assert bench.unresolved_note([]) == []  # every unit runs: nothing is missing for comparisons
    assert not any(U1_SECRET in line for line in lines)


def _plugin_reports_it() -> bool:
    import harness.pytest_plugin as plugin
    return "unresolved_secrets" in Path(plugin.__file__).read_text(encoding="utf-8")


def test_a_plain_pytest_run_of_one_unit_says_it_once_and_the_report_lists_it(tmp_path: Path) -> None:
    if not _plugin_reports_it():
        pytest.skip("the pytest plugin does not report other units' missing secrets yet (requested)")
    profile, lab = _bench_files(tmp_path)
    run_dir = tmp_path / "run"
    out = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "test_suites" / "pytest"), "--profile", str(profile),
                          "--lab", str(lab), "--unit", "U1", "--run-dir", str(run_dir), "-p", "no:cacheprovider",
                          "--collect-only", "-q"], capture_output=True, text=True, timeout=300, cwd=ROOT)
    shown = out.stdout + out.stderr
    assert shown.count(CROSS_UNIT_NOTE) == 1, shown[-3000:]
    assert "EX100_U2_LABEL" in shown and U1_SECRET not in shown
    sessions = [json.loads(line) for seg in (run_dir / "results").glob("*.jsonl")
                for line in seg.read_text(encoding="utf-8").splitlines() if '"session"' in line]
    assert sessions and all(any("EX100_U2_LABEL" in g for g in s.get("unresolved_secrets", [])) for s in sessions)
    from harness.report.model import build_report_model
    model = build_report_model(run_dir)
    assert any("EX100_U2_LABEL" in w for w in model.warnings), model.warnings
