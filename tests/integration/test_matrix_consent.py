"""Consent, personal data in transit and update-setting test cases × the simulator's defect
switches: compliant → PASS for each case, each defect → FAIL of exactly its case.

Each scenario runs the simulator (time scale 0, one unit) and the suites inside a network
namespace the test creates, so the passive capture the in-transit case needs sees only this
unit's packets, and starts a real lab broker (Mosquitto) there through the suites' own service.
The profile's consent window is scaled down with --settle-scale."""

from __future__ import annotations

from pathlib import Path

import pytest
from matrix_support import expected, run_room  # tests/integration is on sys.path (rootdir import mode)
from test_matrix import verdict_diff

from harness.net.netns import availability

ROOT = Path(__file__).resolve().parents[2]
SUITES = [str(ROOT / "test_suites" / "pytest" / f) for f in (
    "test_6_2_consent.py", "test_6_3_consent_withdrawal.py", "test_5_3_6_update_settings.py",
    "test_5_8_1_personal_data_transit.py", "test_5_5_6_parameters_transit.py", "test_5_9_3_reconnection.py")]
CASES = ("6-2-2", "6-3-2", "5.3-6-2", "5.8-1-2", "5.5-6-2", "5.9-3-2")
SETTLE_SCALE = "0.1"  # consent_window 10 s → 1 s (four telemetry periods of the simulator at time scale 0), outage 2 s
_ok, _why = availability()
pytestmark = [pytest.mark.integration, pytest.mark.skipif(not _ok, reason=f"no network namespaces: {_why}")]


def verdicts(*failing: str, **other: str) -> dict[tuple[str, str | None], str]:
    return expected(CASES, *failing, **other)


SCENARIOS: dict[str, tuple[str, list[str], dict[tuple[str, str | None], str]]] = {
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


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_consent_matrix(scenario: str, tmp_path: Path) -> None:
    persona, defects, expected = SCENARIOS[scenario]
    got = run_room(persona, defects, tmp_path, SUITES, netns="hxc", extra=["--settle-scale", SETTLE_SCALE])
    diff = verdict_diff(expected, got)
    assert not diff, diff
