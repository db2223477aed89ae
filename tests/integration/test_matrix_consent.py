"""Consent, personal data in transit and update-setting test cases × the simulator's defect
switches: compliant → PASS for each case, each defect → FAIL of exactly its case.

Each scenario runs the simulator (time scale 0, one unit) and the suites inside a network
namespace the test creates, so the passive capture the in-transit case needs sees only this
unit's packets, and starts a real lab broker (Mosquitto) there through the suites' own service.
The profile's consent window is scaled down with --settle-scale."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from test_matrix import verdict_diff  # tests/integration is on sys.path (rootdir import mode)

from harness.net.netns import Namespace, availability
from harness.results import latest_by_case
from harness.simctl import SimulatorProcess

ROOT = Path(__file__).resolve().parents[2]
SUITES = [str(ROOT / "test_suites" / "pytest" / f) for f in (
    "test_6_2_consent.py", "test_6_3_consent_withdrawal.py", "test_5_3_6_update_settings.py",
    "test_5_8_1_personal_data_transit.py", "test_5_5_6_parameters_transit.py", "test_5_9_3_reconnection.py")]
CASES = ("6-2-2", "6-3-2", "5.3-6-2", "5.8-1-2", "5.5-6-2", "5.9-3-2")
SETTLE_SCALE = "0.1"  # consent_window 10 s → 1 s (four telemetry periods of the simulator at time scale 0), outage 2 s
_ok, _why = availability()
pytestmark = [pytest.mark.integration, pytest.mark.skipif(not _ok, reason=f"no network namespaces: {_why}")]


def verdicts(*failing: str, **other: str) -> dict[tuple[str, str], str]:
    out = {(tc, "U1"): "PASS" for tc in CASES}
    for tc in failing:
        out[(tc, "U1")] = "FAIL"
    for key, verdict in other.items():
        out[(key, "U1")] = verdict
    return out


SCENARIOS: dict[str, tuple[str, list[str], dict[tuple[str, str], str]]] = {
    "compliant": ("compliant", [], verdicts()),
    # The legacy persona is compliant in these behaviours, except that it logs in to plain MQTT.
    "legacy": ("legacy", [], verdicts("5.5-6-2")),
    "telemetry_before_consent": ("compliant", ["telemetry_before_consent"], verdicts("6-2-2")),
    "telemetry_after_withdrawal": ("compliant", ["telemetry_after_withdrawal"], verdicts("6-3-2")),
    "auto_update_off_by_default": ("compliant", ["auto_update_off_by_default"], verdicts("5.3-6-2")),
    "personal_data_plaintext": ("compliant", ["personal_data_plaintext"], verdicts("5.8-1-2")),
    "mqtt_plaintext": ("compliant", ["mqtt_plaintext"], verdicts("5.5-6-2")),
    "reconnect_storm": ("compliant", ["reconnect_storm"], verdicts("5.9-3-2")),
}


def run_consent_suites(persona: str, defects: list[str], tmp: Path) -> dict:
    parsed = {d.partition("=")[0]: (d.partition("=")[2] or None) for d in defects}
    with Namespace.create("hxc") as ns:
        sim = SimulatorProcess(persona, tmp / "sim", defects=parsed, time_scale=0.0, units=1, netns=ns)
        sim.start()
        try:
            run_dir = tmp / "run"
            cmd = [sys.executable, "-m", "pytest", *SUITES, "-q", "-p", "no:cacheprovider", "--rootdir", str(ROOT),
                   "--profile", str(ROOT / "device_profiles" / f"sim-{persona}.yaml"), "--lab", str(sim.lab_path),
                   "--run-dir", str(run_dir), "--unit", "U1", "--settle-scale", SETTLE_SCALE]
            proc = subprocess.run(ns.exec_args(cmd), cwd=ROOT, capture_output=True, text=True, timeout=600)
            assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
            return latest_by_case(run_dir)
        finally:
            sim.stop()


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_consent_matrix(scenario: str, tmp_path: Path) -> None:
    persona, defects, expected = SCENARIOS[scenario]
    got = run_consent_suites(persona, defects, tmp_path)
    diff = verdict_diff(expected, got)
    assert not diff, diff
