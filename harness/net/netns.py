"""Isolated network namespaces for bench runs and tests.

Other programs on a lab PC may listen on wildcard addresses (0.0.0.0, ::); on the host's loopback
they look exactly like ports of a simulated device. A fresh network namespace has only its own
loopback (brought up here), so a simulator and the probes started inside it see each other and
nothing else. A lab isolates a bench run the same way:

    python -m harness.net.netns run -- harness run ...        # later also: harness netns run -- ...

Namespaces are made with iproute2 (``ip netns add``), which needs CAP_SYS_ADMIN (root). Without
it, ``Namespace.create`` raises ``NamespaceUnavailable`` with the cause, and ``available()`` says
False so tests can skip with that reason.

Two ways to put work inside: processes (``exec_args``, ``popen``, ``run`` prefix the command with
``ip netns exec NAME``), or the calling *thread* (``entered()``: setns(2) applies to one thread,
and every socket the thread creates meanwhile belongs to the namespace for its whole life).
"""

from __future__ import annotations

import argparse
import contextlib
import ctypes
import ctypes.util
import os
import secrets
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from harness.verdict import LabFault

_CLONE_NEWNET = 0x40000000
_IP_TIMEOUT = 10.0
_STOP_GRACE = 5.0
_NETNS_DIR = "/run/netns"


class NamespaceUnavailable(LabFault):
    """A network namespace could not be made, entered or removed (not permitted, no iproute2)."""


