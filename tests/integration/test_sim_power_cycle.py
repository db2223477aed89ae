"""Simulator v3, power: each unit's SCPI supply served on a real TCP socket (lab side, 127.0.0.1),
driven with pyvisa-py exactly as the harness's instrument link does. Output off really takes the
unit down (console silent, ports closed, RAM gone), output on boots it; the reset button on relay
channel 1; configuration across a power cut, both ways."""

from __future__ import annotations

import re
import socket
import statistics
import time
from pathlib import Path

import pytest
from test_sim_network import api
from test_sim_support import LOGIN_PROMPT, PROMPT, Console, SimProcess, supply

pytestmark = pytest.mark.integration
COAP_PING = bytes([0x40, 0x00, 0x12, 0x34])  # empty CON: a live CoAP server answers RST


def tcp_open(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=2).close()
        return True
    except ConnectionRefusedError:
        return False


def udp_answer(address: str, port: int, data: bytes = COAP_PING) -> bytes | None:
    """The reply, None for "port unreachable" (closed); silence is an error here (open but mute)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(2)
        s.connect((address, port))
        s.send(data)
        try:
            return s.recv(512)
        except ConnectionRefusedError:
            return None


def logged_in(sim: SimProcess, uid: str = "U1") -> Console:
    con = sim.console(uid)
    con.attention()
    assert con.login(sim.label(uid)).endswith(PROMPT)
    return con


def test_supply_off_silences_the_unit_and_on_boots_it(tmp_path: Path) -> None:
    with SimProcess(tmp_path, units=2) as sim, logged_in(sim) as con, supply(sim) as psu:
        u1, u2 = sim.runtime["units"]["U1"], sim.runtime["units"]["U2"]
        address = u1["address"]
        assert u1["supply"].startswith("TCPIP::127.0.0.1::") and u1["supply"] != u2["supply"]
        assert psu.query("*IDN?") == "SimIoT Lab,PSU-1,PSU-U1,1.0"
        con.run("wifi set Kept pskpsk")
        token = api(sim, "POST", "/api/login", {"user": "admin", "password": sim.label("U1")})[2]["token"]
        assert api(sim, "GET", "/api/config", token=token)[0] == 200
        assert udp_answer(address, 5683) == bytes([0x70, 0x00, 0x12, 0x34])  # RST to the ping
        assert psu.current() > 0.1

        psu.output(False)
        assert psu.current() == 0.0
        con.send("version")
        con.send("")
        assert con.quiet_for(0.4) == ""  # no echo, no prompt: nothing at all
        for port in (8443, 2222):
            assert not tcp_open(address, port)
        assert udp_answer(address, 5683) is None  # CoAP closed too
        assert udp_answer(address, 5682) is None  # the address claim looks closed
        supply_port = int(u1["supply"].split("::")[2])
        assert not tcp_open(address, supply_port)  # the bench is not on the unit's address
        assert tcp_open(u2["address"], 8443)  # the other unit has its own supply

        psu.output(True)
        seen = con.expect(LOGIN_PROMPT)
        assert "SimIoT bootloader v2.1" in seen and "SimIoT Hub H1 firmware 1.4.2 (serial SIM-C-0001)" in seen
        assert "factory-reset" not in seen and "Rebooting" not in seen
        assert con.login(sim.label("U1")).endswith(PROMPT)
        assert "ssid=Kept" in con.run("wifi show")  # flash kept
        assert tcp_open(address, 8443) and udp_answer(address, 5683) is not None
        assert api(sim, "GET", "/api/config", token=token)[0] == 401  # the session was RAM
        assert psu.current() > 0.1


def test_power_cut_clears_ram_hang_and_lockout(tmp_path: Path) -> None:
    # Scale 0.05: a lock lasts 1.5 s; the hang after 2 login attempts would last until the simulator ends.
    with SimProcess(tmp_path, units=1, time_scale=0.05, defects=("console_hangs_after_logins=2",)) as sim, \
            sim.console("U1") as con, supply(sim) as psu:
        con.expect(LOGIN_PROMPT)
        for _ in range(2):
            assert "Login incorrect" in con.login("wrong")
        con.send("")
        assert con.quiet_for(0.3) == ""  # hung
        for _ in range(5):
            status, headers, _ = api(sim, "POST", "/api/login", {"user": "admin", "password": "wrong"})
        assert status == 429 and headers["retry-after"] == "2"  # locked now
        psu.output(False)
        psu.output(True)
        con.expect(LOGIN_PROMPT)
        assert con.login(sim.label("U1")).endswith(PROMPT)  # the hang was RAM
        assert api(sim, "POST", "/api/login", {"user": "admin", "password": sim.label("U1")})[0] == 200  # so was the lock


def test_reset_button_hold_factory_resets_a_short_press_does_nothing(tmp_path: Path) -> None:
    # Scale 0.02: the button must be held 0.1 s.
    with SimProcess(tmp_path, units=1, time_scale=0.02) as sim, sim.console("U1") as con, supply(sim) as psu:
        con.expect(LOGIN_PROMPT)
        assert con.login(sim.label("U1")).endswith(PROMPT)
        con.run("wifi set Home pskpsk")
        psu.hold_button(0.01)
        assert con.quiet_for(0.3) == ""
        assert "ssid=Home" in con.run("wifi show")
        psu.output(False)
        psu.hold_button(0.3)  # without power the button does nothing
        psu.output(True)
        con.expect(LOGIN_PROMPT)
        assert con.login(sim.label("U1")).endswith(PROMPT)
        assert "ssid=Home" in con.run("wifi show")
        psu.hold_button(0.3)
        seen = con.expect(LOGIN_PROMPT)
        assert seen.startswith("factory-reset: erasing user data\r\nRebooting...\r\nSimIoT bootloader")
        assert con.login(sim.label("U1")).endswith(PROMPT)
        assert "ssid=\r\npsk=unset" in con.run("wifi show")


@pytest.mark.parametrize("persona, defects, loses", [
    ("compliant", (), False),
    ("compliant", ("loses_config_on_power_loss",), True),
    ("legacy", (), True),
])
def test_configuration_across_a_power_cut(tmp_path: Path, persona: str, defects: tuple[str, ...], loses: bool) -> None:
    with SimProcess(tmp_path, persona=persona, units=1, defects=defects) as sim, logged_in(sim) as con, \
            supply(sim) as psu:
        con.run("wifi set Home pskpsk")
        con.run("mqtt connect mqtts://localhost:9")  # nothing listens there: only the setting matters
        con.send("reboot")  # a clean reboot keeps everything, whatever the defect
        con.expect(LOGIN_PROMPT)
        assert con.login(sim.label("U1")).endswith(PROMPT)
        assert "ssid=Home" in con.run("wifi show")
        assert "mqtts://localhost:9" in con.run("mqtt status")
        psu.output(False)
        psu.output(True)
        con.expect(LOGIN_PROMPT)
        assert con.login(sim.label("U1")).endswith(PROMPT)  # the password is never lost
        wifi, mqtt = con.run("wifi show"), con.run("mqtt status")
        if loses:
            assert "ssid=\r\npsk=unset" in wifi and "mqtt: not configured" in mqtt
        else:
            assert "ssid=Home\r\npsk=set" in wifi and "mqtts://localhost:9" in mqtt


def test_an_unpowered_unit_keeps_its_address(tmp_path: Path) -> None:
    with SimProcess(tmp_path / "a", units=1) as first, supply(first) as psu:
        address = first.runtime["units"]["U1"]["address"]
        psu.output(False)
        with SimProcess(tmp_path / "b", units=1) as second:
            assert second.runtime["units"]["U1"]["address"] != address
            psu.output(True)
            with logged_in(first) as con:
                assert re.search(r"firmware 1\.4\.2", con.run("version"))
            assert tcp_open(address, 8443)


def test_start_time_with_supplies_and_packages(tmp_path: Path) -> None:
    times = []
    for i in range(5):
        started = time.monotonic()
        with SimProcess(tmp_path / str(i), units=3) as sim:
            times.append(sim.ready_at - started)
            assert set(sim.runtime["firmware"]) == {"valid", "older", "delivered", "signing_key", "public_key"}
    # ~0.3 s on an idle machine; the bound leaves room for a busy shared one.
    assert statistics.median(times) < 2.0, times
