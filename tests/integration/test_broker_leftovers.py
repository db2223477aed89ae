"""A run killed hard (SIGKILL of its pytest) leaves no lab broker behind: no Mosquitto it started is
still alive shortly after, and no password file or key of it is left on disk, inside the run
directory or outside it (the crash watchdog of harness.lab.reaper)."""

from __future__ import annotations

import glob
import os
import select
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from harness.lab.broker import LabBroker
from harness.lab.ca import LabCA
from harness.lab.reaper import Reaper
from harness.simctl import SimulatorProcess

ROOT = Path(__file__).resolve().parents[2]
PROFILE = ROOT / "device_profiles" / "sim-compliant.yaml"
BROKER_CASES = "5_5_7_2 or 5_8_2_2"
BOUND_S = 20.0  # the watchdog gives Mosquitto 5 s after SIGTERM; generous for 2 loaded cores


def _children(pid: int) -> list[tuple[int, str]]:
    out = subprocess.run(["ps", "-eo", "pid,ppid,comm"], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in out.splitlines()[1:]]
    return [(int(r[0]), r[2]) for r in rows if len(r) == 3 and int(r[1]) == pid]


def _brokers_under(pid: int) -> dict[int, int]:
    """Mosquitto processes below ``pid``: PID → its parent's PID."""
    found: dict[int, int] = {}
    todo = [pid]
    while todo:
        parent = todo.pop()
        for child, comm in _children(parent):
            todo.append(child)
            if comm == "mosquitto":
                found[child] = parent
    return found


def _await(predicate: Callable[[], bool], bound: float) -> bool:
    """A condition on the file system or on processes that are not our children (nothing to wait on:
    looked at every 0.1 s, bounded)."""
    deadline = time.monotonic() + bound
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def _all_exit(pidfds: list[int], bound: float) -> bool:
    """Event-driven: a pidfd becomes readable when its process ends (it pins that very process, so
    a reused PID cannot fool this)."""
    deadline = time.monotonic() + bound
    poller = select.poll()
    for fd in pidfds:
        poller.register(fd, select.POLLIN)
    pending = set(pidfds)
    while pending:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        for fd, _ in poller.poll(int(remaining * 1000) + 1):
            pending.discard(fd)
            poller.unregister(fd)
    return True


def _stop(proc: subprocess.Popen[bytes]) -> None:
    try:
        proc.wait(120)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(10)


