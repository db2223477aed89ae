"""Passive capture of one unit's packets with tcpdump (libpcap), filtered to its declared address.

Why tcpdump: it is libpcap's own command-line front end, packaged everywhere (Debian ``tcpdump``),
needs no Python binding compiled against the system's libpcap, and drops its privileges after
opening the capture. The packets come through a pipe (``-w -``, packet-buffered with ``-U``) into
a file written by this process, so the file's owner and mode are ours (0600: a plaintext capture
holds secrets), whatever user tcpdump dropped to.

Readiness and flushing are event-driven: tcpdump says "listening on" once the capture is armed,
and before stopping, a marker datagram is sent to the unit's address (a UDP packet to the discard
port, inside the capture filter) and the capture is stopped only once the marker has come through
the pipe; every packet the unit exchanged before it has then been written.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import BinaryIO

from harness.lab.dissect import MARKER
from harness.verdict import LabFault

_MAX_BYTES = 256 << 20  # a capture larger than this is cut (the conversations of a test fit easily)
_DISCARD_PORT = 9


class CaptureUnavailable(LabFault):
    """The bench cannot capture packets (no tcpdump, no CAP_NET_RAW, no such interface)."""


class PacketCapture:
    def __init__(self, address: str, workdir: str | Path, *, interface: str = "any", tcpdump: str = "tcpdump",
                 timeout: float = 10.0, name: str = "capture") -> None:
        self.address = address
        self.workdir = Path(workdir)
        self.interface = interface
        self.tcpdump = tcpdump
        self.timeout = timeout
        self.path = self.workdir / f"{name}.pcap"
        self._proc: subprocess.Popen[bytes] | None = None
        self._cond = threading.Condition()
        self._ready = False
        self._ended = False
        self._stderr: list[str] = []
        self._tail = b""  # the last bytes written, to spot the marker across chunk boundaries
        self._marker: bytes | None = None
        self._marker_seen = False
        self._written = 0
        self._threads: list[threading.Thread] = []

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def start(self) -> PacketCapture:
        program = shutil.which(self.tcpdump) or (self.tcpdump if os.access(self.tcpdump, os.X_OK) else None)
        if program is None:
            raise CaptureUnavailable(f"{self.tcpdump} is not installed (Debian package tcpdump): the unit's "
                                     f"packets cannot be captured")
        try:
            self.workdir.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        except OSError as exc:
            raise CaptureUnavailable(f"cannot write the capture file {self.path}: {exc}") from exc
        out = os.fdopen(fd, "wb")
        host = "ip6 host" if ":" in self.address else "host"
        # A capture with drops proves nothing, and the default buffer drops packets of short bursts on
        # a busy bench (a whole short TCP connection was lost that way). In immediate mode libpcap's
        # ring has one fixed slot per packet sized by the snapshot length: "-s 0" (256 KiB) leaves an
        # 8 MiB ring 32 slots. 65600 bytes holds a whole loopback packet (MTU 65536 plus the cooked
        # header) and a 32 MiB ring then has ~500 slots: a 6000-packet burst measured 0 drops (959
        # with -s 0 -B 8192).
        cmd = [program, "-i", self.interface, "-n", "-U", "-s", "65600", "--immediate-mode", "-B", "32768",
               "-w", "-", f"{host} {self.address}"]
        try:
            self._proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE)
        except OSError as exc:
            out.close()
            raise CaptureUnavailable(f"cannot run {program}: {exc}") from exc
        self._threads = [threading.Thread(target=self._copy, args=(self._proc, out), daemon=True, name="tcpdump-out"),
                         threading.Thread(target=self._errors, args=(self._proc,), daemon=True, name="tcpdump-err")]
        for t in self._threads:
            t.start()
        with self._cond:
            self._cond.wait_for(lambda: self._ready or self._ended, self.timeout)
            ready, ended = self._ready, self._ended
        if not ready:
            self._terminate()
            why = " ".join(self._stderr[-3:]) or ("exited" if ended else f"not ready within {self.timeout:g} s")
            raise CaptureUnavailable(f"tcpdump cannot capture on {self.interface}: {why}")
        return self

    def _copy(self, proc: subprocess.Popen[bytes], out: BinaryIO) -> None:
        assert proc.stdout is not None
        fd = proc.stdout.fileno()
        with out:
            while True:
                try:
                    chunk = os.read(fd, 65536)
                except OSError:
                    chunk = b""
                if not chunk:
                    break
                if self._written < _MAX_BYTES:
                    out.write(chunk)
                    out.flush()
                    self._written += len(chunk)
                with self._cond:
                    window = self._tail + chunk
                    if self._marker is not None and self._marker in window:
                        self._marker_seen = True
                    self._tail = window[-256:]
                    self._cond.notify_all()
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def _errors(self, proc: subprocess.Popen[bytes]) -> None:
        assert proc.stderr is not None
        for raw in proc.stderr:
            line = raw.decode("utf-8", errors="replace").strip()
            with self._cond:
                if len(self._stderr) < 100:
                    self._stderr.append(line)
                if "listening on" in line:
                    self._ready = True
                self._cond.notify_all()
        with self._cond:
            self._ended = True
            self._cond.notify_all()

    def flush(self) -> bool:
        """Send a marker to the unit's address and wait until the capture has it: every packet
        before it is then on disk. False when the marker did not come through in time."""
        token = MARKER + secrets.token_hex(8).encode()
        with self._cond:
            self._marker, self._marker_seen = token, False
        family = socket.AF_INET6 if ":" in self.address else socket.AF_INET
        deadline = time.monotonic() + self.timeout
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                # Sent again each second until it shows: a busy bench's capture buffer can drop
                # one datagram (tcpdump counts it as "dropped by kernel"), and then the capture
                # would look incomplete although nothing of the unit was lost.
                while True:
                    s.sendto(token, (self.address, _DISCARD_PORT))
                    with self._cond:
                        remaining = deadline - time.monotonic()
                        if not self._marker_seen and not self._ended and remaining > 0:
                            self._cond.wait_for(lambda: self._marker_seen or self._ended, min(1.0, remaining))
                        if self._marker_seen or self._ended or time.monotonic() >= deadline:
                            return self._marker_seen
        except OSError:
            return False

    def stop(self) -> dict[str, object]:
        """Stop capturing; returns what tcpdump reported (captured, dropped) and whether the capture
        was complete (the marker came through before the stop)."""
        complete = self.flush() if self.running else False
        self._terminate()
        with self._cond:
            lines = list(self._stderr)
        stats: dict[str, object] = {"complete": complete, "bytes": self._written, "truncated": self._written >= _MAX_BYTES}
        for line in lines:
            words = line.split()
            if len(words) >= 2 and words[0].isdigit():
                stats[" ".join(words[1:])] = int(words[0])
        if int(stats.get("packets dropped by kernel", 0) or 0) > 0:
            stats["complete"] = False  # packets of the unit may be among the dropped: nothing is proven absent
        return stats

    def _terminate(self) -> None:
        proc, self._proc = self._proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
        try:
            proc.wait(self.timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(self.timeout)
        for t in self._threads:
            t.join(self.timeout)

    def __enter__(self) -> PacketCapture:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self._terminate()

    def discard(self) -> None:
        """Remove the raw capture (it holds in clear whatever the unit sent in clear)."""
        self.path.unlink(missing_ok=True)
