"""Remote serial without labgrid: the simulator's console exported by a real ser2net as
``rfc2217://`` and as raw TCP ``socket://``; the PSTI console suites (5.1-1-2, 5.1-4-2, 5.11-1-2)
run through it, and a ser2net that dies mid-run gives INCONCLUSIVE, never FAIL."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_matrix import ONLY_SERIAL  # tests/integration is on sys.path (rootdir import mode)

from harness.farm.ser2net import Export, Ser2Net, free_port
from harness.results import latest_by_case
from harness.simctl import SimulatorProcess

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "device_profiles" / "sim-compliant.yaml"
CONSOLE_CASES = ("5.1-1-2", "5.1-4-2", "5.11-1-2")

pytestmark = pytest.mark.skipif(shutil.which("ser2net") is None and not Path("/usr/sbin/ser2net").exists(),
                                reason="ser2net not installed (Debian package ser2net)")


def _remote_runtime(sim: SimulatorProcess, unit: str, url: str, tmp: Path) -> Path:
    """The simulator's runtime facts with the unit's console replaced by the remote URL."""
    runtime = json.loads((sim.run_dir / "runtime.json").read_text())
    runtime["units"][unit]["console"] = url
    path = tmp / "runtime-remote.json"
    path.write_text(json.dumps(runtime))
    return path


def _run_cmd(sim: SimulatorProcess, runtime: Path, run_dir: Path) -> list[str]:
    return [sys.executable, "-m", "harness.cli", "run", str(PROFILE), "--lab", str(sim.lab_path),
            "--runtime", str(runtime), "--unit", "U1", "--run-dir", str(run_dir), "--no-allure",
            "--", *ONLY_SERIAL, "-k", "5_1 or 5_11"]


@pytest.mark.parametrize("protocol", ["rfc2217", "raw"])
def test_console_suites_run_through_ser2net(protocol: str, tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    with SimulatorProcess("compliant", tmp_path / "sim", time_scale=0.0) as sim:
        export = Export(sim.runtime["units"]["U1"]["console"], free_port(), protocol)  # type: ignore[arg-type]
        with Ser2Net([export], tmp_path / "ser2net"):
            runtime = _remote_runtime(sim, "U1", export.url, tmp_path)
            proc = subprocess.run(_run_cmd(sim, runtime, run_dir), cwd=ROOT, capture_output=True, text=True,
                                  timeout=600)
    got = latest_by_case(run_dir)
    verdicts = {tc: got[(tc, "U1")]["verdict"] for tc in CONSOLE_CASES if (tc, "U1") in got}
    assert verdicts == dict.fromkeys(CONSOLE_CASES, "PASS"), proc.stdout[-3000:] + proc.stderr[-2000:]
    transcript = "\n".join(p.read_text(errors="replace") for p in run_dir.rglob("*.log"))
    assert export.url.split("?")[0] in transcript or proc.returncode in (0, 3)


def test_ser2net_killed_mid_run_is_inconclusive(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    with SimulatorProcess("compliant", tmp_path / "sim", time_scale=0.0) as sim:
        export = Export(sim.runtime["units"]["U1"]["console"], free_port(), "rfc2217")
        with Ser2Net([export], tmp_path / "ser2net") as s2n:
            runtime = _remote_runtime(sim, "U1", export.url, tmp_path)
            started = time.monotonic()
            proc = subprocess.Popen(_run_cmd(sim, runtime, run_dir), cwd=ROOT, stdout=subprocess.PIPE,
                                    stderr=subprocess.STDOUT, text=True)
            assert proc.stdout is not None
            lines = []
            for line in proc.stdout:  # bounded by the run itself; the timeout below ends it
                lines.append(line)
                if "test_5_1_passwords.py::" in line and ("PASSED" in line or "FAILED" in line):
                    s2n.kill()  # the bench computer goes away after the first console case
                    break
            rest, _ = proc.communicate(timeout=600)
            elapsed = time.monotonic() - started
    out = "".join(lines) + rest
    got = latest_by_case(run_dir)
    unit_cases = {tc: r["verdict"] for (tc, unit), r in got.items() if unit == "U1"}
    assert "FAIL" not in unit_cases.values(), out[-4000:]
    assert "INCONCLUSIVE" in unit_cases.values(), (unit_cases, out[-4000:])
    assert proc.returncode == 3, out[-3000:]
    assert elapsed < 300, elapsed
