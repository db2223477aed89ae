"""Published guidance and notices, and the deletion confirmation × the simulator's defect switches:
compliant → PASS for each case, each defect → FAIL of exactly its case, the others unchanged.

Each scenario runs the simulator (time scale 0, one unit) and `harness run` with only these suites.
The documents are served on loopback by the simulator's web site and the deletion runs over the
unit's pty console, so no network namespace is needed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from test_matrix import verdict_diff  # tests/integration is on sys.path (rootdir import mode)

from harness.results import latest_by_case
from harness.simctl import SimulatorProcess

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SUITE_DIR = ROOT / "test_suites" / "pytest"
SUITES = [SUITE_DIR / f for f in (
    "test_5_11_deletion_guidance.py", "test_5_12_setup_guidance.py", "test_6_privacy_notices.py")]
ONLY_THESE = [f"--ignore={p}" for p in sorted(SUITE_DIR.glob("test_*.py")) if p not in SUITES]
PROFILE_LEVEL = ("5.11-3-1", "5.12-2-1", "5.12-3-1", "6-1-2", "6-5-2")
PER_UNIT = ("5.11-4-1",)


def verdicts(*failing: str, **other: str) -> dict[tuple[str, str | None], str]:
    out: dict[tuple[str, str | None], str] = {(tc, None): "PASS" for tc in PROFILE_LEVEL}
    out.update({(tc, "U1"): "PASS" for tc in PER_UNIT})
    for tc, verdict in [*((t, "FAIL") for t in failing), *other.items()]:
        key = (tc, "U1") if tc in PER_UNIT else (tc, None)
        assert key in out, tc
        out[key] = verdict
    return out


SCENARIOS: dict[str, tuple[str, list[str], dict[tuple[str, str | None], str]]] = {
    "compliant": ("compliant", [], verdicts()),
    # The legacy persona publishes the same pages and confirms its reset (it keeps the user data,
    # which 5.11-1-2 judges, not these cases).
    "legacy": ("legacy", [], verdicts()),
    "no_deletion_instructions": ("compliant", ["no_deletion_instructions"], verdicts("5.11-3-1")),
    "silent_deletion": ("compliant", ["silent_deletion"], verdicts("5.11-4-1")),
    "no_setup_guide": ("compliant", ["no_setup_guide"], verdicts("5.12-2-1")),
    "no_setup_check_guide": ("compliant", ["no_setup_check_guide"], verdicts("5.12-3-1")),
    "no_privacy_notice": ("compliant", ["no_privacy_notice"], verdicts("6-1-2")),
    "privacy_notice_incomplete": ("compliant", ["privacy_notice_incomplete"], verdicts("6-1-2")),
    "no_telemetry_notice": ("compliant", ["no_telemetry_notice"], verdicts("6-5-2")),
}


def _undeclared(doc: dict) -> None:
    """The compliant profile without the IXIT these cases compare with."""
    info = doc["ixit"]["2-UserInfo"]
    for key in ("privacy_notice", "telemetry_notice", "deletion_instructions", "setup_guide", "setup_check_guide"):
        info.pop(key, None)
    doc["ixit"].pop("24-TelData", None)
    for f in doc["ixit"]["25-DelFunc"]:
        f.pop("confirmation", None)


INC = "INCONCLUSIVE"
PROFILE_VARIANTS: dict[str, tuple[Callable[[dict], None], dict[tuple[str, str | None], str]]] = {
    "ixit_undeclared": (_undeclared, verdicts(**{tc: INC for tc in (*PROFILE_LEVEL, *PER_UNIT)})),
}


def run_published(persona: str, defects: list[str], tmp: Path, profile: Path | None = None) -> dict:
    parsed = {d.partition("=")[0]: (d.partition("=")[2] or None) for d in defects}
    with SimulatorProcess(persona, tmp / "sim", defects=parsed, time_scale=0.0, units=1) as sim:
        run_dir = tmp / "run"
        cmd = [sys.executable, "-m", "harness.cli", "run", str(profile or ROOT / "device_profiles" / f"sim-{persona}.yaml"),
               "--lab", str(sim.lab_path), "--unit", "U1", "--run-dir", str(run_dir), "--quiet", "--no-allure",
               "--", *ONLY_THESE, "-p", "no:cacheprovider"]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode in (0, 1, 3), proc.stdout[-3000:] + proc.stderr[-3000:]
        return latest_by_case(run_dir)


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_published_matrix(scenario: str, tmp_path: Path) -> None:
    persona, defects, expected = SCENARIOS[scenario]
    got = run_published(persona, defects, tmp_path)
    diff = verdict_diff(expected, got)
    assert not diff, diff


@pytest.mark.parametrize("variant", list(PROFILE_VARIANTS))
def test_published_profile_variant(variant: str, tmp_path: Path) -> None:
    transform, expected = PROFILE_VARIANTS[variant]
    doc = yaml.safe_load((ROOT / "device_profiles" / "sim-compliant.yaml").read_text())
    transform(doc)
    profile = tmp_path / "variant.yaml"
    profile.write_text(yaml.safe_dump(doc, sort_keys=False))
    got = run_published("compliant", [], tmp_path, profile=profile)
    diff = verdict_diff(expected, got)
    assert not diff, diff
    reasons = {k: r["reason"] for k, r in got.items()}
    assert "declares no IXIT 2-UserInfo privacy_notice" in reasons[("6-1-2", None)]
    assert "declares no confirmation" in reasons[("5.11-4-1", "U1")]
