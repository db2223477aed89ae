"""harness.links.instruments with pyvisa-py over a real socket, against the simulator's supply."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from pathlib import Path
from typing import Any

import pytest

from harness.links.instruments import InstrumentError, PowerSupply, Relay
from harness.sim.power import ScpiSupplyServer
from harness.verdict import LabFault


class Bench:
    """The simulator's SCPI supply on its own event loop thread, and what the unit saw."""

    def __init__(self) -> None:
        self.events: list[tuple[str, bool]] = []
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.server = ScpiSupplyServer("127.0.0.1", on_output=lambda on: self.events.append(("power", on)),
                                       on_button=lambda p: self.events.append(("button", p)))
        self.run(self.server.start())
        self.resource = f"TCPIP::127.0.0.1::{self.server.port}::SOCKET"

    def run(self, coro: Any) -> Any:
        fut: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(5)

    def stop(self) -> None:
        self.run(self.server.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def bench() -> Iterator[Bench]:
    b = Bench()
    try:
        yield b
    finally:
        b.stop()


class Waits:
    def __init__(self, bench: Bench) -> None:
        self.bench = bench
        self.calls: list[float] = []
        self.seen_during: list[list[tuple[str, bool]]] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.seen_during.append(list(self.bench.events))


def test_identity_over_pyvisa_py(bench: Bench, tmp_path: Path) -> None:
    with PowerSupply("psu", resource=bench.resource, transcript_dir=tmp_path) as psu:
        assert psu.backend == "@py"
        assert psu.identity == "SimIoT Lab,PSU-1,0001,1.0"
        assert psu.evidence()["identity"] == "SimIoT Lab,PSU-1,0001,1.0"


def test_a_raw_socket_writes_at_once(bench: Bench, tmp_path: Path) -> None:
    """VISA's default for a SOCKET resource is Nagle off: a command followed by a query must not
    wait for the instrument's delayed ACK (40 ms on Linux) each time."""
    with PowerSupply("psu", resource=bench.resource, transcript_dir=tmp_path) as psu:
        res = psu._res
        sock = res.visalib.sessions[res.session].interface
        assert sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY) == 1
        psu.output(True)  # a command, then SYST:ERR?, still answered
        assert psu.output_state() is True


def test_power_cycle_really_switches_the_unit(bench: Bench, tmp_path: Path) -> None:
    bench.server.set_load(0.4)
    with PowerSupply("psu", resource=bench.resource, transcript_dir=tmp_path) as psu:
        psu.output(True)
        assert psu.measure_current() == pytest.approx(0.4)
        waits = Waits(bench)
        record = psu.power_cycle(3.0, waits)
        # during the off time the unit was already down; afterwards it is up again
        assert waits.calls == [3.0]
        assert waits.seen_during == [[("power", True), ("power", False)]]
        assert bench.events == [("power", True), ("power", False), ("power", True)]
        assert record.current_off_a == 0.0
        assert psu.output_state() is True


def test_hold_button_presses_and_releases(bench: Bench, tmp_path: Path) -> None:
    with Relay("reset", resource=bench.resource, transcript_dir=tmp_path, channel=1) as relay:
        waits = Waits(bench)
        relay.step("hold_button", 10, wait=waits, seconds=float)
        assert waits.seen_during == [[("button", True)]]
        assert bench.events == [("button", True), ("button", False)]
        relay.set(2, True)
        assert relay.is_closed(2) is True and relay.is_closed(1) is False


def test_undefined_header_is_reported(bench: Bench, tmp_path: Path) -> None:
    with PowerSupply("psu", resource=bench.resource, transcript_dir=tmp_path) as psu:
        with pytest.raises(InstrumentError, match='-113.*Undefined header') as info:
            psu.output(True, channel=2)  # a single-output supply knows no INST:NSEL
        assert info.value.command == "INST:NSEL 2" and info.value.code == -113
        assert bench.events == []  # the refused selection stopped the sequence before OUTP ON


def test_connection_refused_is_a_lab_fault(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port that was free a moment ago and has no listener now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InstrumentError, match="Connection refused") as info:
        PowerSupply("psu", resource=f"TCPIP::127.0.0.1::{port}::SOCKET", transcript_dir=tmp_path,
                    timeout=1.0).open()
    assert isinstance(info.value, LabFault)


def test_instrument_gone_mid_run_is_a_lab_fault(bench: Bench, tmp_path: Path) -> None:
    psu = PowerSupply("psu", resource=bench.resource, transcript_dir=tmp_path, timeout=1.0).open()
    try:
        bench.run(bench.server.close())
        with pytest.raises(InstrumentError):
            psu.output(True)
        with pytest.raises(InstrumentError, match="Connection refused"):
            psu.output(True)  # the reconnect is refused too: still a lab fault, never a hang
    finally:
        psu.close()


def test_a_different_instrument_at_the_same_address_is_refused(bench: Bench, tmp_path: Path) -> None:
    psu = PowerSupply("psu", resource=bench.resource, transcript_dir=tmp_path, timeout=1.0).open()
    try:
        port = bench.server.port
        bench.run(bench.server.close())
        bench.server = ScpiSupplyServer("127.0.0.1", port, idn="Other Lab,PSU-9,0999,2.0")
        bench.run(bench.server.start())
        with pytest.raises(InstrumentError):
            psu.output(True)  # the old connection is gone
        with pytest.raises(InstrumentError, match="now answers as 'Other Lab,PSU-9,0999,2.0'"):
            psu.output(True)
        assert bench.server.output is False  # nothing was sent to the stranger but *IDN?
    finally:
        psu.close()


def test_reopen_after_close_writes_a_new_transcript(bench: Bench, tmp_path: Path) -> None:
    psu = PowerSupply("psu", resource=bench.resource, transcript_dir=tmp_path).open()
    first = psu.transcript.path
    psu.close()
    psu.open()
    psu.output(True)
    psu.close()
    assert psu.transcript.path != first and "> OUTP ON" in psu.transcript.path.read_text()
