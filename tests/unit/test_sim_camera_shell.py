"""The camera's BusyBox dialogue without any I/O: login on each surface with the faillock, camcfg
validation, passwd for admin and for the read-only service account (harness.sim.camera)."""

from __future__ import annotations

import asyncio
from collections import deque
from pathlib import Path

from harness.sim.camera import model
from harness.sim.camera.model import Defects
from harness.sim.camera.shell import Shell
from harness.sim.camera.unit import CameraUnit
from harness.sim.timing import Delays
from harness.sim.unit import LoginResult


class FakeTerminal:
    def __init__(self, *lines: str) -> None:
        self.lines = deque(lines)
        self.out = ""

    async def read_line(self, echo: bool = True) -> str:
        if not self.lines:
            raise EOFError
        return self.lines.popleft()

    def emit(self, text: str) -> None:
        self.out += text


def _unit(tmp: Path, defects: Defects | None = None) -> CameraUnit:
    return CameraUnit(model.identity(1), defects or Defects(), tmp / "flash.json", Delays(scale=0.0))


def test_ssh_lock_refuses_the_right_password_but_the_console_is_exempt(tmp_path: Path) -> None:
    async def scenario() -> None:
        unit = _unit(tmp_path)
        unit.faillock["admin"] = model.Faillock(unlock=60.0)
        for _ in range(5):
            assert (await unit.login_on("ssh", "admin", "wrong")).result is LoginResult.REFUSED
        assert not (await unit.login_on("ssh", "admin", unit.label)).ok
        assert not (await unit.login_on("telnet", "admin", unit.label)).ok  # the same tally
        assert (await unit.login_on("console", "admin", unit.label)).ok
    asyncio.run(scenario())


def test_no_ssh_lockout_leaves_ssh_out_of_the_tally(tmp_path: Path) -> None:
    async def scenario() -> None:
        unit = _unit(tmp_path, Defects(no_ssh_lockout=True))
        unit.faillock["admin"] = model.Faillock(unlock=60.0)
        for _ in range(8):
            assert not (await unit.login_on("ssh", "admin", "wrong")).ok
        assert (await unit.login_on("ssh", "admin", unit.label)).ok
    asyncio.run(scenario())


def test_camcfg_keeps_only_valid_values(tmp_path: Path) -> None:
    async def scenario() -> str:
        unit = _unit(tmp_path)
        term = FakeTerminal("camcfg set ntp_server '$(id)'", "camcfg set ntp_server time.example.org",
                            "camcfg get ntp_server", "camcfg set nope 1", "exit")
        await Shell(unit, term, "admin", None).run()
        return term.out
    out = asyncio.run(scenario())
    assert "camcfg: invalid value for ntp_server" in out
    assert "ntp_server=time.example.org" in out
    assert "camcfg: unknown key nope" in out
    assert "uid=" not in out


def test_passwd_changes_admin_and_refuses_the_service_account(tmp_path: Path) -> None:
    async def scenario() -> tuple[str, str, CameraUnit]:
        unit = _unit(tmp_path, Defects(service_account=True))
        admin = FakeTerminal("passwd", unit.label, "n3w-pass", "n3w-pass", "exit")
        await Shell(unit, admin, "admin", None).run()
        support = FakeTerminal("passwd", "support", "other", "other", "exit")
        await Shell(unit, support, "support", None).run()
        return admin.out, support.out, unit
    admin_out, support_out, unit = asyncio.run(scenario())
    assert "passwd: password for admin changed by admin" in admin_out
    assert unit.password_matches("admin", "n3w-pass")
    assert "Read-only file system" in support_out
    assert unit.password_matches("support", "support")


def test_factory_reset_restores_the_label_and_keeps_the_cloud_account(tmp_path: Path) -> None:
    unit = _unit(tmp_path)
    cloud = unit.cloud_password
    unit.state.password = "changed"
    assert unit.set_setting("wifi_ssid", "home") is None
    unit._erase()
    assert unit.password_matches("admin", unit.label)
    assert unit.settings()["wifi_ssid"] == ""
    assert unit.cloud_password == cloud
    again = _unit(tmp_path)  # the flash survives a restart
    assert again.label == unit.label and again.cloud_password == cloud
