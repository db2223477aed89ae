"""The plug's command interpreter and settings (harness.sim.plug.firmware): pure, on a flash file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.sim.plug import catalog
from harness.sim.plug.catalog import Behaviour, CatalogError, behaviour_for
from harness.sim.plug.firmware import FACTORY_RESET, RESTART, Firmware


def make(tmp_path: Path, behaviour: Behaviour | None = None, index: int = 1, taken: list[str] | None = None) -> Firmware:
    return Firmware(catalog.identity(index), behaviour or Behaviour(), tmp_path / f"U{index}.json",
                    catalog.unit_address(0, index), taken or [])


def test_label_password_is_random_per_unit_and_kept_in_flash(tmp_path: Path) -> None:
    one = make(tmp_path)
    two = make(tmp_path, index=2, taken=[one.label])
    assert one.label != two.label and len(one.label) == 12
    assert make(tmp_path).label == one.label  # the same unit after a restart of the simulator
    assert json.loads((tmp_path / "U1.json").read_text())["settings"]["password"] == one.label
    assert (tmp_path / "U1.json").stat().st_mode & 0o777 == 0o600


def test_default_password_defect_gives_every_unit_admin(tmp_path: Path) -> None:
    behaviour = behaviour_for(["default_password"])
    assert make(tmp_path, behaviour).label == "admin" == make(tmp_path, behaviour, index=2).label


def test_commands_answer_json_and_unknown_is_unknown(tmp_path: Path) -> None:
    fw = make(tmp_path)
    assert fw.execute("Power On").body == {"POWER": "ON"}
    assert fw.execute("power toggle").body == {"POWER": "OFF"}
    assert fw.execute("Frobnicate 1").body == {"Command": "Unknown"}
    status = fw.execute("Status 0").body
    assert status["StatusFWR"]["Version"] == catalog.FIRMWARE
    assert status["StatusNET"]["Mac"] == catalog.identity(1).mac
    assert status["StatusMQT"]["MqttPort"] == catalog.CLOUD_TLS_PORT
    assert fw.execute("MqttHost 10.0.0.1").body == {"MqttHost": catalog.CLOUD_NAME, "Reason": "fixed in firmware"}


def test_password_change_is_checked_and_applies(tmp_path: Path) -> None:
    fw = make(tmp_path)
    assert fw.execute("Password short").body["Password"] == "Rejected"
    assert fw.password_ok(fw.label)
    assert fw.execute("Password Long-enough-1").body == {"Password": "Changed"}
    assert fw.password_ok("Long-enough-1") and not fw.password_ok(fw.label)


@pytest.mark.parametrize("value", ["$(id)", "`id`", "x;id", "x|id", "x&&id", "x\nid", "a b", "x" * 65])
def test_baseline_refuses_a_time_server_that_is_no_host_name(tmp_path: Path, value: str) -> None:
    fw = make(tmp_path)
    answer = fw.execute(f"NtpServer1 {value}").body
    assert answer["NtpServer1"] == "Rejected"
    assert fw.execute("NtpServer1").body == {"NtpServer1": catalog.DEFAULT_NTP}


def test_setting_injection_stores_the_output_of_the_injected_command(tmp_path: Path) -> None:
    fw = make(tmp_path, behaviour_for(["setting_injection"]))
    assert "uid=0(root)" in fw.execute("NtpServer1 $(id)").body["NtpServer1"]
    assert fw.execute("NtpServer1 x;echo HX$((20000+22))").body == {"NtpServer1": "x HX20022"}
    assert "HX20022" in fw.execute("Status 7").body["StatusTIM"]["NtpServer1"]


def test_reset_restores_factory_settings_and_asks_for_a_restart(tmp_path: Path) -> None:
    fw = make(tmp_path)
    for command in ("SSId1 home", "WifiKey1 secret-key-1", "DeviceName Kitchen", "Password Long-enough-1"):
        fw.execute(command)
    assert fw.execute("Reset 1").action == FACTORY_RESET
    assert fw.execute("Restart 1").action == RESTART
    assert fw.execute("Reset").action is None
    fw.factory_reset()
    s = fw.settings
    assert (s.ssid, s.wifi_key, s.device_name, s.password) == ("", "", catalog.DEFAULT_DEVICE_NAME, fw.label)


def test_reset_keeps_settings_defect_keeps_wifi_and_name_not_the_password(tmp_path: Path) -> None:
    fw = make(tmp_path, behaviour_for(["reset_keeps_settings"]))
    for command in ("SSId1 home", "WifiKey1 secret-key-1", "DeviceName Kitchen", "Password Long-enough-1"):
        fw.execute(command)
    fw.factory_reset()
    s = fw.settings
    assert (s.ssid, s.wifi_key, s.device_name, s.password) == ("home", "secret-key-1", "Kitchen", fw.label)


def test_wifi_key_is_never_shown(tmp_path: Path) -> None:
    fw = make(tmp_path)
    assert fw.execute("WifiKey1 secret-key-1").body == {"WifiKey1": "****"}
    assert "secret-key-1" not in json.dumps(fw.execute("Status 0").body)
    assert "secret-key-1" not in json.dumps(fw.telemetry())


def test_unknown_defect_is_refused() -> None:
    with pytest.raises(CatalogError):
        behaviour_for(["no_such_defect"])
    assert behaviour_for([]) == Behaviour()
