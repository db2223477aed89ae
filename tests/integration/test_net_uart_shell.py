"""5.6-4-2 on a physical console, both ways, on the camera simulator (a device unlike the hub):
its UART asks for a login (PASS); with `uart_root_shell` it starts a root shell on Enter (FAIL).
The console is reached through the profile's own `attention` procedure, never the hub's prompts."""

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
SUITE = str(ROOT / "test_suites" / "pytest" / "test_5_6_surface.py")
_ok, _why = availability()
pytestmark = [pytest.mark.integration, pytest.mark.skipif(not _ok, reason=f"no network namespaces: {_why}")]


def _surface(persona: str, defects: dict[str, str | None], tmp: Path) -> dict:
    with Namespace.create("hxu") as ns:
        sim = SimulatorProcess(persona, tmp / "sim", defects=defects, time_scale=0.0, units=1, netns=ns)
        sim.start()
        try:
            cmd = [sys.executable, "-m", "pytest", f"{SUITE}::test_5_6_4_2_debug_interface_off", "-q",
                   *SUITE_PLUGIN_OPTIONS, "--rootdir", str(ROOT),
                   "--profile", str(ROOT / "device_profiles" / f"sim-{persona}.yaml"), "--lab", str(sim.lab_path),
                   "--run-dir", str(tmp / "run"), "--unit", "U1"]
            proc = subprocess.run(ns.exec_args(cmd), cwd=ROOT, capture_output=True, text=True, timeout=300)
            assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
            return latest_by_case(tmp / "run")
        finally:
            sim.stop()


@pytest.mark.parametrize("defects,expected", [({}, "PASS"), ({"uart_root_shell": None}, "FAIL")],
                         ids=["login_on_uart", "uart_root_shell"])
def test_camera_uart_shell_both_ways(defects: dict[str, str | None], expected: str, tmp_path: Path) -> None:
    got = _surface("camera", defects, tmp_path)[("5.6-4-2", "U1")]
    assert got["verdict"] == expected, got["reason"]
    if expected == "FAIL":
        assert "console without login" in got["reason"]
