"""Start and stop simulator processes for runs, demos and tests (a bench tool, not a suite)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

LAB_TEMPLATE = """\
# Lab configuration for a simulator run, written by `harness sim`/`harness demo`.
schema_version: 1
name: "simulator ({persona})"
runtime: runtime.json
secrets: {{file: secrets.json, environment: false}}
fetch: {{allow: [127.0.0.0/8], ca: {{runtime: https.ca}}, timeout: 5}}
networks: [127.0.0.0/8]
# The lab broker the suites start; the simulated units trust its CA (the simulator was given it).
broker: {{start: true, ca_dir: lab-ca}}
"""


class SimulatorError(RuntimeError):
    pass


@dataclass
class SimulatorProcess:
    persona: str
    run_dir: Path
    defects: dict[str, str | None] = field(default_factory=dict)
    units: int = 3
    time_scale: float = 0.0
    lifetime: float = 3600.0
    netns: Any = None  # a harness.net.netns.Namespace to run the simulator in (isolated bench)
    proc: subprocess.Popen[bytes] | None = None
    runtime: dict[str, Any] = field(default_factory=dict)

    @property
    def lab_path(self) -> Path:
        return self.run_dir / "lab.yaml"

    def start(self, timeout: float = 30.0) -> SimulatorProcess:
        self.run_dir.mkdir(parents=True, exist_ok=True)
        runtime = self.run_dir / "runtime.json"
        if runtime.exists():
            runtime.unlink()  # a stale file from a killed simulator must not look like readiness
        cmd = [sys.executable, "-m", "harness.sim", "--persona", self.persona, "--units", str(self.units),
               "--run-dir", str(self.run_dir), "--time-scale", str(self.time_scale),
               "--lifetime", str(self.lifetime)]
        for name, value in self.defects.items():
            cmd += ["--defect", name if value is None else f"{name}={value}"]
        # The lab CA the broker's certificate will come from: the units trust it like a product
        # trusts its maker's cloud CA.
        from harness.lab.ca import LabCA
        ca = LabCA.load_or_create(self.run_dir / "lab-ca", key_type="ec")
        cmd += ["--trust-ca", str(ca.ca_path)]
        if self.netns is not None:
            cmd = self.netns.exec_args(cmd)
        log = open(self.run_dir / "simulator.log", "ab")
        self.proc = subprocess.Popen(cmd, stdout=log, stderr=log, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        log.close()
        deadline = time.monotonic() + timeout
        while not runtime.exists():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self.stop()
                raise SimulatorError(f"simulator not ready within {timeout:g} s; see {self.run_dir / 'simulator.log'}")
            try:
                # Wakes at once if the simulator dies; otherwise look for the readiness file again.
                code = self.proc.wait(min(0.05, remaining))
                raise SimulatorError(f"simulator exited with {code}; see {self.run_dir / 'simulator.log'}")
            except subprocess.TimeoutExpired:
                pass
        self.runtime = json.loads(runtime.read_text())
        from harness.sim.families import FAMILIES
        if self.persona not in FAMILIES:  # the other families write their own lab.yaml
            self.lab_path.write_text(LAB_TEMPLATE.format(persona=self.persona))
        return self

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        self.proc = None

    def __enter__(self) -> SimulatorProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
