"""harness.sim.power: the simulator's SCPI supply, driven by pyvisa-py over a real TCP socket."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from concurrent.futures import Future
from typing import Any

import pytest
import pyvisa

from harness.sim.power import MAX_LINE, ScpiSupplyServer


class LoopThread:
    """The simulator's event loop in a thread, so synchronous pyvisa can talk to it."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 5.0) -> Any:
        fut: Future[Any] = asyncio.run_coroutine_threadsafe(coro, self.loop)
        return fut.result(timeout)

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)
        self.loop.close()


@pytest.fixture
def bench() -> Iterator[tuple[LoopThread, ScpiSupplyServer, list[tuple[str, bool]]]]:
    events: list[tuple[str, bool]] = []

    async def on_output(on: bool) -> None:  # an async callback, as the simulator's will be
        events.append(("output", on))

    lt = LoopThread()
    server = ScpiSupplyServer("127.0.0.1", on_output=on_output, on_button=lambda p: events.append(("button", p)))
    lt.run(server.start())
    try:
        yield lt, server, events
    finally:
        lt.run(server.close())
        lt.stop()


@pytest.fixture
def scpi(bench: tuple[LoopThread, ScpiSupplyServer, list[tuple[str, bool]]]) -> Iterator[Any]:
    rm = pyvisa.ResourceManager("@py")
    res = rm.open_resource(f"TCPIP::127.0.0.1::{bench[1].port}::SOCKET", read_termination="\n",
                           write_termination="\n", timeout=2000)
    try:
        yield res
    finally:
        res.close()
        rm.close()


def test_identity_and_clean_error_queue(scpi: Any) -> None:
    assert scpi.query("*IDN?") == "SimIoT Lab,PSU-1,0001,1.0"
    assert scpi.query("SYST:ERR?") == '0,"No error"'


def test_output_drives_the_unit_and_current_follows_load(scpi: Any, bench: Any) -> None:
    _, server, events = bench
    server.set_load(0.35)
    assert scpi.query("OUTP?") == "0" and float(scpi.query("MEAS:CURR?")) == 0.0
    scpi.write("OUTP ON")
    assert scpi.query("OUTP?") == "1"
    assert float(scpi.query("MEAS:CURR?")) == pytest.approx(0.35)
    scpi.write("OUTP ON")  # already on: no second power-on event
    scpi.write("OUTP 0")
    assert float(scpi.query("MEAS:CURR?")) == 0.0
    assert events == [("output", True), ("output", False)]


def test_callback_has_run_before_the_next_answer(bench: Any, scpi: Any) -> None:
    lt, server, _ = bench
    seen: list[bool] = []

    async def slow_off(on: bool) -> None:
        await asyncio.sleep(0.05)  # sleep-ok: a unit that takes a moment to go down
        seen.append(on)

    server.on_output = slow_off
    scpi.write("OUTP ON")
    assert scpi.query("OUTP?") == "1" and seen == [True]


def test_long_forms_optional_nodes_and_case(scpi: Any) -> None:
    scpi.write("OUTPut:STATe on")
    scpi.write(":source:voltage:level:immediate:amplitude 3.3")
    assert scpi.query("SOUR:VOLT?") == "3.300"
    assert scpi.query("outp:stat?") == "1"
    assert scpi.query("MEASure:SCALar:CURRent?") == "0.0000"
    assert scpi.query("SYSTem:ERRor:NEXT?") == '0,"No error"'


def test_several_commands_in_one_message(scpi: Any) -> None:
    assert scpi.query("VOLT 12;VOLT?;OUTP?") == "12.000;0"


def test_unknown_header_and_bad_values_go_to_the_error_queue(scpi: Any) -> None:
    scpi.write("OUTP:FOO ON")
    scpi.write("VOLT 99")
    scpi.write("VOLT")
    scpi.write("OUTP MAYBE")
    scpi.write("VOLT abc")
    assert [scpi.query("SYST:ERR?") for _ in range(6)] == [
        '-113,"Undefined header"', '-222,"Data out of range"', '-109,"Missing parameter"',
        '-224,"Illegal parameter value"', '-104,"Data type error"', '0,"No error"']


def test_error_queue_overflow_and_cls(scpi: Any) -> None:
    for _ in range(15):
        scpi.write("NOPE")
    answers = [scpi.query("SYST:ERR?") for _ in range(11)]
    assert answers[:9] == ['-113,"Undefined header"'] * 9
    assert answers[9] == '-350,"Queue overflow"' and answers[10] == '0,"No error"'
    scpi.write("NOPE")
    scpi.write("*CLS")
    assert scpi.query("SYST:ERR?") == '0,"No error"'


def test_relay_channels_and_the_button_line(scpi: Any, bench: Any) -> None:
    _, _, events = bench
    scpi.write("ROUT:CLOS (@1,3)")
    assert scpi.query("ROUT:CLOS? (@1:4)") == "1,0,1,0"
    scpi.write("ROUT:OPEN (@1)")
    scpi.write("ROUT:CLOS (@2:4)")
    assert scpi.query("ROUT:CLOS? (@1:4)") == "0,1,1,1"
    assert events == [("button", True), ("button", False)]  # only channel 1 is the button
    scpi.write("ROUT:CLOS (@5)")
    scpi.write("ROUT:CLOS 1")
    assert scpi.query("SYST:ERR?") == '-222,"Data out of range"'
    assert scpi.query("SYST:ERR?") == '-224,"Illegal parameter value"'


def test_reset_switches_off_and_releases(scpi: Any, bench: Any) -> None:
    _, _, events = bench
    scpi.write("OUTP ON;VOLT 9;ROUT:CLOS (@1)")
    scpi.write("*RST")
    assert scpi.query("OUTP?;VOLT?;ROUT:CLOS? (@1)") == "0;5.000;0"
    assert events == [("output", True), ("button", True), ("output", False), ("button", False)]
    assert scpi.query("*OPC?") == "1"


def test_failing_callback_becomes_an_instrument_error(scpi: Any, bench: Any) -> None:
    def broken(on: bool) -> None:
        raise RuntimeError("simulator bug")

    bench[1].on_output = broken
    scpi.write("OUTP ON")
    assert scpi.query("SYST:ERR?").startswith("-310,")


def test_overlong_line_drops_the_connection(bench: Any) -> None:
    port = bench[1].port
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"A" * (MAX_LINE + 10) + b"\n")
        assert sock.recv(100) == b""  # closed by the server
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"SYST:ERR?\n")
        assert sock.recv(100) == b'-363,"Input buffer overrun"\n'


def test_close_ends_open_connections(bench: Any) -> None:
    lt, server, _ = bench
    with socket.create_connection(("127.0.0.1", server.port), timeout=2) as sock:
        sock.sendall(b"*IDN?\n")
        assert sock.recv(100).startswith(b"SimIoT Lab")
        lt.run(server.close())
        assert sock.recv(100) == b""
