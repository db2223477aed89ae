"""The life of a simulator process, the same for every family (hub, camera, plug): one simulator
per run directory, a stale runtime.json withdrawn before start-up, SIGTERM/SIGINT or the lifetime
ending the run, and the lines a lab script reads on stdout/stderr ("…: ready (runtime.json)",
"stopping (…)", "harness sim: <error>" with exit status 1). Kept in one place because
harness.simctl and the tests wait on exactly these words and files."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import signal
import sys
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Iterator
from pathlib import Path
from typing import Any, Protocol

from harness.sim import runtime

FAILED = 1  # exit status of a simulator that could not start (run directory busy, address taken, …)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class RunDirBusy(RuntimeError):
    pass


class _Console(Protocol):
    def start(self, loop: asyncio.AbstractEventLoop) -> None: ...

    async def close(self) -> None: ...


class _Unit(Protocol):
    def power_on(self) -> None: ...

    async def shutdown(self) -> None: ...


@contextlib.contextmanager
def run_dir_lock(run_dir: Path) -> Iterator[None]:
    """One simulator per run directory (the kernel drops the lock if the process dies)."""
    fd = os.open(run_dir / "sim.lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise RunDirBusy(f"run directory {run_dir} is in use by another simulator") from None
        yield
    finally:
        os.close(fd)


def run(run_dir: Path, serve: Callable[[Path], Coroutine[Any, Any, None]], *,
        prepare: Callable[[Path], None] | None = None,
        faults: tuple[type[BaseException], ...] = ()) -> int:
    """Serve in the resolved `run_dir` under its lock; 0, or 1 with the reason on stderr.

    `prepare` runs under the lock before the event loop (e.g. reaping a killed run's children);
    `faults` are further exceptions that mean "could not start" rather than a crash."""
    run_dir = run_dir.resolve()
    try:
        (run_dir / "flash").mkdir(parents=True, exist_ok=True)
        with run_dir_lock(run_dir):
            runtime.withdraw_runtime(run_dir)  # a stale file from a killed simulator is not readiness
            if prepare is not None:
                prepare(run_dir)
            asyncio.run(serve(run_dir))
    except (RunDirBusy, OSError, *faults) as exc:
        print(f"harness sim: {exc}", file=sys.stderr)
        return FAILED
    return 0


def catch_stop_signals(loop: asyncio.AbstractEventLoop) -> asyncio.Event:
    """An event that SIGTERM or SIGINT sets, until release_stop_signals (the end of shut-down)."""
    stop = asyncio.Event()
    for sig in STOP_SIGNALS:
        loop.add_signal_handler(sig, stop.set)
    return stop


def release_stop_signals(loop: asyncio.AbstractEventLoop) -> None:
    for sig in STOP_SIGNALS:
        loop.remove_signal_handler(sig)


def base_facts(persona: str, defects: Any, time_scale: float, product: dict[str, str]) -> dict[str, Any]:
    """The head of runtime.json every family writes, in this key order."""
    return {"persona": persona, "defects": defects, "pid": os.getpid(), "time_scale": time_scale,
            "product": product}


def announce_ready(persona: str, units: Iterable[tuple[str, str | None]], where: str, run_dir: Path) -> None:
    """The ready line, printed once runtime.json is published; `where` names what else is up
    (the hub's HTTPS site, a family's cloud broker)."""
    listed = list(units)
    addresses = ", ".join(f"{uid} {address}" for uid, address in listed)
    print(f"harness sim: {persona}, {len(listed)} unit(s) ({addresses}), {where}, pid {os.getpid()}: ready "
          f"({run_dir / runtime.RUNTIME})", flush=True)


def power_on(loop: asyncio.AbstractEventLoop, consoles: Iterable[_Console], units: Iterable[_Unit]) -> None:
    """Every console listens before any unit boots: the boot log is part of what the harness reads."""
    for console in consoles:
        console.start(loop)
    for unit in units:
        unit.power_on()


async def shut_down(run_dir: Path, units: Iterable[_Unit], closing: Callable[[], Iterable[Awaitable[Any]]],
                    consoles: Iterable[_Console]) -> None:
    """runtime.json first (a stopping simulator is not ready), then the units stop, then what
    `closing()` returns is awaited together (each HTTPS server waits for its thread's poll interval
    to stop), then the consoles close."""
    runtime.withdraw_runtime(run_dir)
    for unit in units:
        await unit.shutdown()
    await asyncio.gather(*closing())
    for console in consoles:
        await console.close()


async def until_stopped(stop: asyncio.Event, lifetime: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=lifetime)
        why = "signal"
    except TimeoutError:
        why = f"lifetime of {lifetime:g} s over"
    print(f"harness sim: stopping ({why})", flush=True)
