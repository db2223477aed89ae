"""A watchdog that ends the lab's child processes and removes their secrets when the harness dies.

``kill -9`` of a run gives the harness no chance to stop what it started: Mosquitto would be
reparented to PID 1 and keep serving, its runtime directory (password hashes, TLS keys) would stay
on disk. ``prctl(PR_SET_PDEATHSIG)`` does not help: the kernel clears it when Mosquitto drops its
privileges (run as root it becomes the ``mosquitto`` user), and it fires on the death of the
forking *thread*, not of the process.

So a small process, started with ``python -I -c`` (no harness import: it starts fast and depends on
nothing the harness may break), holds the read end of a pipe whose only write end is in the harness
(close-on-exec: no child inherits it). The harness tells it over that pipe what to watch: a process
by PID with its start time and command line, a directory to remove. End of file without the word
``done`` first means the harness died: the reaper ends the recorded processes whose PID still has
the recorded start time and command line (a reused PID is left alone), waits for them (pidfd,
bounded), then removes the recorded directories. It runs in its own session, so the Ctrl-C or
``killpg`` that ended the run does not end it too.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.verdict import LabFault

_WAIT_S = 5.0  # how long the reaper gives a process after SIGTERM before SIGKILL

_SCRIPT = r"""
import os, select, shutil, signal, sys
for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT):
    signal.signal(sig, signal.SIG_IGN)
fd, wait_s = int(sys.argv[1]), float(sys.argv[2])
watched, paths, done, buf = {}, [], False, b""
while True:
    chunk = os.read(fd, 65536)
    if not chunk:
        break
    *lines, buf = (buf + chunk).split(b"\n")
    buf = buf[-65536:]
    for line in lines:
        word, _, rest = line.decode("ascii", "replace").partition(" ")
        try:
            if word == "watch":
                pid, start, cmd = rest.split(" ", 2)
                watched[int(pid)] = (start, cmd)
            elif word == "forget":
                watched.pop(int(rest), None)
            elif word == "remove":
                paths.append(bytes.fromhex(rest).decode("utf-8", "surrogateescape"))
            elif word == "done":
                done = True
        except ValueError:  # a garbled line costs that line only, never the cleanup
            pass
if done:
    sys.exit(0)

def same(pid, start, cmd):
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            fields = f.read().rsplit(b")", 1)[1].split()
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return fields[19].decode() == start and f.read().hex() == cmd and fields[0] != b"Z"
    except (OSError, IndexError):
        return False

pidfds = []
for pid, (start, cmd) in watched.items():
    if not same(pid, start, cmd):
        continue
    try:
        pidfd = os.pidfd_open(pid)
    except (OSError, AttributeError):
        pidfd = None
    if not same(pid, start, cmd):  # checked again now that the pidfd pins this very process
        if pidfd is not None:
            os.close(pidfd)
        continue
    try:
        if pidfd is not None:
            signal.pidfd_send_signal(pidfd, signal.SIGTERM)
            pidfds.append(pidfd)
        else:
            os.kill(pid, signal.SIGKILL)
    except OSError:
        pass
for pidfd in pidfds:
    poller = select.poll()
    poller.register(pidfd, select.POLLIN)
    if not poller.poll(int(wait_s * 1000)):
        try:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
        except OSError:
            pass
    os.close(pidfd)
for path in paths:
    shutil.rmtree(path, ignore_errors=True)
"""


class ReaperError(LabFault):
    """The watchdog could not be started: the bench cannot promise to clean up after a crash."""


def _identity(pid: int) -> tuple[str, str] | None:
    """(start time in clock ticks since boot, command line in hex) of a live process."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_bytes()
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    fields = stat.rsplit(b")", 1)[1].split()  # the command name in parentheses may hold spaces
    return fields[19].decode(), cmdline.hex()


class Reaper:
    """One watchdog process; ``close()`` on a clean stop, nothing at all on a crash."""

    def __init__(self, wait_s: float = _WAIT_S) -> None:
        self.wait_s = wait_s
        self.proc: subprocess.Popen[bytes] | None = None
        self._fd: int | None = None

    def start(self) -> Reaper:
        read_end, write_end = os.pipe()  # both close-on-exec: only the reaper gets the read end
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-c", _SCRIPT, str(read_end), f"{self.wait_s:g}"], pass_fds=(read_end,),
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            os.close(write_end)
            raise ReaperError(f"cannot start the lab's crash watchdog: {exc}") from exc
        finally:
            os.close(read_end)
        self._fd = write_end
        return self

    def _send(self, line: str) -> None:
        if self._fd is None:
            return
        try:
            os.write(self._fd, (line + "\n").encode("ascii"))  # one short write: atomic on a pipe
        except OSError:  # the watchdog itself was killed; the clean stop still works
            os.close(self._fd)
            self._fd = None

    def watch(self, pid: int) -> None:
        """End this process if the harness dies; recorded with its start time and command line so
        that a PID reused by another process after it ended is never touched."""
        identity = _identity(pid)
        if identity is not None:
            self._send(f"watch {pid} {identity[0]} {identity[1]}")

    def forget(self, pid: int) -> None:
        self._send(f"forget {pid}")

    def remove_on_crash(self, path: str | Path) -> None:
        self._send("remove " + os.fsencode(str(path)).hex())

    def close(self, timeout: float = 5.0) -> None:
        """Clean stop: the watchdog ends without touching anything."""
        if self._fd is not None:
            self._send("done")
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
        proc, self.proc = self.proc, None
        if proc is not None:
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
