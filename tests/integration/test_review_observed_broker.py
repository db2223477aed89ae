"""Observed-broker mode (lab configuration ``broker: {start: false, ...}``): the camera's cloud
broker is fixed in firmware and the harness only watches it. The messages the observer receives
tell what the unit published, not over which transport: 5.8-1-2 must judge the transport from the
packet capture (PASS over TLS, FAIL when the unit publishes in clear), never call an observed
message "plaintext"; 5.9-3-2 cannot stage an outage of a broker the lab does not run and says so.

The camera profile declares no personal data; the variant declares the telemetry's signal strength
(``rssi``) as an IXIT 21-PersData item so that there is a data item to follow."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from test_persona_camera import (  # tests/integration is on sys.path (rootdir import mode)
    needs_netns,
    run_matrix,
)

pytestmark = pytest.mark.integration


def _declared(doc: dict[str, Any]) -> None:
    doc["ixit"]["21-PersData"] = [{"data": "signal strength", "purpose": "diagnostics", "processed_by": "Lumatek",
                                   "keywords": ["rssi"]}]
    doc["ixit"]["23-ResMech"] = {"reconnect_max_per_minute": 6}


@needs_netns
@pytest.mark.parametrize("defects,expected", [([], "PASS"), (["cloud_plaintext"], "FAIL")])
def test_observed_broker_transport_comes_from_the_capture(defects: list[str], expected: str, tmp_path: Path) -> None:
    got = run_matrix(defects, ["5.8-1-2", "5.9-3-2"], tmp_path, _declared)
    transit, reconnect = got[("5.8-1-2", "U1")], got[("5.9-3-2", "U1")]
    assert transit["verdict"] == expected, transit["reason"]
    if expected == "PASS":
        assert "no personal data in clear" in transit["reason"]
    else:
        assert "observer" not in transit["reason"] and "1883" in transit["reason"]
    assert reconnect["verdict"] == "INCONCLUSIVE" and "fixed in firmware" in reconnect["reason"], reconnect["reason"]
