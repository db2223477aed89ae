"""The camera simulator (cloud broker fixed in firmware, observed) when the bench cannot capture:
the capture-based verdicts are INCONCLUSIVE with the cause, never PASS, and the tests that need a
re-pointable broker say why they cannot run."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import SUITE_PLUGIN_OPTIONS
from harness.net.netns import Namespace, availability
from harness.results import latest_by_case
from harness.simctl import SimulatorProcess

ROOT = Path(__file__).resolve().parents[2]
SUITES = [str(ROOT / "test_suites" / "pytest" / f) for f in (
    "test_5_1_3_authentication_channel.py", "test_5_5_communication.py", "test_5_8_personal_data.py")]
_ok, _why = availability()
pytestmark = [pytest.mark.integration, pytest.mark.skipif(not _ok, reason=f"no network namespaces: {_why}"),
              pytest.mark.skipif(not (ROOT / "device_profiles" / "sim-camera.yaml").is_file(),
                                 reason="no camera profile in this checkout")]


def run_camera(tmp: Path, capture: str) -> dict:
    with Namespace.create("hxc") as ns:
        sim = SimulatorProcess("camera", tmp / "sim", time_scale=0.0, units=1, netns=ns)
        sim.start()
        try:
            lab = sim.lab_path.read_text(encoding="utf-8")
            lines = [line for line in lab.splitlines() if not line.startswith("capture:")]
            sim.lab_path.write_text("\n".join(lines + [f"capture: {capture}"]) + "\n", encoding="utf-8")
            cmd = [sys.executable, "-m", "pytest", *SUITES, "-q", *SUITE_PLUGIN_OPTIONS, "--rootdir", str(ROOT),
                   "--profile", str(ROOT / "device_profiles" / "sim-camera.yaml"), "--lab", str(sim.lab_path),
                   "--run-dir", str(tmp / "run"), "--unit", "U1"]
            proc = subprocess.run(ns.exec_args(cmd), cwd=ROOT, capture_output=True, text=True, timeout=600)
            assert proc.returncode in (0, 1, 3), proc.stdout[-3000:] + proc.stderr[-3000:]
            return latest_by_case(tmp / "run")
        finally:
            sim.stop()


def test_without_a_capture_nothing_passes_on_an_observed_broker(tmp_path: Path) -> None:
    # A tcpdump that ends before it captures, as one without CAP_NET_RAW does ("You don't have
    # permission to capture on that device"); `capture: {enabled: false}` takes the same path.
    got = run_camera(tmp_path, "{interface: lo, tcpdump: /bin/false}")
    cause = "tcpdump cannot capture"
    for case in ("5.1-3-2", "5.5-7-2", "5.8-2-2", "5.5-1-2"):
        rec = got[(case, "U1")]
        assert rec["verdict"] == "INCONCLUSIVE", (case, rec["verdict"], rec["reason"])
    assert cause in got[("5.1-3-2", "U1")]["reason"]
    assert "rogue-server test is impossible" in got[("5.5-1-2", "U1")]["reason"]
