"""Robot and pytest give the same verdict per (test case, unit) for every persona and defect switch.

For each scenario of the pytest matrix (tests/integration/test_matrix.py) two simulators start with
the same persona and defects, one per runner: each runner must meet a fresh device (a console hung
by one run must not decide the other's verdicts). The matrix's own pytest run (``run_suites``, all
pytest suites) and the Robot suites (pabot, one process per unit, then the product-level and
cross-unit cases) run at the same time. Asserted: every Robot verdict equals pytest's for the same
(test case, unit), and pytest's verdicts are the matrix's expectations, so this test asserts all
that ``test_matrix.py::test_matrix`` does and that one can be dropped to save its pytest runs.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from test_matrix import (  # tests/integration is on sys.path (rootdir import mode)
    SCENARIOS,
    console_only_profile,
    run_suites,
)

from harness.results import latest_by_case
from harness.robot.runner import RobotRun, execute, plan
from harness.simctl import SimulatorProcess

ROOT = Path(__file__).resolve().parents[2]
# The test cases the Robot suites in test_suites/robot cover.
COVERED = {"4-1-1", "5.1-1-2", "5.1-2-1", "5.1-2-2", "5.1-4-2", "5.2-1-1", "5.2-1-2", "5.3-13-1",
           "5.3-13-2", "5.11-1-2"}


def run_robot(persona: str, defects: list[str], tmp: Path, profile: Path | None = None) -> dict:
    parsed = {d.partition("=")[0]: (d.partition("=")[2] or None) for d in defects}
    profile = profile or ROOT / "device_profiles" / f"sim-{persona}.yaml"
    with SimulatorProcess(persona, tmp / "sim", defects=parsed, time_scale=0.0) as sim, \
            open(tmp / "robot.log", "wb") as log:
        run = RobotRun(profile=str(profile), lab=str(sim.lab_path), run_dir=tmp / "run",
                       units=["U1", "U2", "U3"], suites=ROOT / "test_suites" / "robot", quiet=True)
        code = execute(plan(run), output=log, timeout=300)
    assert code < 251, (tmp / "robot.log").read_text()[-3000:]
    return latest_by_case(tmp / "run")


@pytest.mark.parametrize("scenario", list(SCENARIOS))
def test_robot_and_pytest_agree(scenario: str, tmp_path: Path) -> None:
    persona, defects, expected = SCENARIOS[scenario]
    (tmp_path / "pytest").mkdir()
    (tmp_path / "robot").mkdir()
    # The personas run their full profiles (network logins included, both ways); the single
    # console defects a profile without network logins.
    profile = None if not defects else console_only_profile(persona, tmp_path)
    with ThreadPoolExecutor(max_workers=1) as pool:  # both runners at once, each on its own simulator
        pytest_side = pool.submit(run_suites, persona, defects, tmp_path / "pytest", profile)
        by_robot = run_robot(persona, defects, tmp_path / "robot", profile)
        by_pytest = pytest_side.result(timeout=600)
    assert all(r["runner"] == "robot" for r in by_robot.values())
    assert {k[0] for k in by_robot} == COVERED
    keys = {k for k in set(by_pytest) | set(by_robot) if k[0] in COVERED}
    disagree = {k: {"pytest": by_pytest.get(k, {}).get("verdict"), "robot": by_robot.get(k, {}).get("verdict"),
                    "robot reason": by_robot.get(k, {}).get("reason", "")[:200]}
                for k in keys if by_pytest.get(k, {}).get("verdict") != by_robot.get(k, {}).get("verdict")}
    assert not disagree, disagree
    actual = {k: r["verdict"] for k, r in by_pytest.items()}
    diff = {k: (expected.get(k), actual.get(k), by_pytest.get(k, {}).get("reason", "")[:200])
            for k in set(expected) | set(actual) if expected.get(k) != actual.get(k)}
    assert not diff, diff
