"""Device-behaviour matrix: the storage, identity, firmware-secret, network-function, tamper and
sensor suites against the hub simulator (pytest with the harness plugin, as `harness run` runs them),
one unit, time scale 0. The compliant and legacy personas PASS every case; each defect switch FAILs
exactly its own case and leaves the other five unchanged."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.results import latest_by_case
from harness.simctl import SimulatorProcess

ROOT = Path(__file__).resolve().parents[2]
SUITES = [ROOT / "test_suites" / "pytest" / f for f in (
    "test_5_4_storage.py", "test_5_5_4_functions.py", "test_5_7_2_tamper.py", "test_5_8_3_sensors.py")]
CASES = ("5.4-1-2", "5.4-2-2", "5.4-3-2", "5.5-4-2", "5.7-2-2", "5.8-3-1")
PROFILE_LEVEL = {"5.4-3-2"}

# scenario: (persona, defects, the cases that FAIL)
SCENARIOS: dict[str, tuple[str, list[str], set[str]]] = {
    "compliant": ("compliant", [], set()),
    "legacy": ("legacy", [], set()),  # the legacy persona keeps these behaviours compliant
    "plaintext_secrets_at_rest": ("compliant", ["plaintext_secrets_at_rest"], {"5.4-1-2"}),
    "identity_writable": ("compliant", ["identity_writable"], {"5.4-2-2"}),
    "hardcoded_key_in_firmware": ("compliant", ["hardcoded_key_in_firmware"], {"5.4-3-2"}),
    "unauthenticated_functions": ("compliant", ["unauthenticated_functions"], {"5.5-4-2"}),
    "no_tamper_response": ("compliant", ["no_tamper_response"], {"5.7-2-2"}),
    "undocumented_microphone": ("compliant", ["undocumented_microphone"], {"5.8-3-1"}),
}


def run_scenario(persona: str, defects: list[str], tmp: Path) -> dict:
    sim = SimulatorProcess(persona, tmp / "sim", defects={d: None for d in defects}, time_scale=0.0,
                           units=1)
    sim.start()
    try:
        run_dir = tmp / "run"
        cmd = [sys.executable, "-m", "pytest", *map(str, SUITES), "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
               "--profile", str(ROOT / "device_profiles" / f"sim-{persona}.yaml"), "--lab", str(sim.lab_path),
               "--run-dir", str(run_dir), "--unit", "U1"]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
        return latest_by_case(run_dir)
    finally:
        sim.stop()


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_device_matrix(scenario: str, tmp_path: Path) -> None:
    persona, defects, failing = SCENARIOS[scenario]
    got = run_scenario(persona, defects, tmp_path)
    expected = {(tc, None if tc in PROFILE_LEVEL else "U1"): ("FAIL" if tc in failing else "PASS") for tc in CASES}
    actual = {k: got.get(k, {}).get("verdict") for k in expected}
    diff = {k: (v, actual[k], got.get(k, {}).get("reason", "")[:300]) for k, v in expected.items() if actual[k] != v}
    assert not diff, diff
