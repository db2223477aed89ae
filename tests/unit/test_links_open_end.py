"""A value captured at the very end of what has arrived waits for the rest of its line: over a
network console a line comes in pieces, and `ssid=(?P<ssid>\\S*)` must not take "ssid=" (or a
version cut to "1.4") while the value is still on its way. A capture that is complete (more text
after it) or a pattern without a capture is taken at once."""

from __future__ import annotations

import os
import re
import threading
import time
import tty

import pytest

from harness.links.expect import Expecter
from harness.links.serial import SerialLink


def test_the_expecter_holds_back_a_capture_that_ends_the_buffer() -> None:
    ex = Expecter()
    pattern = {"ok": re.compile(r"ssid=(?P<ssid>\S*)")}
    ex.feed("ssid=")
    assert ex.search(pattern, defer_open_end=True) is None and ex.open_end
    ex.feed("lab-2g\n")
    match = ex.search(pattern, defer_open_end=True)
    assert match is not None and match.groups["ssid"] == "lab-2g" and not ex.open_end
    ex.feed("# ")
    assert ex.search({"prompt": re.compile("# ")}, defer_open_end=True) is not None  # no capture: at once
    ex.feed("ssid=")
    assert ex.search(pattern, defer_open_end=False).groups["ssid"] == ""  # type: ignore[union-attr]


@pytest.fixture
def pty_pair():  # type: ignore[no-untyped-def]
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


def test_a_value_arriving_in_pieces_is_read_whole(pty_pair, tmp_path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import harness.links.serial as serial_link

    monkeypatch.setattr(serial_link, "_OPEN_END_QUIET", 3.0)  # generous: a busy machine may pause the writer
    master, path = pty_pair
    link = SerialLink("console", path, timeout=5, transcript_dir=tmp_path).open()
    try:
        def pieces() -> None:
            os.write(master, b"firmware 1.4")
            time.sleep(0.05)  # sleep-ok: a device's line arriving in two pieces
            os.write(master, b".2\r\n# ")

        writer = threading.Thread(target=pieces)
        writer.start()
        match = link.expect(r"firmware (?P<version>\S+)")
        writer.join(5)
        assert match.groups["version"] == "1.4.2"
    finally:
        link.close()


def test_a_value_at_the_end_is_taken_after_a_short_quiet(pty_pair, tmp_path) -> None:  # type: ignore[no-untyped-def]
    master, path = pty_pair
    link = SerialLink("console", path, timeout=5, transcript_dir=tmp_path).open()
    try:
        os.write(master, b"ssid=lab")
        started = time.monotonic()
        match = link.expect(r"ssid=(?P<ssid>\S*)")
        waited = time.monotonic() - started
        assert match.groups["ssid"] == "lab" and waited < 3.0
    finally:
        link.close()
