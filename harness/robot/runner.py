"""Command lines of a Robot run for ``harness run --runner robot`` (Robot in processes of its own).

Robot never runs inside the CLI's or pytest's process: allure-pytest and allure-robotframework
each register in Allure's one plugin manager, so both in one process would mix their results.

With one unit: one ``robot`` process runs every test case. With several units: ``pabot`` runs the
per-unit test cases in one process per unit (units are independent devices; a unit's test cases
run in order in its process: pabot gets one argument file per unit and an ordering file that keeps
the whole suite tree in one item), then one ``robot`` process runs the product-level and cross-unit
test cases, which read the observations the units' processes wrote.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

TOP_SUITE = "Conformance"
LISTENER = "harness.robot.listener.ResultsListener"
KEEP_SCOPES = "harness.robot.scopes.KeepScopes"
# Robot's exit codes above 250 are its own errors (help, bad data or options, interrupted,
# internal error); 0-250 count failed tests.
ROBOT_ERRORS = range(251, 256)
ASSESSOR_ITEMS_VARIABLE = "HARNESS_ASSESSOR_ITEMS"


@dataclass
class RobotRun:
    profile: str
    run_dir: Path
    units: list[str]
    suites: Path
    lab: str | None = None
    runtime: str | None = None
    extra: list[str] = field(default_factory=list)  # the user's own Robot options
    quiet: bool = False
    python: str = sys.executable
    # Record the assessor items (the test cases no suite automates) in the process that runs the
    # product-level test cases. `harness run --runner robot` asks for them; a run that also runs
    # pytest gets them from pytest's suite.
    assessor_items: bool = False

    @property
    def out(self) -> Path:
        return self.run_dir / "robot"


@dataclass
class Step:
    label: str
    cmd: list[str]
    cwd: Path


def _variables(run: RobotRun, unit: str | None) -> list[str]:
    out = ["--variable", f"HARNESS_PROFILE:{run.profile}", "--variable", f"HARNESS_RUN_DIR:{run.run_dir}",
           "--variable", f"HARNESS_UNITS:{','.join(run.units)}"]
    if run.lab:
        out += ["--variable", f"HARNESS_LAB:{run.lab}"]
    if run.runtime:
        out += ["--variable", f"HARNESS_RUNTIME:{run.runtime}"]
    if unit:
        out += ["--variable", f"HARNESS_UNIT:{unit}"]
    return out


def _common(run: RobotRun, outdir: Path, scopes: Iterable[str]) -> list[str]:
    # Our listener first: it ends each test before Allure's listener does, so the verdict's
    # status, labels and evidence reach the Allure result.
    return ["--name", TOP_SUITE, "--outputdir", str(outdir),
            "--listener", LISTENER, "--listener", f"allure_robotframework:{run.run_dir / 'allure-results'}",
            "--prerunmodifier", f"{KEEP_SCOPES}:{','.join(scopes)}", "--runemptysuite",
            "--console", "quiet" if run.quiet else "verbose"]


def _robot(run: RobotRun, label: str, unit: str | None, scopes: Iterable[str], extra: list[str],
           items: bool = False) -> Step:
    outdir = run.out / label
    wanted = ["--variable", f"{ASSESSOR_ITEMS_VARIABLE}:yes"] if items and run.assessor_items else []
    cmd = [run.python, "-m", "robot", *_common(run, outdir, scopes), *_variables(run, unit), *wanted, *extra,
           str(run.suites)]
    return Step(label, cmd, run.out)


def _pabot(run: RobotRun, extra: list[str]) -> Step:
    """One pabot process per unit: argument file N names unit N."""
    run.out.mkdir(parents=True, exist_ok=True)
    ordering = run.out / "ordering.txt"
    ordering.write_text(f"--suite {TOP_SUITE}\n")  # the whole tree is one item: a unit's cases in order
    argfiles: list[str] = []
    for n, unit in enumerate(run.units, start=1):
        path = run.out / f"unit-{unit}.args"
        path.write_text(f"--variable HARNESS_UNIT:{unit}\n--metadata Unit:{unit}\n")
        argfiles += [f"--argumentfile{n}", str(path)]
    # --command: pabot would start `robot` from PATH, which need not be this interpreter's.
    cmd = [run.python, "-m", "pabot.pabot", "--command", run.python, "-m", "robot", "--end-command",
           "--no-pabotlib", "--processes", str(len(run.units)),
           "--ordering", str(ordering), *argfiles, "--pabotconsole", "quiet" if run.quiet else "verbose",
           *_common(run, run.out / "units", ["unit"]), *_variables(run, None), *extra, str(run.suites)]
    # pabot keeps its suite-name cache (.pabotsuitenames) in its working directory.
    return Step("units", cmd, run.out)


def plan(run: RobotRun) -> list[Step]:
    """The processes of a Robot run, in the order they must run."""
    if len(run.units) <= 1:
        return [_robot(run, "all", run.units[0] if run.units else None, ["unit", "profile", "cross_unit"], run.extra,
                       items=True)]
    return [_pabot(run, run.extra), _robot(run, "product", None, ["profile", "cross_unit"], run.extra, items=True)]


def _test_option(name: str) -> list[str]:
    # --test takes a glob pattern: a literal [, * or ? in a name must not act as one.
    escaped = "".join(f"[{c}]" if c in "[*?" else c for c in name)
    return ["--test", escaped]


def rerun_plan(run: RobotRun, records: Iterable[dict]) -> list[Step]:
    """Processes that repeat exactly these Robot records' test cases, each on its own unit."""
    by_unit: dict[str | None, list[str]] = {}
    for rec in records:
        unit = rec.get("unit")
        by_unit.setdefault(None if unit in (None, "*") else str(unit), []).append(str(rec["name"]))
    steps = []
    for unit in sorted(u for u in by_unit if u is not None):
        tests = [opt for name in sorted(set(by_unit[unit])) for opt in _test_option(name)]
        steps.append(_robot(run, f"rerun-{unit}", unit, ["unit"], run.extra + tests))
    if None in by_unit:
        tests = [opt for name in sorted(set(by_unit[None])) for opt in _test_option(name)]
        steps.append(_robot(run, "rerun-product", None, ["profile", "cross_unit"], run.extra + tests))
    return steps


def execute(steps: list[Step], *, env: dict[str, str] | None = None, output: IO[bytes] | None = None,
            timeout: float | None = None) -> int:
    """Run the steps one after another; the first Robot error code, else the last exit code.

    ``output``: a file for the processes' console output (default: this process's). ``timeout``
    bounds each process (seconds; default none: a real bench may take hours).
    """
    env = dict(os.environ if env is None else env)
    env.pop("HARNESS_RUN_DIR", None)
    worst = 0
    for step in steps:
        step.cwd.mkdir(parents=True, exist_ok=True)
        code = subprocess.run(step.cmd, cwd=step.cwd, env=env, check=False, stdout=output,
                              stderr=subprocess.STDOUT if output is not None else None,
                              timeout=timeout).returncode
        if code in ROBOT_ERRORS:
            print(f"harness: Robot ({step.label}) ended with exit code {code}", file=sys.stderr)
            if worst not in ROBOT_ERRORS:
                worst = code
        elif worst not in ROBOT_ERRORS:
            worst = code
    return worst
