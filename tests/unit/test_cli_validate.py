"""`harness validate` checks the update package format: a built-in, or a plugin the lab declares."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _validate(tmp_path: Path, fmt: str) -> subprocess.CompletedProcess[str]:
    text = (ROOT / "device_profiles" / "template-real-device.yaml").read_text(encoding="utf-8")
    profile = tmp_path / "p.yaml"
    profile.write_text(text + f"\nupdates:\n  format: {fmt}\n" if "\nupdates:" not in text else
                       text.replace("\nupdates:\n", f"\nupdates:\n  format: {fmt}\n", 1), encoding="utf-8")
    return subprocess.run([sys.executable, "-m", "harness.cli", "validate", str(profile)], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)


def test_an_unknown_package_format_is_refused(tmp_path: Path) -> None:
    out = _validate(tmp_path, "no-such-format")
    assert out.returncode == 2, out.stdout + out.stderr
    assert "updates.format" in out.stderr and "Traceback" not in out.stderr


def test_a_builtin_package_format_is_accepted(tmp_path: Path) -> None:
    out = _validate(tmp_path, "simfw1")
    assert out.returncode == 0, out.stdout + out.stderr


def test_a_one_unit_run_names_the_other_units_missing_secrets_at_start(tmp_path: Path) -> None:
    """Cross-unit comparisons need every unit's label password: with `--unit U1` and only U1's
    secret, the run says so before it starts instead of an INCONCLUSIVE in the middle."""
    from harness.profile import open_bench

    (tmp_path / "secrets.json").write_text('{"SIM_U1_LABEL": "Hx-only-one"}', encoding="utf-8")
    (tmp_path / "lab.yaml").write_text("schema_version: 1\nsecrets: {file: secrets.json, environment: false}\n",
                                       encoding="utf-8")
    bench = open_bench(ROOT / "device_profiles" / "sim-compliant.yaml", tmp_path / "lab.yaml")
    problems = bench.unresolved_passwords(["U1"])
    assert any("SIM_U2_LABEL" in p for p in problems) and any("SIM_U3_LABEL" in p for p in problems)
    assert not any("SIM_U1_LABEL" in p for p in problems)
    assert bench.unresolved_passwords(["U1", "U2", "U3"]) == []


def test_a_file_name_that_is_not_utf8_is_printed_escaped(tmp_path: Path) -> None:
    import os
    name = os.fsencode(tmp_path) + b"/bad\xff.yaml"
    with open(name, "wb") as fh:
        fh.write((ROOT / "device_profiles" / "template-real-device.yaml").read_bytes())
    env = {**os.environ, "PYTHONIOENCODING": "utf-8:strict"}
    out = subprocess.run([sys.executable.encode(), b"-m", b"harness.cli", b"validate", name], capture_output=True,
                         timeout=60, cwd=ROOT, env=env)
    assert b"Traceback" not in out.stderr, out.stderr
    assert out.returncode in (0, 2)
    assert b"bad\\udcff.yaml" in out.stdout + out.stderr
