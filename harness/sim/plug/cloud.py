"""The vendor's cloud broker, played by the simulator: one real Mosquitto on an address fixed in the
devices' firmware, with a plaintext listener (1883) and a TLS listener (8883, certificate from the
vendor's own CA), password file and ACL: each device account may use its own topics, the lab's
observer account may read everything (observe, never command).

Lifetime: Mosquitto is started with `prctl(PR_SET_PDEATHSIG, SIGTERM)` in its preexec_fn, so the
kernel ends it whenever the simulator dies, SIGKILL included; a normal stop ends it by PID first.
The kernel clears that setting when a process changes its user ID, which Mosquitto does when
started as root unless its config says `user root`: so it keeps the simulator's user. It listens on
loopback only and serves only the simulator's own devices and the lab's observer; a broker left
behind by a killed simulator (holding the fixed ports) would break every later run, a worse harm.
Its log goes to `<run_dir>/cloud-broker.log` (no secrets: Mosquitto logs user names, not passwords)."""

from __future__ import annotations

import ctypes
import getpass
import os
import secrets
import signal
import subprocess
import threading
from pathlib import Path

from harness.lab.ca import LabCA, write_private

MOSQUITTO = "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = "/usr/bin/mosquitto_passwd"
PR_SET_PDEATHSIG = 1
START_TIMEOUT = 5.0
TOOL_TIMEOUT = 10.0
READY_MARK = "mosquitto version"  # "… running": Mosquitto's start line after its listeners opened


class CloudError(RuntimeError):
    pass


def _die_with_parent() -> None:  # runs in the child between fork and exec
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


class VendorCloud:
    def __init__(self, directory: Path, host: str, names: list[str], tls_port: int, plain_port: int,
                 devices: dict[str, str], device_topics: dict[str, str]) -> None:
        """`devices`: account → password; `device_topics`: account → its MQTT topic."""
        self.directory = directory
        self.host = host
        self.names = names
        self.tls_port = tls_port
        self.plain_port = plain_port
        self.devices = dict(devices)
        self.device_topics = dict(device_topics)
        self.observer = ("observer-" + secrets.token_hex(3), secrets.token_urlsafe(18))
        self.proc: subprocess.Popen[bytes] | None = None
        self._ready = threading.Event()
        self._reader: threading.Thread | None = None
        self.ca: LabCA | None = None

    @property
    def ca_path(self) -> Path:
        return self.directory / "ca" / "ca.pem"

    @property
    def log_path(self) -> Path:
        return self.directory.parent / "cloud-broker.log"

    def _write_files(self) -> Path:
        d = self.directory
        d.mkdir(parents=True, exist_ok=True)
        os.chmod(d, 0o700)
        self.ca = LabCA.create(d / "ca", common_name="Voltiq Cloud Root CA", key_type="ec")
        cert, key = self.ca.issue_server_cert([self.host, *self.names], d, "cloud")
        passwd = d / "passwd"
        write_private(passwd, b"")
        for user, password in {**self.devices, self.observer[0]: self.observer[1]}.items():
            try:  # the password on stdin, never on a command line
                done = subprocess.run([MOSQUITTO_PASSWD, str(passwd), user], input=f"{password}\n{password}\n".encode(),
                                      capture_output=True, timeout=TOOL_TIMEOUT, check=False)
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise CloudError(f"mosquitto_passwd failed: {exc}") from exc
            if done.returncode != 0:
                raise CloudError(f"mosquitto_passwd refused account {user!r}")
        acl = [f"user {self.observer[0]}", "topic read #", ""]
        for user, topic in self.device_topics.items():
            acl += [f"user {user}", f"topic readwrite tele/{topic}/#", f"topic readwrite stat/{topic}/#",
                    f"topic read cmnd/{topic}/#", ""]
        (d / "acl").write_text("\n".join(acl))
        run_as = "root" if os.geteuid() == 0 else getpass.getuser()  # see the module docstring
        config = [
            "# vendor cloud broker, written by the plug simulator",
            f"user {run_as}",
            "per_listener_settings false",
            "persistence false",
            "allow_anonymous false",
            f"password_file {passwd}",
            f"acl_file {d / 'acl'}",
            "log_dest stderr",
            "log_type error", "log_type warning", "log_type notice", "log_type information",
            "connection_messages true",
            f"listener {self.plain_port} {self.host}",
            f"listener {self.tls_port} {self.host}",
            f"certfile {cert}",
            f"keyfile {key}",
            "tls_version tlsv1.2",
        ]
        path = d / "mosquitto.conf"
        path.write_text("\n".join(config) + "\n")
        return path

    def start(self) -> None:
        config = self._write_files()
        try:
            self.proc = subprocess.Popen([MOSQUITTO, "-c", str(config)], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                         preexec_fn=_die_with_parent)  # noqa: PLW1509 - see the docstring
        except OSError as exc:
            raise CloudError(f"cannot run {MOSQUITTO}: {exc} (Debian package mosquitto)") from exc
        self._reader = threading.Thread(target=self._read_log, daemon=True, name="plug-cloud-log")
        self._reader.start()
        if not self._ready.wait(START_TIMEOUT) or self.proc.poll() is not None:
            tail = self.log_path.read_text(errors="replace")[-2000:] if self.log_path.exists() else ""
            self.stop()
            raise CloudError(f"the vendor cloud broker did not start on {self.host}:\n{tail}")

    def _read_log(self) -> None:
        proc = self.proc
        assert proc is not None and proc.stderr is not None
        with open(self.log_path, "ab") as log:
            for line in proc.stderr:  # ends when Mosquitto exits
                log.write(line)
                log.flush()
                if READY_MARK.encode() in line and b"running" in line:
                    self._ready.set()
        self._ready.set()  # ended: whoever waits for readiness looks at the process

    def stop(self, timeout: float = 5.0) -> None:
        proc, self.proc = self.proc, None
        if proc is None:
            return
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout)
        if self._reader is not None:
            self._reader.join(timeout)
