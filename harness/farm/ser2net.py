"""Remote serial consoles without labgrid: a ser2net process exporting local serial ports.

A bench computer next to the devices runs ser2net; the harness, elsewhere, opens the console as
``rfc2217://host:port`` (the RFC 2217 telnet protocol: baud rate and control lines travel with the
data) or ``socket://host:port`` (raw TCP: bytes only). This module writes ser2net's YAML
configuration and runs it, for tests, benchmarks and a quick bench without a labgrid exporter.

A pseudo-terminal (the simulator's console, some USB gadgets) has no modem control lines: ser2net
then never acknowledges pyserial's DTR/RTS requests, so the URLs this module gives carry
``?ign_set_control`` (pyserial does not wait for that acknowledgement; the data path is unchanged).
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

Protocol = Literal["rfc2217", "raw"]
RFC2217_OPTIONS = "?ign_set_control"


class Ser2NetError(RuntimeError):
    pass


@dataclass(frozen=True)
class Export:
    """One local serial device offered on one TCP port."""
    device: str
    port: int
    protocol: Protocol = "rfc2217"
    baud: int = 115200
    host: str = "127.0.0.1"

    @property
    def url(self) -> str:
        if self.protocol == "rfc2217":
            return f"rfc2217://{self.host}:{self.port}{RFC2217_OPTIONS}"
        return f"socket://{self.host}:{self.port}"

    def config(self, name: str) -> str:
        accepter = f"telnet(rfc2217),tcp,{self.host},{self.port}" if self.protocol == "rfc2217" \
            else f"tcp,{self.host},{self.port}"
        return (f"connection: &{name}\n"
                f"    accepter: {accepter}\n"
                f"    connector: serialdev,{self.device},{self.baud}n81,local\n"
                f"    options:\n"
                f"      kickolduser: true\n")


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class Ser2Net:
    """A ser2net process (foreground, no UUCP locks) for ``exports``; a context manager."""
    exports: list[Export]
    workdir: Path
    binary: str | None = None
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def config_path(self) -> Path:
        return self.workdir / "ser2net.yaml"

    def start(self, timeout: float = 10.0) -> Ser2Net:
        binary = self.binary or shutil.which("ser2net") or "/usr/sbin/ser2net"
        if not Path(binary).exists():
            raise Ser2NetError("ser2net not found (Debian: apt-get install ser2net)")
        self.workdir.mkdir(parents=True, exist_ok=True)
        body = "".join(e.config(f"con{n}") for n, e in enumerate(self.exports))
        self.config_path.write_text("%YAML 1.1\n---\n" + body)
        log = open(self.workdir / "ser2net.log", "ab")  # noqa: SIM115 - the child holds it
        self.proc = subprocess.Popen([binary, "-n", "-u", "-c", str(self.config_path),
                                      "-P", str(self.workdir / "ser2net.pid")],
                                     stdout=log, stderr=log, stdin=subprocess.DEVNULL)
        log.close()
        deadline = time.monotonic() + timeout
        waiting = list(self.exports)
        while waiting:
            if _accepts(waiting[0].host, waiting[0].port):
                waiting.pop(0)
                continue
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise Ser2NetError(f"ser2net did not listen on port {waiting[0].port} within {timeout:g} s; "
                                   f"see {self.workdir / 'ser2net.log'}")
            try:
                code = self.proc.wait(min(0.05, remaining))  # wakes at once if ser2net dies
                raise Ser2NetError(f"ser2net exited with {code}; see {self.workdir / 'ser2net.log'}")
            except subprocess.TimeoutExpired:
                pass
        return self

    def kill(self) -> None:
        """End ser2net abruptly, as a crashed or unplugged bench computer would."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self.proc = None

    def __enter__(self) -> Ser2Net:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
