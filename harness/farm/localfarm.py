"""A labgrid farm on this machine: a coordinator, an exporter, and the simulator's units as places.

For the harness's own tests and benchmarks, and to try ``harness run --place`` without hardware.
The exporter offers each simulated unit's console pty as a RawSerialPort (labgrid runs ser2net for
it when the place is acquired, and clients see a NetworkSerialPort) and its power as a
NetworkPowerPort of labgrid's ``simplerest`` model, answered by a small HTTP endpoint here that
switches the simulator's SCPI supply. Everything listens on 127.0.0.1 only.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import yaml

from harness.farm.places import LabgridClient, PlaceError
from harness.farm.ser2net import free_port


def _wait_port(port: int, proc: subprocess.Popen[bytes], what: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise PlaceError(f"{what} did not listen on port {port} within {timeout:g} s")
        try:
            code = proc.wait(min(0.05, remaining))  # wakes at once if it died
            raise PlaceError(f"{what} exited with {code}")
        except subprocess.TimeoutExpired:
            pass


def _stop(proc: subprocess.Popen[bytes] | None, *, group: bool = False, timeout: float = 10.0) -> None:
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        if group:
            os.killpg(proc.pid, signal.SIGTERM)  # the exporter and the ser2net processes it started
        else:
            proc.terminate()
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL) if group else proc.kill()
        proc.wait(timeout)


class _ScpiSwitch:
    """One SCPI supply output (the simulator's bench supply), switched by ``OUTP`` commands."""

    def __init__(self, visa_resource: str) -> None:
        # TCPIP::127.0.0.1::<port>::SOCKET
        parts = visa_resource.split("::")
        self.host, self.port = parts[1], int(parts[2])
        self.lock = threading.Lock()

    def ask(self, command: str) -> str:
        with self.lock, socket.create_connection((self.host, self.port), timeout=5) as s:
            s.sendall(command.encode() + b"\n")
            if not command.endswith("?"):
                s.sendall(b"*OPC?\n")  # an answer to wait for: the switch has happened
            buf = b""
            while not buf.endswith(b"\n"):
                chunk = s.recv(256)
                if not chunk:
                    break
                buf += chunk
            return buf.decode().strip()


def _power_handler(switches: dict[int, _ScpiSwitch]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        # simplerest: GET /power/<index>/<value> switches; GET /power/<index> reads "1"/"0"
        def do_GET(self) -> None:  # noqa: N802 - http.server's name
            parts = [p for p in self.path.split("/") if p]
            try:
                switch = switches[int(parts[1])]
                if len(parts) == 3:
                    switch.ask(f"OUTP {1 if parts[2] == '1' else 0}")
                    body = b"ok"
                else:
                    body = b"1" if switch.ask("OUTP?") in ("1", "ON") else b"0"
            except (IndexError, ValueError, KeyError, OSError) as exc:
                self.send_error(400, str(exc))
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
            return

    return Handler


@dataclass
class LocalFarm:
    """Coordinator + one exporter + a power endpoint for the given simulator units (context manager)."""
    workdir: Path
    units: dict[str, dict[str, Any]]  # unit id → the simulator's runtime facts of that unit
    place_prefix: str = "sim"
    tags: dict[str, str] = field(default_factory=lambda: {"board": "simhub"})
    exporter_name: str = "simbench"
    coordinator_port: int = 0
    coordinator: subprocess.Popen[bytes] | None = None
    exporter: subprocess.Popen[bytes] | None = None
    _http: ThreadingHTTPServer | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.coordinator_port}"

    def place(self, unit: str) -> str:
        return f"{self.place_prefix}-{unit.lower()}"

    def client(self) -> LabgridClient:
        return LabgridClient(self.address)

    def start(self, timeout: float = 30.0) -> LocalFarm:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.coordinator_port = self.coordinator_port or free_port()
        log = open(self.workdir / "coordinator.log", "ab")  # noqa: SIM115 - the child holds it
        self.coordinator = subprocess.Popen([sys.executable, "-m", "labgrid.remote.coordinator", "-l", self.address],
                                            cwd=self.workdir, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        log.close()
        _wait_port(self.coordinator_port, self.coordinator, "labgrid-coordinator", timeout)
        switches = {n: _ScpiSwitch(facts["supply"]) for n, facts in enumerate(self.units.values())}
        self._http = ThreadingHTTPServer(("127.0.0.1", 0), _power_handler(switches))
        threading.Thread(target=self._http.serve_forever, name="farm-power", daemon=True).start()
        self.start_exporter(timeout)
        client = self.client()
        for unit in self.units:
            place = self.place(unit)
            client.run("-p", place, "create")
            client.run("-p", place, "add-match", f"{self.exporter_name}/{place}/*")
            if self.tags:
                client.run("-p", place, "set-tags", *[f"{k}={v}" for k, v in {**self.tags, "unit": unit.lower()}.items()])
        return self

    def exporter_config(self) -> dict[str, Any]:
        assert self._http is not None
        port = self._http.server_address[1]
        config: dict[str, Any] = {}
        for n, (unit, facts) in enumerate(self.units.items()):
            group: dict[str, Any] = {
                "RawSerialPort": {"port": facts["console"], "speed": 115200},
                "NetworkPowerPort": {"model": "simplerest", "host": f"http://127.0.0.1:{port}/power/{{index}}/{{value}}",
                                     "index": n},
            }
            if facts.get("address"):
                group["NetworkService"] = {"address": facts["address"], "username": "admin"}
            config[self.place(unit)] = group
        return config

    def start_exporter(self, timeout: float = 30.0) -> None:
        path = self.workdir / "exporter.yaml"
        path.write_text(yaml.safe_dump(self.exporter_config(), sort_keys=False))
        log = open(self.workdir / "exporter.log", "ab")  # noqa: SIM115 - the child holds it
        self.exporter = subprocess.Popen([sys.executable, "-m", "labgrid.remote.exporter", "-c", self.address,
                                          "-n", self.exporter_name, "--hostname", "127.0.0.1", str(path)],
                                         cwd=self.workdir, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                         start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        client = self.client()
        while self.exporter_name not in client.run("resources"):
            if self.exporter.poll() is not None:
                raise PlaceError(f"labgrid-exporter exited with {self.exporter.returncode}; see {self.workdir}")
            if time.monotonic() > deadline:
                raise PlaceError(f"labgrid-exporter not registered within {timeout:g} s; see {self.workdir}")
            # Each `resources` query is a round trip of its own: the loop is paced by them and bounded.

    def kill_exporter(self) -> None:
        """The bench computer goes away: the exporter and its ser2net processes die at once."""
        if self.exporter is not None and self.exporter.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.exporter.pid, signal.SIGKILL)
            self.exporter.wait(10)

    def stop(self) -> None:
        _stop(self.exporter, group=True)
        _stop(self.coordinator, group=True)
        if self._http is not None:
            self._http.shutdown()
            self._http.server_close()
            self._http = None

    def __enter__(self) -> LocalFarm:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
