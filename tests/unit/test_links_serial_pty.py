"""SerialLink on a real pty: expect, timeout as its own outcome, redacted transcript."""

from __future__ import annotations

import os
import threading
import tty

import pytest

from harness.links.serial import ExpectTimeout, SerialLink
from harness.redact import REDACTOR


@pytest.fixture
def pty_pair():  # type: ignore[no-untyped-def]
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(master)
    os.close(slave)


def test_expect_and_transcript(pty_pair, tmp_path) -> None:  # type: ignore[no-untyped-def]
    master, path = pty_pair
    REDACTOR.add("Sup3rSecretLabel", "TEST_LABEL")
    link = SerialLink("console", path, timeout=5, prompts={"prompt": "simiot> "}, transcript_dir=tmp_path)
    link.open()
    try:
        writer = threading.Thread(target=os.write, args=(master, b"boot\r\n\x1b[32mleak Sup3rSecretLabel\x1b[0m\r\nsimiot> "))
        writer.start()
        match = link.expect("prompt")
        writer.join(5)
        assert match.text == "simiot> " and "boot" in match.before
        link.send("Sup3rSecretLabel", secret=True)
        assert os.read(master, 100) == b"Sup3rSecretLabel\r\n"
        with pytest.raises(ExpectTimeout):
            link.expect("never", timeout=0.2)
        text = link.transcript.read_since(0)
    finally:
        link.close()
    assert "Sup3rSecretLabel" not in text and "boot" in text and "«secret input»" in text


def test_open_failure_is_a_lab_fault(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from harness.links.base import LinkError
    with pytest.raises(LinkError):
        SerialLink("console", str(tmp_path / "nope"), transcript_dir=tmp_path).open()


def test_a_drain_interrupted_by_a_signal_is_drained_again() -> None:
    """pyserial's flush() is tcdrain(); Python does not restart it after a signal (PEP 475 leaves
    termios out), and a run once ended a test case INCONCLUSIVE on "(4, 'Interrupted system call')"."""
    import errno
    import termios

    from harness.links.serial import SerialLink

    class Port:
        def __init__(self, failures: list[int]) -> None:
            self.failures, self.written, self.drains = failures, b"", 0

        def write(self, data: bytes) -> None:
            self.written += data

        def flush(self) -> None:
            self.drains += 1
            if self.failures:
                raise termios.error(self.failures.pop(0), "simulated")

    link = SerialLink.__new__(SerialLink)
    link._port = Port([errno.EINTR, errno.EINTR])
    link._write_raw(b"version\r\n")
    assert link.port.written == b"version\r\n" and link.port.drains == 3
    link._port = Port([errno.EIO])
    with pytest.raises(OSError):  # another termios error: the write path's reopen handles OSError
        link._write_raw(b"x")
