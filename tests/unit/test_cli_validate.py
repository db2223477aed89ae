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
