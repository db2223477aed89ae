"""Console habits on a real pty: settle before a send, drain, silence as readiness, a port that
vanishes and comes back (a USB-UART re-created by a power cycle)."""

from __future__ import annotations

import os
import threading
import time
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.links.base import LinkError
from harness.links.serial import SerialLink


def _pty() -> tuple[int, int, str]:
    master, slave = os.openpty()
    tty.setraw(slave)
    return master, slave, os.ttyname(slave)


@pytest.fixture
def pty_pair() -> Iterator[tuple[int, str]]:
    master, slave, path = _pty()
    yield master, path
    os.close(master)
    os.close(slave)


def _talk(master: int, chunks: list[tuple[float, bytes]]) -> threading.Thread:
    def run() -> None:
        for delay, data in chunks:
            time.sleep(delay)
            os.write(master, data)
    t = threading.Thread(target=run, daemon=True)
    t.start()
    return t


def test_settle_waits_for_the_line_to_fall_quiet(pty_pair, tmp_path) -> None:  # type: ignore[no-untyped-def]
    master, path = pty_pair
    with SerialLink("console", path, timeout=5, settle=0.3, transcript_dir=tmp_path) as link:
        talker = _talk(master, [(0.0, b"booting\r\n"), (0.1, b"more\r\n"), (0.1, b"plug> ")])
        link.expect("plug> ")
        t0 = time.monotonic()
        link.send("status")
        waited = time.monotonic() - t0
        talker.join(5)
        assert os.read(master, 100) == b"status\r\n"
    assert waited >= 0.25  # the prompt had just come: the send waited for 0.3 s of quiet


def test_settle_costs_nothing_on_a_quiet_line(pty_pair, tmp_path) -> None:  # type: ignore[no-untyped-def]
    master, path = pty_pair
    with SerialLink("console", path, timeout=5, settle=1.0, transcript_dir=tmp_path) as link:
        link.wait_quiet(1.0)
        t0 = time.monotonic()
        link.send("x")
        assert time.monotonic() - t0 < 0.6  # no second of waiting: the line was quiet already
        assert os.read(master, 10) == b"x\r\n"


def test_drain_drops_what_is_still_coming(pty_pair, tmp_path) -> None:  # type: ignore[no-untyped-def]
    master, path = pty_pair
    with SerialLink("console", path, timeout=5, transcript_dir=tmp_path) as link:
        talker = _talk(master, [(0.0, b"log line 1\r\n"), (0.1, b"log line 2\r\n")])
        dropped = link.drain(max_s=3, quiet_s=0.3)
        talker.join(5)
        assert "log line 1" in dropped and "log line 2" in dropped
        assert link.expecter.buffer == ""
        os.write(master, b"prompt> ")
        assert link.expect("prompt> ").before == ""
        assert link.drain() == ""  # no arguments: forget the buffer at once, as before


def test_wait_quiet_true_on_silence_false_on_a_chatty_device(pty_pair, tmp_path) -> None:  # type: ignore[no-untyped-def]
    master, path = pty_pair
    with SerialLink("console", path, timeout=5, transcript_dir=tmp_path) as link:
        assert link.wait_quiet(0.2, timeout=2)
        stop = threading.Event()

        def chatter() -> None:
            while not stop.is_set():
                os.write(master, b"tick\r\n")
                stop.wait(0.05)
        t = threading.Thread(target=chatter, daemon=True)
        t.start()
        try:
            t0 = time.monotonic()
            assert not link.wait_quiet(0.3, timeout=1.0)
            assert time.monotonic() - t0 < 3
        finally:
            stop.set()
            t.join(5)
        assert "tick" in link.expecter.buffer  # what was read during the wait stays for the next expect


def test_a_vanished_port_is_reopened_when_it_comes_back(tmp_path) -> None:  # type: ignore[no-untyped-def]
    master, slave, real = _pty()
    stable = tmp_path / "ttyUSB-console"  # like /dev/serial/by-id/…: a name that outlives the node
    stable.symlink_to(real)
    link = SerialLink("console", str(stable), timeout=5, reopen_timeout=5, transcript_dir=tmp_path).open()
    fds: list[int] = []
    stop = threading.Event()

    def power_cycle() -> None:
        os.close(master)  # the device side goes away
        os.close(slave)
        time.sleep(0.3)  # the port is gone for a while
        new_master, new_slave, new_real = _pty()
        fds.extend((new_master, new_slave))
        tmp_link = tmp_path / "tmp-link"
        tmp_link.symlink_to(new_real)
        os.replace(tmp_link, stable)
        while not stop.is_set():  # the device boots and talks until someone listens
            os.write(new_master, b"login: ")
            stop.wait(0.1)

    t = threading.Thread(target=power_cycle, daemon=True)
    try:
        t.start()
        assert link.expect("login: ", timeout=8).text == "login: "
        assert link.reopened >= 1  # a busy machine may catch the node between two states and reopen twice
        link.send("root")
    finally:
        stop.set()
        t.join(5)
        link.close()
        for fd in fds:
            os.close(fd)
    text = Path(link.transcript.path).read_text()
    assert "reopened" in text


def test_a_port_that_never_comes_back_is_a_lab_fault(tmp_path) -> None:  # type: ignore[no-untyped-def]
    master, slave, real = _pty()
    stable = tmp_path / "ttyUSB-gone"
    stable.symlink_to(real)
    link = SerialLink("console", str(stable), timeout=5, reopen_timeout=0.5, transcript_dir=tmp_path).open()
    os.close(master)
    os.close(slave)
    # An unplugged USB-UART's /dev/serial/by-id link disappears. (The pty number itself may be
    # handed to another process's new pty at once, so the closed pty is no "never comes back".)
    stable.unlink()
    try:
        t0 = time.monotonic()
        with pytest.raises(LinkError, match="did not come back"):
            link.expect("login: ", timeout=5)
        assert time.monotonic() - t0 < 4
    finally:
        link.close()
