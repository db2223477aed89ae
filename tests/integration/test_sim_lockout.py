"""Login lockout with growing periods, one per unit, shared by console, telnet, SSH and the HTTPS
API; `no_lockout` takes it away; at time scale 0 it is announced (429, "locked for 0 s") but no
attempt is ever left unevaluated."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import asyncssh
import pytest
from test_sim_network import Telnet, api, ssh, unit_address
from test_sim_support import LOGIN_PROMPT, PROMPT, SimProcess

pytestmark = pytest.mark.integration
SCALE = 0.02  # first lock 30 s -> 0.6 s (shown "1 s"), second 60 s -> 1.2 s ("2 s")
REFUSED = f"\r\nLogin incorrect\r\n{LOGIN_PROMPT}"


def locks(n: int) -> str:
    return f"\r\nLogin incorrect\r\nlogin: too many failed attempts, locked for {n} s\r\n{LOGIN_PROMPT}"


def ssh_login(address: str, password: str) -> bool:
    async def go() -> None:
        async with ssh(address, "admin", password):
            pass
    try:
        asyncio.run(go())
    except asyncssh.PermissionDenied:
        return False
    return True


def test_lockout_grows_and_covers_every_login(tmp_path: Path) -> None:
    with SimProcess(tmp_path, units=2, time_scale=SCALE, defects=("telnet_enabled",)) as sim, \
            sim.console("U1") as con:
        con.attention()
        label, address = sim.label("U1"), unit_address(sim)
        for _ in range(4):
            assert con.login("wrong") == REFUSED
        assert con.login("wrong") == locks(1)  # the 5th failure: evaluated, refused, and the lock announced
        # During the lock nothing is evaluated, not even the right password, on any surface.
        assert con.login(label) == f"\r\nlogin: account locked for 1 s\r\n{LOGIN_PROMPT}"
        status, headers, body = api(sim, "POST", "/api/login", {"user": "admin", "password": label})
        assert status == 429 and headers["retry-after"] == "1" and body["retry_after"] == 1
        assert not ssh_login(address, label)
        t = Telnet(address)
        try:
            t.expect(LOGIN_PROMPT.encode())
            t.send("admin")
            t.expect(b"Password: ")
            t.send(label)
            assert b"account locked for 1 s" in t.expect(LOGIN_PROMPT.encode())
        finally:
            t.close()
        # Other units are not locked.
        assert api(sim, "POST", "/api/login", {"user": "admin", "password": sim.label("U2")}, uid="U2")[0] == 200
        assert con.quiet_for(0.7) == ""  # the lock runs out silently
        assert con.login("wrong") == locks(2)  # one more failure locks again, for twice as long
        assert con.login(label).startswith("\r\nlogin: account locked for ")
        con.quiet_for(1.3)
        assert con.login(label).endswith(PROMPT)  # success ends the lock and resets the count
        con.send("exit")
        con.expect(LOGIN_PROMPT)
        assert con.login("wrong") == REFUSED


def test_api_announces_the_lock_then_answers_429(tmp_path: Path) -> None:
    with SimProcess(tmp_path, units=1, time_scale=SCALE) as sim:
        wrong = {"user": "admin", "password": "wrong"}
        for _ in range(4):
            status, headers, body = api(sim, "POST", "/api/login", wrong)
            assert status == 401 and "retry-after" not in headers and "locked_for" not in body
        status, headers, body = api(sim, "POST", "/api/login", wrong)  # the 5th failure starts the lock
        assert status == 429 and headers["retry-after"] == "1" and body == {"error": "too many failed logins",
                                                                           "retry_after": 1}
        status, headers, _ = api(sim, "POST", "/api/login", {"user": "admin", "password": sim.label("U1")})
        assert status == 429 and headers["retry-after"] == "1"  # during it, not even the right password
        with sim.console("U1") as con:
            con.attention()
            assert "account locked" in con.login(sim.label("U1"))


def test_no_lockout(tmp_path: Path) -> None:
    with SimProcess(tmp_path, units=1, time_scale=SCALE, defects=("no_lockout",)) as sim, sim.console("U1") as con:
        con.attention()
        for _ in range(8):
            assert con.login("wrong") == REFUSED
        for _ in range(8):
            status, headers, _ = api(sim, "POST", "/api/login", {"user": "admin", "password": "wrong"})
            assert status == 401 and "retry-after" not in headers
        assert ssh_login(unit_address(sim), sim.label("U1"))
        assert con.login(sim.label("U1")).endswith(PROMPT)


def test_time_scale_zero_announces_locks_that_never_bite(tmp_path: Path) -> None:
    """What the defect matrix relies on: every refusal is an evaluated one, the lock is visible."""
    with SimProcess(tmp_path, units=1) as sim, sim.console("U1") as con:
        con.attention()
        for _ in range(4):
            assert con.login("wrong") == REFUSED
        for _ in range(3):
            assert con.login("wrong") == locks(0)
        for _ in range(2):  # each further failure locks again, for 0 s: a 429 a client can see
            status, headers, body = api(sim, "POST", "/api/login", {"user": "admin", "password": "wrong"})
            assert status == 429 and headers["retry-after"] == "0" and body["retry_after"] == 0
        assert con.login(sim.label("U1")).endswith(PROMPT)  # and nothing stays locked
        assert api(sim, "POST", "/api/login", {"user": "admin", "password": "wrong"})[0] == 401  # count reset
        assert not re.search("account locked", con.raw)


# --- the harness's attack against a silent lockout (the camera: pam_faillock on SSH and telnet) ----------

def _camera(tmp_path: Path, *defects: str):  # type: ignore[no-untyped-def]
    from harness.simctl import SimulatorProcess
    return SimulatorProcess("camera", tmp_path / "sim", defects={d: None for d in defects}, time_scale=SCALE,
                            units=1).start()


def _device(sim, tmp_path: Path):  # type: ignore[no-untyped-def]
    from harness.device import Device
    from harness.profile.resolve import open_bench
    bench = open_bench(Path(__file__).resolve().parents[2] / "device_profiles" / "sim-camera.yaml", sim.lab_path)
    return Device(bench, "U1", transcript_dir=tmp_path / "t")


def test_silent_ssh_lockout_is_found_measured_and_waited_out(tmp_path: Path) -> None:
    """5.1-5-2 on SSH: only "Permission denied", the right password too, during the lock; the
    known-good login after the run shows it, the unlock is measured, and the unit is left usable.
    Then the dictionary attack over SSH is not fooled by the lock: every credential is judged."""
    from harness.attacks import brute_force_settings, run_dictionary
    from harness.cases.bruteforce import attack_interface
    from harness.checks.passwords import Credential, judge_dictionary_attack
    sim = _camera(tmp_path)
    device = _device(sim, tmp_path)
    try:
        settings = brute_force_settings(device.profile)
        label = device.label_password("admin")
        result = attack_interface(device, "ssh", "login_ssh", "admin", label, 12, settings)
        assert result.verdict == "PASS" and "locked silently" in result.reason, result.reason
        assert device.try_login("admin", label, procedure="login_ssh").outcome == "ok"  # left usable
        creds = [Credential("admin", f"guess-{i}") for i in range(9)]
        report = run_dictionary(device, creds, known_good=("admin", label), procedure="login_ssh",
                                interface="ssh", settings=settings)
        assert judge_dictionary_attack(report.attempts, report.planned, "ssh").verdict == "PASS"
        assert not report.locks  # a known-good login every 2 refusals: deny=5 never trips
    finally:
        device.close()
        sim.stop()


def test_no_ssh_lockout_fails(tmp_path: Path) -> None:
    from harness.attacks import brute_force_settings
    from harness.cases.bruteforce import attack_interface
    sim = _camera(tmp_path, "no_ssh_lockout")
    device = _device(sim, tmp_path)
    try:
        result = attack_interface(device, "ssh", "login_ssh", "admin", device.label_password("admin"), 12,
                                  brute_force_settings(device.profile))
        assert result.verdict == "FAIL" and "right password logged in right after" in result.reason, result.reason
    finally:
        device.close()
        sim.stop()