def _ip(*args: str, timeout: float = _IP_TIMEOUT) -> subprocess.CompletedProcess[str]:
    ip = shutil.which("ip")
    if ip is None:
        raise NamespaceUnavailable("iproute2 ('ip') is not installed; network namespaces need it")
    try:
        return subprocess.run([ip, *args], capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise NamespaceUnavailable(f"'ip {' '.join(args)}' did not finish within {timeout:g} s") from None


_libc: ctypes.CDLL | None = None


def _setns(fd: int) -> None:
    # Python 3.11 has no os.setns (3.12 does); libc's setns(2) is the same call.
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    if _libc.setns(fd, _CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise NamespaceUnavailable(f"setns failed: {os.strerror(err)}")


class Namespace:
    """A network namespace this process made; ``delete()`` (or leaving ``with``) removes it and
    stops the processes ``popen`` started in it."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.deleted = False
        self._procs: list[tuple[subprocess.Popen[Any], bool]] = []  # (process, has its own group)
        self._lock = threading.Lock()

    @classmethod
    def create(cls, name_prefix: str = "harness") -> Namespace:
        # pid + random suffix: unique among parallel runs and helpers on the same machine.
        name = f"{name_prefix}-{os.getpid()}-{secrets.token_hex(3)}"
        res = _ip("netns", "add", name)
        if res.returncode != 0:
            why = res.stderr.strip() or f"exit status {res.returncode}"
            hint = "" if os.geteuid() == 0 else " (network namespaces need root / CAP_SYS_ADMIN)"
            raise NamespaceUnavailable(f"cannot create network namespace {name}: {why}{hint}")
        ns = cls(name)
        up = _ip("-n", name, "link", "set", "lo", "up")
        if up.returncode != 0:
            ns.delete()
            raise NamespaceUnavailable(f"cannot bring up lo in {name}: {up.stderr.strip()}")
        return ns

    # -- processes -----------------------------------------------------------------------------
    def exec_args(self, argv: Sequence[str]) -> list[str]:
        return ["ip", "netns", "exec", self.name, *argv]

    def popen(self, argv: Sequence[str], **kw: Any) -> subprocess.Popen[Any]:
        """Start ``argv`` inside. It gets a session (process group) of its own, so ``delete()``
        can stop it with its children, by its id."""
        self._alive()
        kw.setdefault("start_new_session", True)
        proc = subprocess.Popen(self.exec_args(argv), **kw)
        with self._lock:
            self._procs.append((proc, bool(kw["start_new_session"])))
        return proc

    def run(self, argv: Sequence[str], timeout: float, **kw: Any) -> subprocess.CompletedProcess[Any]:
        self._alive()
        return subprocess.run(self.exec_args(argv), timeout=timeout, **kw)

    # -- this thread -------------------------------------------------------------------------------
    @contextlib.contextmanager
    def entered(self) -> Iterator[Namespace]:
        """Run the block with the calling thread inside the namespace; sockets created in the
        block stay in it. The thread is moved back even when the block raises."""
        self._alive()
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        try:
            target = os.open(os.path.join(_NETNS_DIR, self.name), os.O_RDONLY)
            try:
                _setns(target)
            finally:
                os.close(target)
            try:
                yield self
            finally:
                _setns(home)
        finally:
            os.close(home)

    # -- teardown ------------------------------------------------------------------------------
    def _alive(self) -> None:
        if self.deleted:
            raise NamespaceUnavailable(f"network namespace {self.name} was already deleted")

    def stop_processes(self, grace: float = _STOP_GRACE) -> None:
        """Stop what ``popen`` started here: SIGTERM to each process group, SIGKILL after
        ``grace`` seconds. Only these process ids are signalled."""
        with self._lock:
            procs, self._procs = self._procs, []
        running = [(p, group) for p, group in procs if p.poll() is None]
        for p, group in running:
            _signal(p, group, signal.SIGTERM)
        for p, group in running:
            try:
                p.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                _signal(p, group, signal.SIGKILL)
                p.wait(timeout=grace)

    def delete(self) -> None:
        """Idempotent. Removing the name does not end processes still inside, so ours are
        stopped first."""
        if self.deleted:
            return
        self.stop_processes()
        res = _ip("netns", "delete", self.name)
        self.deleted = True
        if res.returncode != 0 and os.path.exists(os.path.join(_NETNS_DIR, self.name)):
            raise NamespaceUnavailable(f"cannot delete network namespace {self.name}: {res.stderr.strip()}")

    def __enter__(self) -> Namespace:
        return self

    def __exit__(self, *exc: object) -> None:
        self.delete()

    def __repr__(self) -> str:
        return f"Namespace({self.name!r}{', deleted' if self.deleted else ''})"


def _signal(proc: subprocess.Popen[Any], own_group: bool, sig: int) -> None:
    """Signal a process we started: its whole group when popen gave it one (its children go
    too), else the process alone."""
    try:
        if own_group:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
    except ProcessLookupError:
        pass


_available: tuple[bool, str] | None = None


def availability() -> tuple[bool, str]:
    """(True, "") when this process can make a namespace; else (False, the reason). Probed once
    by making and deleting one."""
    global _available
    if _available is None:
        try:
            Namespace.create("harness-probe").delete()
            _available = (True, "")
        except NamespaceUnavailable as exc:
            _available = (False, str(exc))
    return _available


def available() -> bool:
    return availability()[0]


# -- command line --------------------------------------------------------------------------------
def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(
        prog="python -m harness.net.netns",
        description="Run a command in a fresh network namespace with only loopback up, then delete it.")
    sub = p.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="run CMD isolated: python -m harness.net.netns run [--timeout S] -- CMD ...")
    r.add_argument("--timeout", type=float, default=24 * 3600.0,
                   help="stop CMD after this many seconds (default 24 h); exit status 124")
    r.add_argument("--prefix", default="harness", help="namespace name prefix (default harness)")
    r.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    sub.add_parser("check", help="say whether namespaces can be made here (exit 0) or why not (exit 1)")
    args = p.parse_args(argv)

    if args.cmd == "check":
        ok, why = availability()
        print("network namespaces: available" if ok else f"network namespaces: unavailable: {why}")
        return 0 if ok else 1

    command = list(args.command)
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        p.error("run needs a command after --")
    try:
        ns = Namespace.create(args.prefix)
    except NamespaceUnavailable as exc:
        print(f"harness netns: {exc}", file=sys.stderr)
        return 1
    proc: subprocess.Popen[Any] | None = None

    def forward(signum: int, _frame: object) -> None:
        # SIGTERM is passed on; SIGINT (Ctrl-C) already reaches CMD, which shares the terminal's
        # foreground group, so here it only must not kill this process before the cleanup.
        if signum == signal.SIGTERM and proc is not None and proc.poll() is None:
            proc.send_signal(signum)

    old = {s: signal.signal(s, forward) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        proc = ns.popen(command, start_new_session=False)
        try:
            return proc.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            print(f"harness netns: {command[0]} still running after {args.timeout:g} s; stopping it",
                  file=sys.stderr)
            proc.terminate()
            try:
                proc.wait(timeout=_STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=_STOP_GRACE)
            return 124
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        ns.delete()


if __name__ == "__main__":
    sys.exit(main())
