"""A killed run keeps its finished records; secrets never reach the run directory; lab faults are
INCONCLUSIVE; the CLI's exit codes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from test_matrix import ONLY_SERIAL, SERIAL_SUITES  # tests/integration is on sys.path (rootdir import mode)

from harness.cli import SUITE_PLUGIN_OPTIONS
from harness.report import build_reports
from harness.results import case_records
from harness.simctl import SimulatorProcess

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "device_profiles" / "sim-compliant.yaml"


def _pytest(sim: SimulatorProcess, run_dir: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "pytest", *SERIAL_SUITES, "-q", *SUITE_PLUGIN_OPTIONS,
            "--rootdir", str(ROOT), "--profile", str(PROFILE), "--lab", str(sim.lab_path), "--run-dir", str(run_dir), *extra]


def test_sigkill_keeps_finished_records_and_report_builds(tmp_path: Path) -> None:
    with SimulatorProcess("compliant", tmp_path / "sim", time_scale=0.2) as sim:
        run_dir = tmp_path / "run"
        proc = subprocess.Popen(_pytest(sim, run_dir), cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120
        while len(case_records(run_dir)) < 3 and time.monotonic() < deadline and proc.poll() is None:
            try:
                proc.wait(0.05)
            except subprocess.TimeoutExpired:
                pass
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(10)
    n = len(case_records(run_dir))
    assert n >= 3
    lines = sum(1 for seg in (run_dir / "results").glob("*.jsonl") for line in seg.read_text().splitlines()
                if '"record": "test_case"' in line)
    assert lines == n  # every finished record is complete on disk
    paths = build_reports(run_dir, allure=False)
    assert Path(paths.html).exists()


def test_no_secret_in_run_directory(tmp_path: Path) -> None:
    with SimulatorProcess("compliant", tmp_path / "sim", time_scale=0.0) as sim:
        secrets = json.loads((sim.run_dir / "secrets.json").read_text()).values()
        run_dir = tmp_path / "run"
        subprocess.run(_pytest(sim, run_dir, "--alluredir", str(run_dir / "allure-results")), cwd=ROOT,
                       capture_output=True, timeout=600)
    build_reports(run_dir, allure=False)
    files = [p for p in run_dir.rglob("*") if p.is_file()]
    assert len(files) > 10
    for path in files:
        data = path.read_bytes()
        for secret in secrets:
            assert secret.encode() not in data, f"{secret[:2]}… found in {path}"


def test_dead_console_is_inconclusive_not_fail(tmp_path: Path) -> None:
    sim = SimulatorProcess("compliant", tmp_path / "sim", time_scale=0.0).start()
    lab = sim.lab_path
    runtime = (sim.run_dir / "runtime.json").read_text()
    sim.stop()  # the ptys are gone: a lab fault
    # As a stale bench file would still say, but with paths no other test's pty can have taken
    # over meanwhile (pty numbers are handed out again at once).
    facts = json.loads(runtime)
    for uid, unit in facts["units"].items():
        unit["console"] = f"/dev/pts/harness-gone-{uid}"
    (sim.run_dir / "runtime.json").write_text(json.dumps(facts))
    run_dir = tmp_path / "run"
    # Only the console suites: rules over the IXIT and published pages rightly judge without a console.
    suites = ROOT / "test_suites" / "pytest"
    cmd = [sys.executable, "-m", "pytest", str(suites / "test_5_1_passwords.py"), str(suites / "test_5_11_erasure.py"),
           "-q", *SUITE_PLUGIN_OPTIONS,
           "--rootdir", str(ROOT), "--profile", str(PROFILE), "--lab", str(lab), "--run-dir", str(run_dir),
           "-k", "5_1_1_2 or 5_11_1_2"]
    subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=300)
    records = case_records(run_dir)
    verdicts = {r["verdict"] for r in records}
    assert records and verdicts <= {"INCONCLUSIVE"}, verdicts


def _not_passed(run_dir: Path) -> list[str]:
    """What kept a persona's run from exit 0, for the failure message."""
    from harness.results import latest_by_case
    if not (run_dir / "results").is_dir():
        return [f"{run_dir}: no results"]
    return [f"{k}: {r['verdict']}: {r.get('reason', '')[:200]}" for k, r in latest_by_case(run_dir).items()
            if r["verdict"] in ("FAIL", "INCONCLUSIVE")][:20]


def test_cli_exit_codes(tmp_path: Path) -> None:
    # The compliant persona through the whole `harness demo` path (namespace, parallel units, all
    # suites): exit 0. A FAIL's exit 1 is asserted on the legacy persona by test_run_parallel.py.
    out = subprocess.run([sys.executable, "-m", "harness.cli", "demo", "--out", str(tmp_path / "demo"),
                          "--persona", "compliant",
                          "--sim-dir", str(tmp_path / "sim"), "--time-scale", "0",
                          # the profiles' settle windows at 0.3: wide enough for a loaded CI machine
                          "--settle-scale", "0.3", "--no-allure", "--quiet"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "compliant  exit 0" in out.stdout, (out.stdout[-1500:], _not_passed(tmp_path / "demo" / "compliant"))


def test_rerun_inconclusive_supersedes(tmp_path: Path) -> None:
    from harness.results import latest_by_case

    with SimulatorProcess("compliant", tmp_path / "sim", defects={"silent_rejection": None}, time_scale=0.0) as sim:
        base = [sys.executable, "-m", "harness.cli", "run", str(PROFILE), "--lab", str(sim.lab_path),
                "--run-dir", str(tmp_path / "run"), "--no-allure", "--quiet", "--unit", "U1"]
        first = subprocess.run(base + ["--", *ONLY_SERIAL], cwd=ROOT, capture_output=True, text=True, timeout=300)
        before = len(case_records(tmp_path / "run"))
        again = subprocess.run(base + ["--rerun", "inconclusive", "--", *ONLY_SERIAL], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert first.returncode == 3 and again.returncode == 3, again.stdout[-1000:]
    rerun = len(case_records(tmp_path / "run")) - before
    inconclusive = [k for k, r in latest_by_case(tmp_path / "run").items() if r["verdict"] == "INCONCLUSIVE"]
    assert rerun == len(inconclusive) > 0  # exactly the INCONCLUSIVE cases ran again


def test_a_run_whose_runner_broke_never_exits_clean(tmp_path: Path) -> None:
    """A profile the runner chokes on mid-run (a lone surrogate in the model name) must not end
    in exit 0 after judging nothing: 2 when the profile is refused up front, else 3."""
    text = PROFILE.read_text().replace("  model: SimIoT Hub H1", '  model: "SimIoT \\udc80 Hub"')
    profile = ROOT / "device_profiles" / f".broken-{os.getpid()}.yaml"  # beside the original: same relative paths
    profile.write_text(text)
    try:
        with SimulatorProcess("compliant", tmp_path / "sim", time_scale=0.0) as sim:
            out = subprocess.run([sys.executable, "-m", "harness.cli", "run", str(profile), "--lab", str(sim.lab_path),
                                  "--run-dir", str(tmp_path / "run"), "--no-allure", "--quiet", "--", "-k", "4_1 or 5_2"],
                                 cwd=ROOT, capture_output=True, text=True, timeout=300)
    finally:
        profile.unlink()
    assert out.returncode in (2, 3), out.stdout[-1500:] + out.stderr[-1500:]
