"""Run the lab's own bench tools (power switches, relays, button pushers) as procedure steps.

``bench.run: [argv, …]`` runs a program without a shell, bounded by a timeout; its output goes to a
transcript (redacted) and decides the step's outcome by exit status and output pattern.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.links.transcript import Transcript
from harness.redact import REDACTOR, Redactor

_MAX_OUTPUT = 1 << 20


@dataclass
class BenchRun:
    argv: list[str]
    exit_code: int | None = None
    output: str = ""
    timed_out: bool = False
    timeout: float = 0.0
    error: str | None = None  # the tool could not be started: a lab fault, not a device outcome


def _exit_matches(code: int | None, wanted: Any) -> bool:
    if wanted is None:
        return True
    return code in (wanted if isinstance(wanted, list) else [wanted])


def bench_outcome(exit_code: int | None, output: str, outcomes: dict[str, Any] | None) -> tuple[str, dict[str, Any]]:
    """``outcomes: {ok: 0, rejected: {exit: 1, output: 'denied'}, busy: {output: 'busy'}}``: the first
    match in declared order; without outcomes exit 0 is ``ok``, anything else ``exit_<n>``. Named
    groups of the output pattern that decided are returned as captures."""
    if not outcomes:
        return ("ok" if exit_code == 0 else f"exit_{exit_code}"), {}
    for name, spec in outcomes.items():
        if not isinstance(spec, dict):
            spec = {"exit": spec}
        if not _exit_matches(exit_code, spec.get("exit")):
            continue
        if spec.get("output") is not None:
            m = re.search(str(spec["output"]), output, re.MULTILINE)
            if m is None:
                continue
            return str(name), {k: v for k, v in m.groupdict().items() if v is not None}
        return str(name), {}
    return f"exit_{exit_code}", {}


class BenchLink:
    """The bench tools of one unit's procedures, with one transcript for all of them."""

    kind = "bench"

    def __init__(self, name: str = "bench", *, transcript_dir: str | Path | None = None,
                 redactor: Redactor = REDACTOR) -> None:
        self.name = name
        self.redactor = redactor
        self.transcript = Transcript(name, transcript_dir, redactor)

    def close(self) -> None:
        self.transcript.close()

    def run(self, argv: list[str], *, timeout: float, env: dict[str, str] | None = None,
            cwd: str | Path | None = None, secret: bool = False) -> BenchRun:
        if not argv or not argv[0]:
            return BenchRun(list(argv), error="empty command")
        program = argv[0]
        if cwd is not None and not os.path.isabs(program) and ("/" in program):
            # ./tools/relay.sh is relative to the lab (or profile) folder, like every path there.
            program = str(Path(cwd) / program)
        shown = " ".join(argv) if not secret else f"{argv[0]} «arguments with a secret»"
        self.transcript.sent(f"$ {shown}")
        run = BenchRun(list(argv), timeout=timeout)
        try:
            # Its own process group: a tool that hangs is killed with whatever it started.
            proc = subprocess.Popen([program, *argv[1:]], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, env={**os.environ, **(env or {})},
                                    cwd=str(cwd) if cwd else None, start_new_session=True)
        except OSError as exc:
            run.error = f"cannot run {program!r}: {exc.strerror or exc}"
            self.transcript.note(run.error)
            return run
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            try:
                out, _ = proc.communicate(timeout=5.0)
            except subprocess.TimeoutExpired:  # a grandchild left its own group and holds the pipe
                proc.kill()
                out = b""
            run.timed_out = True
            run.output = _text(out)[-_MAX_OUTPUT:]
            if run.output:
                self.transcript.received(run.output + "\n")
            self.transcript.note(f"{argv[0]} killed after {timeout:g} s")
            return run
        run.exit_code = proc.returncode
        run.output = _text(out)[-_MAX_OUTPUT:]
        if run.output:
            self.transcript.received(run.output if run.output.endswith("\n") else run.output + "\n")
        self.transcript.note(f"{argv[0]} exited {proc.returncode}")
        return run


def _text(data: bytes | str | None) -> str:
    if data is None:
        return ""
    return data if isinstance(data, str) else data.decode("utf-8", errors="replace")


__all__ = ["BenchLink", "BenchRun", "bench_outcome"]
