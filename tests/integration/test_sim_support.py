"""Helpers for the simulator tests (no tests here): start the simulator as a subprocess and drive
its consoles over the pty with pyserial, exactly as the harness does (through the links only)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pyvisa
import serial

ROOT = Path(__file__).resolve().parents[2]
READY_TIMEOUT = 15.0
EXPECT_TIMEOUT = 5.0
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]")
LOGIN_PROMPT = "simiot login: "
PROMPT = "simiot> "


class SimProcess:
    """One simulator process, always stopped by its own PID."""

    def __init__(self, run_dir: Path, persona: str = "compliant", defects: tuple[str, ...] = (), units: int = 3,
                 time_scale: float = 0.0, lifetime: float = 120.0, extra: tuple[str, ...] = ()) -> None:
        self.run_dir = run_dir
        self.cmd = [sys.executable, "-m", "harness.sim", "--persona", persona, "--units", str(units),
                    "--run-dir", str(run_dir), "--time-scale", str(time_scale), "--lifetime", str(lifetime),
                    *(a for d in defects for a in ("--defect", d)), *extra]
        self.proc: subprocess.Popen[bytes] | None = None
        self.runtime: dict[str, Any] = {}
        self.secrets: dict[str, str] = {}
        self.ready_at = 0.0

    @property
    def runtime_path(self) -> Path:
        return self.run_dir / "runtime.json"

    def start(self, timeout: float = READY_TIMEOUT) -> SimProcess:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.run_dir / "sim.log", "ab")
        self.proc = subprocess.Popen(self.cmd, cwd=ROOT, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while not self.runtime_path.exists():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise AssertionError(f"simulator not ready within {timeout} s: {self.log()}")
            try:
                code = self.proc.wait(min(0.02, remaining))  # returns at once if the simulator died
            except subprocess.TimeoutExpired:
                continue
            raise AssertionError(f"simulator exited with {code}: {self.log()}")
        self.ready_at = time.monotonic()
        self.runtime = json.loads(self.runtime_path.read_text())
        self.secrets = json.loads((self.run_dir / "secrets.json").read_text())
        return self

    def log(self) -> str:
        path = self.run_dir / "sim.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def label(self, uid: str) -> str:
        return self.secrets[f"SIM_{uid}_LABEL"]

    def console(self, uid: str, clean: bool = False) -> Console:
        return Console(self.runtime["units"][uid]["console"], clean=clean)

    def terminate(self, timeout: float = 10.0) -> int:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout)

    def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.proc = None

    def __enter__(self) -> SimProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Console:
    """A minimal expect over pyserial. `clean` strips ANSI and normalises line ends (noisy console)."""

    def __init__(self, path: str, clean: bool = False) -> None:
        self.port = serial.serial_for_url(path, timeout=0.05)
        self.clean = clean
        self.buffer = ""
        self.raw = ""  # everything received, for assertions on what was (not) shown

    def close(self) -> None:
        self.port.close()

    def __enter__(self) -> Console:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _read(self) -> bool:
        data = self.port.read(self.port.in_waiting or 1)
        if not data:
            return False
        text = data.decode(errors="replace")
        self.raw += text
        if self.clean:
            text = ANSI.sub("", text)
        self.buffer += text
        if self.clean:
            self.buffer = self.buffer.replace("\r\n", "\n").replace("\r", "\n")
        return True

    def send(self, line: str, end: str = "\r") -> None:
        self.port.write((line + end).encode())
        self.port.flush()

    def expect(self, pattern: str, timeout: float = EXPECT_TIMEOUT) -> str:
        """Everything up to and including the first match; consumed from the buffer."""
        regex = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = regex.search(self.buffer)
            if m:
                seen, self.buffer = self.buffer[:m.end()], self.buffer[m.end():]
                return seen
            if time.monotonic() >= deadline:
                raise AssertionError(f"{pattern!r} not seen within {timeout} s; got {self.buffer[-500:]!r}")
            self._read()

    def quiet_for(self, seconds: float) -> str:
        """What arrived during `seconds` (bounded): proof of silence when empty."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self._read()
        seen, self.buffer = self.buffer, ""
        return seen

    def attention(self) -> None:
        """Get to a login prompt (the boot log may have gone before the port was opened)."""
        self.send("")
        self.expect(re.escape(LOGIN_PROMPT))

    def login(self, password: str, user: str = "admin") -> str:
        self.send(user)
        self.expect("Password: ")
        self.send(password)
        return self.expect(r"simiot> |simiot login: ")

    def run(self, command: str) -> str:
        self.send(command)
        return self.expect(re.escape(PROMPT))


class Supply:
    """A unit's bench supply (and reset-button relay) over pyvisa-py and a real TCP socket, as the
    harness's instrument link drives it. Every command is followed by an error-queue check."""

    def __init__(self, resource: str) -> None:
        self.rm = pyvisa.ResourceManager("@py")
        self.res: Any = self.rm.open_resource(resource, read_termination="\n", write_termination="\n", timeout=5000)

    def close(self) -> None:
        self.res.close()
        self.rm.close()

    def __enter__(self) -> Supply:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def query(self, command: str) -> str:
        return str(self.res.query(command)).strip()

    def write(self, command: str) -> None:
        self.res.write(command)
        assert self.query("SYST:ERR?") == '0,"No error"'

    def output(self, on: bool) -> None:
        """Switch and confirm (the answer comes once the unit has followed)."""
        self.write(f"OUTP {'ON' if on else 'OFF'}")
        assert self.query("OUTP?") == ("1" if on else "0")

    def current(self) -> float:
        return float(self.query("MEAS:CURR?"))

    def hold_button(self, seconds: float) -> None:
        self.write("ROUT:CLOS (@1)")
        time.sleep(seconds)  # the test's own bench timing, like the harness's declared hold time
        self.write("ROUT:OPEN (@1)")


def supply(sim: SimProcess, uid: str = "U1") -> Supply:
    return Supply(sim.runtime["units"][uid]["supply"])