def test_sigkill_of_a_run_leaves_no_broker_and_no_secret(tmp_path: Path) -> None:
    with SimulatorProcess("compliant", tmp_path / "sim", time_scale=0.0) as sim:
        run_dir = tmp_path / "run"
        cmd = [sys.executable, "-m", "harness.cli", "run", str(PROFILE), "--lab", str(sim.lab_path), "--unit", "U1",
               "--run-dir", str(run_dir), "--no-allure", "--quiet", "--", "-k", BROKER_CASES]
        with open(tmp_path / "run.log", "wb") as log:
            proc = subprocess.Popen(cmd, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            brokers: dict[int, int] = {}
            assert _await(lambda: len(brokers.update(_brokers_under(proc.pid)) or brokers) >= 3
                          or proc.poll() is not None, 120)
            assert len(brokers) >= 3, "the run started no lab broker (plain, tls, rogue)"
            pidfds = [os.pidfd_open(pid) for pid in brokers]
            # Everything a broker reads (config, password file, keys) is in its runtime directory in
            # the run directory: it runs there and names its config relative to it.
            for pid in brokers:
                assert Path(os.readlink(f"/proc/{pid}/cwd")).is_relative_to(run_dir.resolve())
                assert "/" not in Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")[2].decode()
            runtimes = [Path(p).parent for p in glob.glob(str(run_dir / "broker" / "*" / "runtime" / "passwd"))]
            assert runtimes, "the broker's password file is not inside the run directory"
            assert all((r / "tls.key.pem").is_file() for r in runtimes)
            harness_pytest = next(iter(set(brokers.values())))
            os.kill(harness_pytest, signal.SIGKILL)
            try:
                assert _all_exit(pidfds, BOUND_S), f"Mosquitto still running {BOUND_S:g} s after the kill"
            finally:
                for fd in pidfds:
                    os.close(fd)
            assert _await(lambda: not any(r.exists() for r in runtimes), BOUND_S), "password file, keys left"
        finally:
            _stop(proc)


def test_clean_stop_leaves_the_watchdog_idle(tmp_path: Path) -> None:
    """A broker stopped normally ends its watchdog too, which touches nothing."""
    ca = LabCA.create(tmp_path / "ca", key_type="ec")
    broker = LabBroker(tmp_path / "b", ca=ca, kinds=("plain",), timeout=5).start()
    reaper = broker._reaper
    assert reaper is not None and reaper.proc is not None
    watchdog = reaper.proc
    runtime = broker._runtime
    assert runtime is not None and runtime.is_relative_to((tmp_path / "b").resolve())
    broker.stop()
    assert watchdog.poll() is not None and broker._reaper is None
    assert not runtime.exists()


def test_watchdog_leaves_a_reused_pid_alone(tmp_path: Path) -> None:
    """Recorded with its start time: a process that merely has the same command line, or the same
    PID later, is not the one the watchdog was told about."""
    keep = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    victim = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    secret_dir = tmp_path / "runtime"
    secret_dir.mkdir()
    (secret_dir / "passwd").write_text("hash")
    try:
        reaper = Reaper(wait_s=2).start()
        reaper.watch(victim.pid)
        reaper.remove_on_crash(secret_dir)
        # A record with the right PID but another start time: what a reused PID looks like.
        reaper._send(f"watch {keep.pid} 1 {Path(f'/proc/{keep.pid}/cmdline').read_bytes().hex()}")
        assert reaper._fd is not None and reaper.proc is not None
        os.close(reaper._fd)  # what the kernel does when the harness dies: EOF without "done"
        reaper._fd = None
        reaper.proc.wait(20)
        assert victim.wait(20) == -signal.SIGTERM
        assert keep.poll() is None
        assert not secret_dir.exists()
    finally:
        for p in (keep, victim):
            if p.poll() is None:
                p.kill()
            p.wait(10)


def test_watchdog_done_touches_nothing(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE)
    keep_dir = tmp_path / "runtime"
    keep_dir.mkdir()
    try:
        reaper = Reaper(wait_s=2).start()
        reaper.watch(child.pid)
        reaper.remove_on_crash(keep_dir)
        watchdog = reaper.proc
        reaper.close()
        assert watchdog is not None and watchdog.returncode == 0
        assert child.poll() is None and keep_dir.exists()
    finally:
        child.kill()
        child.wait(10)


HOLDER = """\
import sys
from pathlib import Path
from harness.lab.broker import LabBroker
from harness.lab.ca import LabCA
work = Path(sys.argv[1])
broker = LabBroker(work / "b", ca=LabCA.create(work / "ca", key_type="ec"), kinds=("plain", "tls"), timeout=10).start()
broker.stop_instance("tls")
broker.start_instance("tls")  # a listener brought back after an outage is watched too
print(broker.pid("plain"), broker.pid("tls"), broker._runtime, flush=True)
sys.stdin.read()
"""


def test_sigkill_of_a_broker_holder_after_an_outage(tmp_path: Path) -> None:
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], cwd=ROOT, stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, start_new_session=True)
    try:
        assert holder.stdout is not None
        plain, tls, runtime = holder.stdout.readline().decode().split()
        pidfds = [os.pidfd_open(int(plain)), os.pidfd_open(int(tls))]
        assert (Path(runtime) / "passwd").is_file() and (Path(runtime) / "tls.key.pem").is_file()
        holder.kill()
        holder.wait(10)
        try:
            assert _all_exit(pidfds, BOUND_S), f"Mosquitto still running {BOUND_S:g} s after the kill"
        finally:
            for fd in pidfds:
                os.close(fd)
        assert _await(lambda: not Path(runtime).exists(), BOUND_S), "password file, keys left"
    finally:
        if holder.poll() is None:
            os.killpg(holder.pid, signal.SIGKILL)
            holder.wait(10)
