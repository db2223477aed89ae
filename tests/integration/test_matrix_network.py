"""Network defect × test-case matrix: every network defect switch of the simulator against the
network suites, with the exact verdict of every test case asserted.

Each scenario runs the simulator and the suites inside a network namespace the test creates (only
loopback up), so nothing else listening on this machine can show up as an open port, and starts
a real lab broker (Mosquitto) inside it through the suites' own lab-broker service."""

from __future__ import annotations

from pathlib import Path

import pytest
from matrix_support import expected, run_room  # tests/integration is on sys.path (rootdir import mode)
from test_matrix import verdict_diff

from harness.net.netns import availability

ROOT = Path(__file__).resolve().parents[2]
SUITES = [str(ROOT / "test_suites" / "pytest" / f) for f in (
    "test_5_1_5_brute_force.py", "test_5_5_communication.py", "test_5_6_surface.py", "test_5_8_personal_data.py")]
CASES = ("5.1-5-2", "5.5-1-2", "5.5-5-2", "5.5-7-2", "5.6-1-2", "5.6-2-2", "5.6-4-2", "5.8-2-2")
_ok, _why = availability()
pytestmark = [pytest.mark.integration, pytest.mark.skipif(not _ok, reason=f"no network namespaces: {_why}")]


def verdicts(*failing: str, **other: str) -> dict[tuple[str, str | None], str]:
    return expected(CASES, *failing, **other)


SCENARIOS: dict[str, tuple[str, list[str], dict[tuple[str, str | None], str]]] = {
    "compliant": ("compliant", [], verdicts()),
    "legacy": ("legacy", [], verdicts(*CASES)),
    "no_lockout": ("compliant", ["no_lockout"], verdicts("5.1-5-2")),
    "telnet_enabled": ("compliant", ["telnet_enabled"], verdicts("5.6-1-2")),
    "debug_shell": ("compliant", ["debug_shell"], verdicts("5.6-1-2", "5.6-4-2")),
    "legacy_ssh": ("compliant", ["legacy_ssh"], verdicts("5.5-1-2")),
    "weak_tls": ("compliant", ["weak_tls"], verdicts("5.5-1-2")),
    "status_discloses_version": ("compliant", ["status_discloses_version"], verdicts("5.6-2-2")),
    "config_without_auth": ("compliant", ["config_without_auth"], verdicts("5.5-5-2")),
    "mqtt_plaintext": ("compliant", ["mqtt_plaintext"], verdicts("5.5-7-2", "5.8-2-2")),
    "accepts_rogue_broker": ("compliant", ["accepts_rogue_broker"], verdicts("5.5-1-2")),
}


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_network_matrix(scenario: str, tmp_path: Path) -> None:
    persona, defects, expected = SCENARIOS[scenario]
    got = run_room(persona, defects, tmp_path, SUITES, netns="hxm")
    diff = verdict_diff(expected, got)
    assert not diff, diff
