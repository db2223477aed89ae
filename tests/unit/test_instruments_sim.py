"""harness.links.instruments against pyvisa-sim (fixtures/instruments/bench.yaml)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from harness.links.instruments import (
    DIALECTS,
    Instrument,
    InstrumentError,
    PowerSupply,
    Relay,
    make_instrument,
)
from harness.verdict import Evidence, LabFault

BENCH = Path(__file__).resolve().parents[2] / "fixtures" / "instruments" / "bench.yaml"
SUPPLY, RELAY, FAULTY, MUTE, HMP = (f"TCPIP::127.0.0.1::{p}::SOCKET" for p in range(5025, 5030))


@pytest.fixture
def backend(tmp_path: Path) -> str:
    # pyvisa-sim keeps one simulated state per file path: a copy per test is a fresh bench.
    copy = tmp_path / "bench.yaml"
    shutil.copy(BENCH, copy)
    return f"{copy}@sim"


class Waits:
    """A stand-in for the procedure runner's stoppable wait: records, never sleeps."""

    def __init__(self, raise_with: BaseException | None = None) -> None:
        self.calls: list[float] = []
        self.raise_with = raise_with

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        if self.raise_with is not None:
            raise self.raise_with


def commands(inst: Instrument, since: int = 0) -> list[str]:
    return [line.split(" > ", 1)[1].split("  ")[0] for line in inst.evidence(since)["transcript"]]


def open_(cls: type[Instrument], resource: str, backend: str, tmp_path: Path, **kw: object) -> Instrument:
    return cls("psu", resource=resource, backend=backend, transcript_dir=tmp_path, timeout=kw.pop("timeout", 1.0),
               **kw).open()


def test_open_records_identity_and_clears_errors(backend: str, tmp_path: Path) -> None:
    psu = open_(PowerSupply, SUPPLY, backend, tmp_path)
    try:
        assert psu.identity == "Bench Sim,PSU-1,SIM0001,1.0"
        assert psu.kind == "instrument" and psu.dialect.name == "generic"
        assert commands(psu) == ["*IDN?", "*CLS", "SYST:ERR?"]
    finally:
        psu.close()


def test_supply_output_voltage_current(backend: str, tmp_path: Path) -> None:
    with PowerSupply("psu", resource=SUPPLY, backend=backend, transcript_dir=tmp_path) as psu:
        assert psu.output_state() is False
        psu.output(True)
        assert psu.output_state() is True  # the sim answers ON/OFF, real ones 1/0: both read
        psu.set_voltage(12.5)
        assert psu.query("VOLT?") == "12.500"
        assert psu.measure_current() == pytest.approx(0.125)
        psu.output(False)
        assert psu.output_state() is False


def test_every_command_is_followed_by_an_error_check(backend: str, tmp_path: Path) -> None:
    with PowerSupply("psu", resource=SUPPLY, backend=backend, transcript_dir=tmp_path) as psu:
        mark = psu.mark()
        psu.output(True)
        psu.measure_current()
        assert commands(psu, mark) == ["OUTP ON", "SYST:ERR?", "MEAS:CURR?", "SYST:ERR?"]


def test_refused_command_is_an_instrument_error_and_a_lab_fault(backend: str, tmp_path: Path) -> None:
    with PowerSupply("psu", resource=SUPPLY, backend=backend, transcript_dir=tmp_path) as psu:
        with pytest.raises(InstrumentError) as info:
            psu.set_voltage(99)  # outside the sim's 0..30 V: it queues -113
        assert isinstance(info.value, LabFault)
        assert info.value.code == -113 and "Undefined header" in str(info.value)
        assert info.value.command == "VOLT 99.000"
        psu.set_voltage(3.3)  # the queue was drained: the next command is clean


def test_without_error_check_a_refusal_goes_unnoticed(backend: str, tmp_path: Path) -> None:
    # The other side of the test above: the error surfaces only because SYST:ERR? is asked.
    with PowerSupply("psu", resource=SUPPLY, backend=backend, transcript_dir=tmp_path, check_errors=False) as psu:
        psu.set_voltage(99)
        assert psu.query("SYST:ERR?").startswith("-113")


def test_error_queue_that_never_empties_is_bounded(backend: str, tmp_path: Path) -> None:
    with pytest.raises(InstrumentError, match="still not empty after 16 reads") as info:
        open_(PowerSupply, FAULTY, backend, tmp_path)
    assert info.value.code == -310
    inst = open_(PowerSupply, FAULTY, backend, tmp_path, check_errors=False)
    assert inst.identity == "Bench Sim,PSU-1,SIM0003,1.0"
    inst.close()


