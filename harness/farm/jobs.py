"""Unit workers of a parallel run: at most N at once, never two on one unit, progress as it happens.

Each worker is a process of its own (a pytest run restricted to one unit) whose console output
goes to a log file per unit; the lines that report a finished test are also echoed, prefixed with
the unit, so a long run shows what it is doing. Workers share nothing but the run directory: each
writes its own results segment, and the report merges them.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

# `path::test_name[params] PASSED` (pytest -v, classic console style)
_RESULT = re.compile(r"(?P<test>[^\s:]+::\S+)\s+(?P<outcome>PASSED|FAILED|SKIPPED|ERROR|XFAIL|XPASS)\b")
STOP_GRACE = 10.0  # seconds a worker gets to write its last records after SIGTERM


class RunInterrupted(KeyboardInterrupt):
    """SIGTERM arrived while the workers ran; they have been stopped (handled like Ctrl-C)."""


@dataclass
class UnitResult:
    unit: str
    code: int | None = None  # None: never started or did not end
    seconds: float = 0.0
    log: Path | None = None
    tests: int = 0


@dataclass
class _Worker:
    unit: str
    proc: subprocess.Popen[bytes]
    log: IO[bytes]
    started: float
    reader: threading.Thread | None = None
    result: UnitResult = field(default_factory=lambda: UnitResult(""))


def _read(worker: _Worker, events: queue.Queue[tuple[str, str, object]]) -> None:
    assert worker.proc.stdout is not None
    for raw in iter(worker.proc.stdout.readline, b""):
        worker.log.write(raw)
        worker.log.flush()
        line = raw.decode("utf-8", "replace").rstrip()
        match = _RESULT.search(line)
        if match:
            events.put(("result", worker.unit, f"{match['test'].rsplit('/', 1)[-1]} {match['outcome']}"))
    code = worker.proc.wait()
    events.put(("exit", worker.unit, code))


@contextmanager
def _sigterm_raises() -> Iterator[None]:
    """SIGTERM ends the scheduler like Ctrl-C does: workers stopped, partial results kept."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: object) -> None:
        raise RunInterrupted(f"signal {signum}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _stop(workers: dict[str, _Worker], out: IO[str]) -> None:
    for w in workers.values():
        if w.proc.poll() is None:
            w.proc.terminate()
    deadline = time.monotonic() + STOP_GRACE
    for w in workers.values():
        try:
            w.proc.wait(max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            w.proc.kill()
            w.proc.wait(STOP_GRACE)
        if w.reader is not None:
            w.reader.join(STOP_GRACE)
        if not w.log.closed:
            w.log.close()
        print(f"unit {w.unit}: stopped (exit code {w.proc.returncode})", file=out, flush=True)


def run_units(units: Sequence[str], command: Callable[[str], list[str]], *, jobs: int, log_dir: Path,
              env: dict[str, str] | None = None, cwd: Path | None = None, out: IO[str] | None = None,
              timeout: float | None = None) -> dict[str, UnitResult]:
    """Run ``command(unit)`` for every unit, ``jobs`` at a time; return each unit's result.

    A unit named twice runs once. ``timeout`` bounds the whole batch: workers still running then
    are stopped and keep ``code`` None. Ctrl-C and SIGTERM stop every worker before re-raising.
    """
    out = out or sys.stdout
    jobs = max(1, int(jobs))
    pending = list(dict.fromkeys(units))
    log_dir.mkdir(parents=True, exist_ok=True)
    results = {u: UnitResult(u, log=log_dir / f"pytest-{u}.log") for u in pending}
    running: dict[str, _Worker] = {}
    events: queue.Queue[tuple[str, str, object]] = queue.Queue()
    deadline = None if timeout is None else time.monotonic() + timeout
    total = len(pending)

    def start(unit: str) -> None:
        log = open(results[unit].log, "wb")  # noqa: SIM115 - closed when the worker ends
        proc = subprocess.Popen(command(unit), env=env, cwd=cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        w = _Worker(unit, proc, log, time.monotonic(), result=results[unit])
        w.reader = threading.Thread(target=_read, args=(w, events), name=f"unit-{unit}", daemon=True)
        w.reader.start()
        running[unit] = w
        print(f"unit {unit}: started (pid {proc.pid}; {len(running)} running, {len(pending)} queued)",
              file=out, flush=True)

    try:
        with _sigterm_raises():
            while pending or running:
                while pending and len(running) < jobs:
                    start(pending.pop(0))
                wait = None if deadline is None else deadline - time.monotonic()
                if wait is not None and wait <= 0:
                    print(f"harness: units still running after {timeout:g} s: {', '.join(running)}; stopping them",
                          file=out, flush=True)
                    _stop(running, out)
                    break
                try:
                    kind, unit, payload = events.get(timeout=wait)
                except queue.Empty:
                    continue
                if kind == "result":
                    results[unit].tests += 1
                    print(f"[{unit}] {payload}", file=out, flush=True)
                    continue
                w = running.pop(unit)
                if w.reader is not None:
                    w.reader.join(STOP_GRACE)
                w.log.close()
                res = results[unit]
                res.code, res.seconds = int(payload), time.monotonic() - w.started  # type: ignore[call-overload]
                done = sum(r.code is not None for r in results.values())
                print(f"unit {unit}: finished, pytest exit code {res.code}, {res.tests} test(s) in "
                      f"{res.seconds:.1f} s ({done}/{total} units done; log {res.log})", file=out, flush=True)
    except BaseException:
        _stop(running, out)
        raise
    finally:
        for w in running.values():
            if not w.log.closed:
                w.log.close()
    return results


def default_jobs() -> int:
    """One worker per core is the default bound a lab machine takes without thinking about it."""
    return max(1, os.cpu_count() or 1)


def bound_pabot(steps: list, jobs: int) -> list:  # list[harness.robot.runner.Step]
    """Robot: pabot runs one item per unit; ``--processes`` bounds how many run at once."""
    for step in steps:
        cmd = step.cmd
        if "--processes" in cmd:
            at = cmd.index("--processes") + 1
            cmd[at] = str(max(1, min(int(jobs), int(cmd[at]))))
    return steps


def jobs_arg(text: str) -> int:
    """argparse type of ``--jobs``: a whole number of workers, at least 1."""
    import argparse
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of workers") from None
    if value < 1:
        raise argparse.ArgumentTypeError("--jobs needs at least 1 worker")
    return value
