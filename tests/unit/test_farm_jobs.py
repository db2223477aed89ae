"""The unit-worker scheduler of `harness run --jobs N`: bounded, one worker per unit, live progress."""

from __future__ import annotations

import argparse
import io
import json
import sys
from pathlib import Path

import pytest

from harness.farm.jobs import bound_pabot, jobs_arg, run_units

WORKER = """
import json, sys, time
unit, spans = sys.argv[1], sys.argv[2]
start = time.monotonic()
print(f"test_suites/pytest/test_5_1_passwords.py::test_label[{unit}] PASSED", flush=True)
time.sleep(float(sys.argv[3]))  # sleep-ok: a worker that takes a while
with open(spans, "a") as f:
    f.write(json.dumps([unit, start, time.monotonic()]) + "\\n")
sys.exit(1 if unit == "U2" else 0)
"""


def _command(tmp: Path, seconds: float = 0.3):
    script = tmp / "worker.py"
    script.write_text(WORKER)
    spans = tmp / "spans.jsonl"
    return spans, lambda unit: [sys.executable, str(script), unit, str(spans), str(seconds)]


def _max_overlap(spans: list[tuple[str, float, float]]) -> int:
    points = sorted([(s, 1) for _, s, _ in spans] + [(e, -1) for _, _, e in spans])
    best = now = 0
    for _, delta in points:
        now += delta
        best = max(best, now)
    return best


def test_at_most_n_workers_run_at_once_and_each_unit_once(tmp_path: Path) -> None:
    spans_path, command = _command(tmp_path)
    out = io.StringIO()
    results = run_units(["U1", "U2", "U3", "U4", "U1"], command, jobs=2, log_dir=tmp_path / "logs", out=out,
                        timeout=60)
    spans = [tuple(json.loads(line)) for line in spans_path.read_text().splitlines()]
    assert sorted(s[0] for s in spans) == ["U1", "U2", "U3", "U4"]  # U1 named twice, run once
    assert _max_overlap(spans) <= 2
    assert {u: r.code for u, r in results.items()} == {"U1": 0, "U2": 1, "U3": 0, "U4": 0}
    assert all(r.tests == 1 for r in results.values())
    text = out.getvalue()
    assert "[U3] test_5_1_passwords.py::test_label[U3] PASSED" in text  # live progress, per unit
    assert "unit U4: finished, pytest exit code 0" in text
    assert (tmp_path / "logs" / "pytest-U2.log").read_text().startswith("test_suites/pytest/")


def test_one_job_is_serial(tmp_path: Path) -> None:
    spans_path, command = _command(tmp_path, 0.1)
    run_units(["U1", "U2", "U3"], command, jobs=1, log_dir=tmp_path / "logs", out=io.StringIO(), timeout=60)
    spans = [tuple(json.loads(line)) for line in spans_path.read_text().splitlines()]
    assert [s[0] for s in spans] == ["U1", "U2", "U3"]
    assert _max_overlap(spans) == 1


def test_a_batch_past_its_time_stops_the_workers(tmp_path: Path) -> None:
    _, command = _command(tmp_path, 30)
    out = io.StringIO()
    results = run_units(["U1", "U2"], command, jobs=2, log_dir=tmp_path / "logs", out=out, timeout=1.5)
    assert all(r.code is None for r in results.values())
    assert "stopping them" in out.getvalue() and "unit U1: stopped" in out.getvalue()


def test_jobs_argument() -> None:
    assert jobs_arg("3") == 3
    for bad in ("0", "-1", "many"):
        with pytest.raises(argparse.ArgumentTypeError):
            jobs_arg(bad)


def test_pabot_processes_bounded_by_jobs() -> None:
    step = argparse.Namespace(cmd=["python", "-m", "pabot.pabot", "--processes", "3", "suites"])
    other = argparse.Namespace(cmd=["python", "-m", "robot", "suites"])
    bound_pabot([step, other], 2)
    assert step.cmd[4] == "2" and other.cmd == ["python", "-m", "robot", "suites"]
    bound_pabot([step], 8)
    assert step.cmd[4] == "2"  # never more processes than units


@pytest.mark.parametrize(("argv", "expected"), [
    ([], 1), (["--parallel"], 3), (["--jobs", "2"], 2), (["--jobs", "8"], 3), (["--jobs", "2", "--unit", "U1"], 1),
    (["--parallel", "--unit", "U1", "--unit", "U3"], 2), (["-j", "1", "--parallel"], 1),
])
def test_jobs_of_a_run(argv: list[str], expected: int) -> None:
    from harness.cli import _jobs, build_parser
    args = build_parser().parse_args(["run", "profile.yaml", *argv])
    bench = argparse.Namespace(profile=argparse.Namespace(units=[argparse.Namespace(id=u) for u in ("U1", "U2", "U3")]))
    assert _jobs(args, bench) == expected