def test_timeout_is_an_instrument_error_and_the_session_is_renewed(backend: str, tmp_path: Path) -> None:
    psu = open_(PowerSupply, MUTE, backend, tmp_path, timeout=0.2)
    try:
        with pytest.raises(InstrumentError, match="timeout after 0.2 s"):
            psu.measure_current()
        mark = psu.mark()
        assert psu.query("*IDN?") == "Bench Sim,PSU-1,SIM0004,1.0"
        # a fresh session with a fresh identity check before the next command
        assert commands(psu, mark)[:2] == ["*IDN?", "*CLS"]
    finally:
        psu.close()


@pytest.mark.filterwarnings("ignore:read string doesn't end")
def test_unknown_resource_is_an_instrument_error(backend: str, tmp_path: Path) -> None:
    # pyvisa-sim opens any name and answers nothing; pyvisa-py refuses at once (test_instruments_socket)
    with pytest.raises(InstrumentError, match=r"empty answer to \*IDN\?"):
        open_(PowerSupply, "TCPIP::127.0.0.1::6000::SOCKET", backend, tmp_path)


def test_channel_selection_generic(backend: str, tmp_path: Path) -> None:
    with PowerSupply("psu", resource=SUPPLY, backend=backend, transcript_dir=tmp_path) as psu:
        mark = psu.mark()
        psu.output(True, channel=2)
        assert commands(psu, mark) == ["INST:NSEL 2", "SYST:ERR?", "OUTP ON", "SYST:ERR?"]
        with pytest.raises(InstrumentError, match="INST:NSEL 3"):
            psu.output(True, channel=3)  # the sim supply has two channels


def test_dialect_follows_identity(backend: str, tmp_path: Path) -> None:
    with PowerSupply("hmp", resource=HMP, backend=backend, transcript_dir=tmp_path) as psu:
        assert psu.dialect.name == "rs_hmp"
        mark = psu.mark()
        psu.output(True, channel=2)
        assert commands(psu, mark) == ["INST:NSEL 2", "SYST:ERR?", "OUTP:STAT ON", "SYST:ERR?"]
        assert psu.output_state(channel=2) is True


def test_wrong_dialect_is_refused_by_the_instrument(backend: str, tmp_path: Path) -> None:
    with PowerSupply("hmp", resource=HMP, backend=backend, transcript_dir=tmp_path, dialect="generic") as psu:
        with pytest.raises(InstrumentError, match="'OUTP ON'.*-113"):
            psu.output(True)


def test_command_override_from_lab_config(backend: str, tmp_path: Path) -> None:
    with PowerSupply("hmp", resource=HMP, backend=backend, transcript_dir=tmp_path, dialect="generic",
                     commands={"output": "OUTP:STAT {state}"}) as psu:
        psu.output(True)


def test_templated_channel_dialects_render() -> None:
    assert DIALECTS["keysight_e36300"].commands["output"].format(state="ON", ch=2) == "OUTP ON,(@2)"
    assert DIALECTS["rigol_dp800"].commands["current?"].format(ch=3) == ":MEAS:CURR? CH3"
    assert all(d.follows for d in DIALECTS.values())


def test_power_cycle_waits_with_the_callers_wait(backend: str, tmp_path: Path) -> None:
    with PowerSupply("psu", resource=SUPPLY, backend=backend, transcript_dir=tmp_path) as psu:
        psu.output(True)
        waits = Waits()
        mark = psu.mark()
        record = psu.power_cycle(2.5, waits)
        assert waits.calls == [2.5]
        assert [c for c in commands(psu, mark) if c != "SYST:ERR?"] == [
            "OUTP OFF", "OUTP?", "MEAS:CURR?", "OUTP ON", "OUTP?"]
        assert record.off_s == 2.5 and record.current_off_a == pytest.approx(0.125)
        assert psu.output_state() is True


def test_power_cycle_restores_power_when_the_wait_is_interrupted(backend: str, tmp_path: Path) -> None:
    with PowerSupply("psu", resource=SUPPLY, backend=backend, transcript_dir=tmp_path) as psu:
        psu.output(True)
        with pytest.raises(KeyboardInterrupt):
            psu.power_cycle(5, Waits(KeyboardInterrupt()))
        assert psu.output_state() is True


