"""The vendor's cloud broker, played by the simulator: the lab broker's Mosquitto
(harness.lab.broker.LabBroker, its "tls" instance) on the address fixed in the plugs' firmware,
with both fixed listeners (plaintext 1883, TLS 8883 with a certificate from the vendor's own CA),
one account per plug and an ACL: each device account uses its own topics, the lab's observer
account (LabBroker's own, which also proves the broker ready) reads everything and commands nothing.

Lifetime: LabBroker ends Mosquitto on stop() and at interpreter exit; for a simulator killed hard a
reaper process watches a pipe only the simulator holds open, and when it reads end-of-file ends
that Mosquitto by PID (checking its command line, so a reused PID is left alone). A pipe rather
than prctl(PR_SET_PDEATHSIG) on Mosquitto itself: the kernel clears that setting when Mosquitto
drops its privileges (run as root it becomes the mosquitto user), and the drop is worth keeping."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from harness.lab.broker import LabBroker
from harness.lab.ca import LabCA

REAPER_TIMEOUT = 5.0
# Run with `python -c`: no harness import (fast); argv: read end of the pipe, PID, its command line
# in hex, and the broker's private runtime directory (keys, password file) to remove, or "".
REAPER = """\
import os, shutil, signal, sys
fd, pid, cmdline, private = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
while os.read(fd, 64):
    pass
try:
    with open(f"/proc/{pid}/cmdline", "rb") as f:
        if f.read().hex() == cmdline:
            os.kill(pid, signal.SIGTERM)
except OSError:
    pass
if private:
    shutil.rmtree(private, ignore_errors=True)
"""


class CloudBroker(LabBroker):
    def __init__(self, workdir: Path, *, ca: LabCA, host: str, names: list[str], tls_port: int, plain_port: int,
                 devices: dict[str, str], device_topics: dict[str, str]) -> None:
        """`devices`: account → password; `device_topics`: account → its MQTT topic."""
        super().__init__(workdir, ca=ca, accounts=devices, host=host, kinds=("tls",), cert_names=names)
        self.tls_port = tls_port
        self.plain_port = plain_port
        self.device_topics = dict(device_topics)

    def _config(self, kind: str, port: int) -> str:
        text = super()._config(kind, self.tls_port)
        assert self._runtime is not None  # written by LabBroker._prepare before any config
        acl = self._runtime / "acl"
        lines = [f"user {self.observer[0]}", "topic read #", ""]
        for user, topic in self.device_topics.items():
            lines += [f"user {user}", f"topic readwrite tele/{topic}/#", f"topic readwrite stat/{topic}/#",
                      f"topic read cmnd/{topic}/#", ""]
        acl.write_text("\n".join(lines))
        self._own(acl)
        tls = f"listener {self.tls_port} {self.host}"
        # Settings after a listener line belong to it: the plaintext listener goes first.
        return text.replace(tls, f"acl_file {acl}\nlistener {self.plain_port} {self.host}\n{tls}")

    def port(self, kind: str) -> int:
        return self.plain_port if kind == "plain" else self.tls_port

    def url(self, kind: str) -> str:
        return f"{'mqtt' if kind == 'plain' else 'mqtts'}://{self.host}:{self.port(kind)}"


class VendorCloud:
    """The broker, its CA (published as <directory>/ca/ca.pem) and the reaper."""

    def __init__(self, directory: Path, host: str, names: list[str], tls_port: int, plain_port: int,
                 devices: dict[str, str], device_topics: dict[str, str]) -> None:
        self.directory = directory
        self.host = host
        self.tls_port = tls_port
        self.plain_port = plain_port
        ca = LabCA.create(directory / "ca", common_name="Voltiq Cloud Root CA", key_type="ec")
        self.broker = CloudBroker(directory, ca=ca, host=host, names=names, tls_port=tls_port,
                                  plain_port=plain_port, devices=devices, device_topics=device_topics)
        self._lifeline: int | None = None
        self._reaper: subprocess.Popen[bytes] | None = None

    @property
    def ca_path(self) -> Path:
        return self.broker.ca_path

    @property
    def observer(self) -> tuple[str, str]:
        return self.broker.observer

    def start(self) -> None:
        self.broker.start()  # a BrokerError (a LabFault) when Mosquitto cannot run or listen
        pid = self.broker.pid("tls")
        if pid is None:
            return
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().hex()
        except OSError:
            return
        private = str(self.broker._runtime or "")  # LabBroker removes it on stop(); the reaper if killed
        read_end, self._lifeline = os.pipe()  # both close-on-exec: Mosquitto holds neither
        try:
            self._reaper = subprocess.Popen([sys.executable, "-c", REAPER, str(read_end), str(pid), cmdline, private],
                                            pass_fds=(read_end,), stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            os.close(read_end)

    def stop(self) -> None:
        self.broker.stop()
        if self._lifeline is not None:
            os.close(self._lifeline)  # the reaper finds its broker gone and ends
            self._lifeline = None
        if self._reaper is not None:
            try:
                self._reaper.wait(REAPER_TIMEOUT)
            except subprocess.TimeoutExpired:
                self._reaper.kill()
                self._reaper.wait(REAPER_TIMEOUT)
            self._reaper = None
