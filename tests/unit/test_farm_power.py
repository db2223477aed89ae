"""Power through a labgrid power port without labgrid or a place: a stand-in back-end module.

The same calls labgrid's back-ends take (``power_set(host, port, index, value)``, ``power_get``),
read back after each switch; a profile's supply link with ``labgrid_power`` becomes a power-port
channel whose steps are procedure steps; a switch that fails or hangs is a lab fault."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.channel import InstrumentChannel, PowerPortChannel, open_channel
from harness.device import Device
from harness.farm import power as power_mod
from harness.farm.power import LabgridPower, PowerError, power_host, shown_host
from harness.profile.lab_models import LabConfig
from harness.profile.models import DeviceProfile
from harness.profile.resolve import Bench
from harness.profile.yamlpos import ConfigError
from harness.scope import OutOfScope
from harness.verdict import LabFault


class Outlet:
    """A PDU outlet as a labgrid power back-end module sees it; ``follows=False``: a stuck relay."""

    def __init__(self, *, on: bool = True, follows: bool = True, port: int | None = None) -> None:
        self.on, self.follows = on, follows
        self.calls: list[tuple[Any, ...]] = []
        self.fail: Exception | None = None
        self.hang = threading.Event()  # set: calls block until released (a switch that never answers)
        self.release = threading.Event()
        if port is not None:
            self.PORT = port

    def power_set(self, host: str, port: int | None, index: str, value: bool) -> None:
        self.calls.append(("set", host, port, index, value))
        if self.hang.is_set():
            self.release.wait(5)
        if self.fail is not None:
            raise self.fail
        if self.follows:
            self.on = bool(value)

    def power_get(self, host: str, port: int | None, index: str) -> bool:
        self.calls.append(("get", host, port, index))
        return self.on


@pytest.fixture
def outlet(monkeypatch: pytest.MonkeyPatch) -> Outlet:
    o = Outlet()
    monkeypatch.setattr(LabgridPower, "_backend", lambda self: o)
    return o


FACTS = {"model": "simplerest", "host": "http://127.0.0.1:9/power/{index}/{value}", "index": "2"}


def test_cycle_switches_off_waits_and_on_each_read_back(outlet: Outlet) -> None:
    seen: list[tuple[float, bool]] = []
    LabgridPower.from_facts(FACTS).cycle(3.0, wait=lambda s: seen.append((s, outlet.on)))
    assert seen == [(3.0, False)]  # the declared off time, with the outlet off
    assert [c[0] for c in outlet.calls] == ["set", "get", "set", "get"] and outlet.on is True
    assert outlet.calls[0] == ("set", FACTS["host"], None, "2", False)


def test_an_outlet_that_does_not_follow_is_a_lab_fault(outlet: Outlet) -> None:
    outlet.follows = False
    with pytest.raises(PowerError, match="still on after switching off") as info:
        LabgridPower.from_facts(FACTS).cycle(0.0, wait=lambda s: None)
    assert isinstance(info.value, LabFault)


def test_an_interrupted_off_time_switches_the_unit_back_on(outlet: Outlet) -> None:
    def stopped(seconds: float) -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        LabgridPower.from_facts(FACTS).cycle(5.0, wait=stopped)
    assert outlet.on is True


def test_a_switch_that_never_answers_is_bounded(outlet: Outlet) -> None:
    outlet.hang.set()
    try:
        with pytest.raises(PowerError, match="no answer within 0.2 s"):
            LabgridPower.from_facts(FACTS, timeout=0.2).set(False)
    finally:
        outlet.release.set()


def test_a_back_end_error_keeps_the_password_out(outlet: Outlet) -> None:
    outlet.fail = ConnectionError("GET http://lab:s3cret@pdu/relay/2/0 refused")
    with pytest.raises(PowerError) as info:
        LabgridPower("simplerest", "http://lab:s3cret@pdu/relay/{index}/{value}", "2").set(False)
    assert "s3cret" not in str(info.value) and "refused" in str(info.value)
    assert shown_host("http://lab:s3cret@pdu/relay") == "http://lab:***@pdu/relay"


def test_fixed_port_back_ends_get_the_bare_host_like_labgrid_gives_them(monkeypatch: pytest.MonkeyPatch) -> None:
    gude = Outlet(port=80)
    monkeypatch.setattr(LabgridPower, "_backend", lambda self: gude)
    LabgridPower("gude", "pdu-2.lab", "3").get()
    LabgridPower("gude", "pdu-2.lab:8080", "3").get()
    assert gude.calls == [("get", "pdu-2.lab", 80, "3"), ("get", "pdu-2.lab", 8080, "3")]
    assert power_host("http://10.0.0.9:8000/x/{index}") == "10.0.0.9" and power_host("pdu-2.lab:80") == "pdu-2.lab"


def test_without_labgrid_the_channel_says_what_to_install(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(power_mod, "labgrid_missing", lambda: "a labgrid place needs labgrid: pip install …")
    channel = open_channel("supply", {"role": "supply", "labgrid_power": FACTS}, transcript_dir=tmp_path)
    with pytest.raises(PowerError, match="pip install") as info:
        channel.open()
    assert isinstance(info.value, LabFault)
    channel.close()


def test_open_channel_picks_the_power_port_and_keeps_visa_otherwise(outlet: Outlet, tmp_path: Path) -> None:
    channel = open_channel("supply", {"role": "supply", "labgrid_power": FACTS, "voltage": 5.0}, transcript_dir=tmp_path)
    assert isinstance(channel, PowerPortChannel)
    channel.open()
    try:
        assert channel.state is True
        channel.output(False)
        assert outlet.on is False
        channel.pulse(None, 1.0, lambda s: None)  # a button line: pressed (on), then released (off)
        assert outlet.on is False
        with pytest.raises(PowerError, match="cannot set 12 V"):
            channel.set_voltage(12)
        with pytest.raises(PowerError, match="no current"):
            channel.measure_current()
        evidence = channel.evidence()
        assert evidence["backend"] == "labgrid:simplerest" and evidence["index"] == "2"
        assert "sets no voltage" in evidence["transcript"][0]
    finally:
        channel.close()
    visa = open_channel("supply", {"role": "supply", "resource": "TCPIP::127.0.0.1::5025::SOCKET",
                                   "labgrid_power": None}, transcript_dir=tmp_path)
    assert isinstance(visa, InstrumentChannel)
    visa.close()


# --- through a profile: the supply link's `labgrid_power` and the procedure runner ---------------

def make_device(tmp_path: Path, supply: dict[str, Any], runtime: dict[str, Any], **lab: Any) -> Device:
    profile = {
        "schema_version": 1,
        "product": {"manufacturer": "Lab", "model": "Test"},
        "units": [{"id": "U1", "serial": "S1", "links": {"supply": supply}}],
        "links": {"supply": {"type": "instrument", "role": "supply", "voltage": 5.0}},
        "settle": {"power_off": 2},
        "procedures": {"power_cycle": [{"supply.power_cycle": "power_off"}]},
    }
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    bench = Bench(profile=DeviceProfile.model_validate(profile), profile_path=path,
                  lab=LabConfig(schema_version=1, **lab), lab_path=None, runtime=runtime, secrets={})
    return Device(bench, "U1", transcript_dir=tmp_path / "transcripts", settle_scale=0.0)


PLACED = {"units": {"U1": {"power": {"model": "simplerest", "host": "http://pdu.lab/r/{index}/{value}", "index": "2"}}}}


def test_a_procedure_power_cycles_through_the_place_facts(outlet: Outlet, tmp_path: Path) -> None:
    device = make_device(tmp_path, {"labgrid_power": {"runtime": "units.U1.power"}}, PLACED,
                         networks=["10.1.0.0/24"], hosts={"pdu.lab": "10.1.0.7"})
    try:
        assert device.run("power_cycle").ok
        assert [c[4] for c in outlet.calls if c[0] == "set"] == [False, True]
        assert outlet.calls[0][1] == "http://10.1.0.7/r/{index}/{value}"  # the lab's host map: no lookup
        assert device.instruments_used["supply"]["backend"] == "labgrid:simplerest"
    finally:
        device.close()


def test_a_failing_switch_in_a_procedure_is_a_lab_fault(outlet: Outlet, tmp_path: Path) -> None:
    device = make_device(tmp_path, {"labgrid_power": {"runtime": "units.U1.power"}}, PLACED,
                         networks=["10.1.0.0/24"], hosts={"pdu.lab": "10.1.0.7"})
    try:
        device.link("supply")
        outlet.fail = OSError("No route to host")
        with pytest.raises(LabFault, match="No route to host"):
            device.run("power_cycle")
    finally:
        device.close()


def test_a_power_port_outside_the_lab_networks_is_refused_before_any_switch(outlet: Outlet, tmp_path: Path) -> None:
    device = make_device(tmp_path, {"labgrid_power": {"runtime": "units.U1.power"}}, PLACED, networks=["10.9.0.0/24"])
    try:
        with pytest.raises(OutOfScope):
            device.link("supply")
        assert outlet.calls == []
    finally:
        device.close()


def test_a_power_port_is_a_mapping(outlet: Outlet, tmp_path: Path) -> None:
    device = make_device(tmp_path, {"labgrid_power": {"runtime": "units.U1.power"}},
                         {"units": {"U1": {"power": "pdu-2.lab:3"}}})
    try:
        with pytest.raises(ConfigError, match=r"\{model, host, index\}"):
            device.link("supply")
    finally:
        device.close()