def test_relay_pulse_holds_then_releases(backend: str, tmp_path: Path) -> None:
    with Relay("relay", resource=RELAY, backend=backend, transcript_dir=tmp_path) as relay:
        assert relay.identity == "Bench Sim,RELAY-4,SIM0002,1.0"
        waits = Waits()
        mark = relay.mark()
        press = relay.pulse(1, 10.0, waits)
        assert waits.calls == [10.0] and press.channel == 1 and press.hold_s == 10.0
        assert [c for c in commands(relay, mark) if c != "SYST:ERR?"] == ["ROUT:CLOS (@1)", "ROUT:OPEN (@1)"]


def test_relay_releases_the_button_when_the_wait_fails(backend: str, tmp_path: Path) -> None:
    with Relay("relay", resource=RELAY, backend=backend, transcript_dir=tmp_path) as relay:
        mark = relay.mark()
        with pytest.raises(RuntimeError):
            relay.pulse(2, 3.0, Waits(RuntimeError("run stopped")))
        assert commands(relay, mark)[-2] == "ROUT:OPEN (@2)"


def test_relay_channel_out_of_range(backend: str, tmp_path: Path) -> None:
    with Relay("relay", resource=RELAY, backend=backend, transcript_dir=tmp_path) as relay, \
            pytest.raises(InstrumentError, match="-113"):
        relay.set(5, True)


def test_procedure_steps(backend: str, tmp_path: Path) -> None:
    settle = {"power_off": 4.0, "factory_reset_hold": 12.0}

    def seconds(value: object) -> float:
        return float(settle[value]) if isinstance(value, str) else float(value)  # type: ignore[arg-type]

    waits = Waits()
    psu = make_instrument("psu", role="supply", resource=SUPPLY, backend=backend, transcript_dir=tmp_path).open()
    relay = make_instrument("btn", role="relay", resource=RELAY, backend=backend, transcript_dir=tmp_path,
                            channel=1).open()
    try:
        assert isinstance(psu, PowerSupply) and isinstance(relay, Relay)
        psu.step("power_on", None, wait=waits, seconds=seconds)
        psu.step("power_cycle", "power_off", wait=waits, seconds=seconds)
        psu.step("power_cycle", {"off": 1.5, "channel": 2}, wait=waits, seconds=seconds)
        psu.step("set_voltage", 3.3, wait=waits, seconds=seconds)
        relay.step("hold_button", "factory_reset_hold", wait=waits, seconds=seconds)
        relay.step("hold_button", {"channel": 3, "seconds": 0.5}, wait=waits, seconds=seconds)
        assert waits.calls == [4.0, 1.5, 12.0, 0.5]
        with pytest.raises(InstrumentError, match="no step 'explode'"):
            psu.step("explode", None, wait=waits, seconds=seconds)
        with pytest.raises(InstrumentError, match="role 'scope'"):
            make_instrument("x", role="scope", resource=SUPPLY)
    finally:
        psu.close()
        relay.close()


def test_evidence_names_the_instrument_and_its_exchanges(backend: str, tmp_path: Path) -> None:
    with PowerSupply("psu", resource=SUPPLY, backend=backend, transcript_dir=tmp_path) as psu:
        mark = psu.mark()
        assert not psu.used_since(mark)
        psu.measure_current()
        assert psu.used_since(mark)
        ev = psu.evidence(since=mark)
        assert ev["identity"] == "Bench Sim,PSU-1,SIM0001,1.0"
        assert ev["resource"] == SUPPLY and ev["backend"] == backend and ev["role"] == "supply"
        assert len(ev["transcript"]) == 2 and "MEAS:CURR?  < 0.1250" in ev["transcript"][0]
        assert ev["transcript"][0][:4].isdigit() and "T" in ev["transcript"][0][:11]  # wall-clock stamp
        item = psu.as_evidence(mark)
        assert isinstance(item, Evidence) and item.name == "instrument psu" and item.data["identity"]
    text = Path(ev["transcript_file"]).read_text()
    assert "> MEAS:CURR?" in text and "< 0.1250" in text and "identity 'Bench Sim,PSU-1,SIM0001,1.0'" in text


def test_evidence_excerpt_is_bounded(backend: str, tmp_path: Path) -> None:
    with PowerSupply("psu", resource=SUPPLY, backend=backend, transcript_dir=tmp_path, check_errors=False) as psu:
        for _ in range(250):
            psu.query("VOLT?")
        ev = psu.evidence()
        # 252 exchanges (*IDN?, *CLS and 250 queries): the last 200 in memory, all in the file
        assert len(ev["transcript"]) == 200 and ev["transcript_omitted"] == 52
