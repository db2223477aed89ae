"""The plug's command interpreter and settings: one set of Tasmota-style commands shared by the web
endpoint (/cm?cmnd=…), the serial console and the cloud's MQTT cmnd topics. Pure apart from the
flash file; thread-safe (web requests arrive on threads of their own)."""

from __future__ import annotations

import json
import re
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from harness.sim import runtime
from harness.sim.catalog import UnitIdentity
from harness.sim.passwords import label_password
from harness.sim.plug import busybox
from harness.sim.plug.catalog import (
    BUILD,
    CLOUD_NAME,
    CLOUD_PLAIN_PORT,
    CLOUD_TLS_PORT,
    DEFAULT_DEVICE_NAME,
    DEFAULT_NTP,
    FIRMWARE,
    HARDWARE,
    MODEL,
    Behaviour,
    topic,
)

FORMAT = 1
UNIVERSAL_PASSWORD = "admin"
HOST_NAME = re.compile(r"[A-Za-z0-9.-]{1,64}")  # a host name or IPv4 address, as the manual says
MAX_NAME = 32
PASSWORD_LENGTH = (8, 32)

# What a command asks the unit to do after it answered.
RESTART, FACTORY_RESET = "restart", "factory_reset"


@dataclass
class Settings:
    password: str
    device_name: str = DEFAULT_DEVICE_NAME
    ntp_server1: str = DEFAULT_NTP
    ssid: str = ""
    wifi_key: str = ""
    power: bool = False


@dataclass
class Answer:
    body: dict[str, Any]
    action: str | None = None  # RESTART or FACTORY_RESET, done by the unit after answering

    @property
    def text(self) -> str:
        return json.dumps(self.body, separators=(",", ":"))


class Firmware:
    def __init__(self, ident: UnitIdentity, behaviour: Behaviour, flash: Path, address: str,
                 taken_labels: list[str]) -> None:
        self.ident = ident
        self.behaviour = behaviour
        self.flash = flash
        self.address = address
        self.topic = topic(ident)
        self._lock = threading.RLock()
        self.label = self._load_label(taken_labels)
        stored = self._load_settings()
        self.settings = stored if stored is not None else Settings(password=self.label)
        self._save()

    # -- flash ----------------------------------------------------------------------------------
    def _read(self) -> dict[str, Any] | None:
        try:
            raw = json.loads(self.flash.read_text())
        except (OSError, ValueError):
            return None
        ok = isinstance(raw, dict) and raw.get("format") == FORMAT and raw.get("serial") == self.ident.serial
        return raw if ok else None

    def _load_label(self, taken: list[str]) -> str:
        if self.behaviour.universal_password:
            return UNIVERSAL_PASSWORD
        raw = self._read()
        if raw is not None and isinstance(raw.get("label"), str) and raw["label"] != UNIVERSAL_PASSWORD:
            return str(raw["label"])  # the label printed at manufacture stays with the unit
        return label_password("random", self.ident, taken)

    def _load_settings(self) -> Settings | None:
        raw = self._read()
        if raw is None or raw.get("label") != self.label:
            return None  # blank, or made with another label: start from the factory settings
        try:
            return Settings(**raw["settings"])
        except (KeyError, TypeError):
            return None

    def _save(self) -> None:
        data = {"format": FORMAT, "serial": self.ident.serial, "label": self.label, "settings": asdict(self.settings)}
        self.flash.parent.mkdir(parents=True, exist_ok=True)
        runtime.write_json(self.flash, data, mode=0o600)  # it holds passwords

    # -- authentication -------------------------------------------------------------------------
    def password_ok(self, password: str) -> bool:
        with self._lock:
            return password == self.settings.password

    @property
    def mqtt_user(self) -> str:
        return f"vq-{self.ident.serial.lower()}"

    # -- lifecycle ------------------------------------------------------------------------------
    def factory_reset(self) -> None:
        with self._lock:
            old = self.settings
            new = Settings(password=self.label)
            if not self.behaviour.reset_wipes_settings:
                new.ssid, new.wifi_key, new.device_name = old.ssid, old.wifi_key, old.device_name
            self.settings = new
            self._save()

    def power_lost(self) -> None:
        with self._lock:
            self.settings.power = False  # the relay falls off without power

    def telemetry(self) -> dict[str, Any]:
        with self._lock:
            return {"POWER": "ON" if self.settings.power else "OFF", "DeviceName": self.settings.device_name,
                    "Wifi": {"SSId": self.settings.ssid}}

    # -- commands -------------------------------------------------------------------------------
    def execute(self, line: str) -> Answer:
        command, _, arg = line.strip().partition(" ")
        arg = arg.strip()
        handler = _COMMANDS.get(command.lower())
        if handler is None:
            return Answer({"Command": "Unknown"})
        with self._lock:
            return handler(self, arg)

    def _status(self, arg: str) -> Answer:
        s = self.settings
        blocks: dict[str, dict[str, Any]] = {
            "Status": {"Module": "Voltiq P1", "DeviceName": s.device_name, "Topic": self.topic,
                       "Power": int(s.power)},
            "StatusPRM": {"Serial": self.ident.serial, "Model": MODEL},
            "StatusFWR": {"Version": FIRMWARE, "BuildDateTime": BUILD, "Hardware": HARDWARE},
            "StatusNET": {"Hostname": f"{self.topic}", "IPAddress": self.address, "Mac": self.ident.mac,
                          "SSId": s.ssid},
            "StatusMQT": {"MqttHost": CLOUD_NAME,
                          "MqttPort": CLOUD_TLS_PORT if self.behaviour.mqtt_tls else CLOUD_PLAIN_PORT,
                          "MqttClient": self.topic, "MqttUser": self.mqtt_user, "MqttTLS": int(self.behaviour.mqtt_tls)},
            "StatusTIM": {"NtpServer1": s.ntp_server1},
        }
        pick = {"": ["Status"], "0": list(blocks), "1": ["StatusPRM"], "2": ["StatusFWR"], "5": ["StatusNET"],
                "6": ["StatusMQT"], "7": ["StatusTIM"]}.get(arg)
        if pick is None:
            return Answer({"Status": "Error", "Reason": "Status 0, 1, 2, 5, 6 or 7"})
        return Answer({name: blocks[name] for name in pick})

    def _power(self, arg: str) -> Answer:
        word = arg.lower()
        if word in ("on", "1"):
            self.settings.power = True
        elif word in ("off", "0"):
            self.settings.power = False
        elif word in ("toggle", "2"):
            self.settings.power = not self.settings.power
        elif word:
            return Answer({"POWER": "Error", "Reason": "On, Off or Toggle"})
        self._save()
        return Answer({"POWER": "ON" if self.settings.power else "OFF"})

    def _device_name(self, arg: str) -> Answer:
        if arg:
            if len(arg) > MAX_NAME or not arg.isprintable():
                return Answer({"DeviceName": "Rejected", "Reason": f"at most {MAX_NAME} printable characters"})
            self.settings.device_name = arg
            self._save()
        return Answer({"DeviceName": self.settings.device_name})

    def _ntp_server(self, arg: str) -> Answer:
        if arg:
            if self.behaviour.setting_shell:
                self.settings.ntp_server1 = busybox.ntp_setting(arg)[:256]
            elif not HOST_NAME.fullmatch(arg):
                return Answer({"NtpServer1": "Rejected", "Reason": "not a host name or address"})
            else:
                self.settings.ntp_server1 = arg
            self._save()
        return Answer({"NtpServer1": self.settings.ntp_server1})

    def _ssid(self, arg: str) -> Answer:
        if arg:
            if len(arg) > MAX_NAME or not arg.isprintable():
                return Answer({"SSId1": "Rejected", "Reason": f"at most {MAX_NAME} printable characters"})
            self.settings.ssid = arg
            self._save()
        return Answer({"SSId1": self.settings.ssid})

    def _wifi_key(self, arg: str) -> Answer:
        if arg:
            if not 8 <= len(arg) <= 63 or not arg.isprintable():
                return Answer({"WifiKey1": "Rejected", "Reason": "8 to 63 printable characters"})
            self.settings.wifi_key = arg
            self._save()
        return Answer({"WifiKey1": "****" if self.settings.wifi_key else ""})

    def _password(self, arg: str) -> Answer:
        if not arg:
            return Answer({"Password": "****"})
        low, high = PASSWORD_LENGTH
        if not low <= len(arg) <= high or " " in arg or not arg.isprintable():
            return Answer({"Password": "Rejected", "Reason": f"{low} to {high} characters, no spaces"})
        self.settings.password = arg
        self._save()
        return Answer({"Password": "Changed"})

    def _mqtt_fixed(self, arg: str) -> Answer:
        body: dict[str, Any] = {"MqttHost": CLOUD_NAME}
        if arg:
            body["Reason"] = "fixed in firmware"
        return Answer(body)

    def _reset(self, arg: str) -> Answer:
        if arg != "1":
            return Answer({"Reset": "Reset 1 restores the factory settings"})
        return Answer({"Reset": "Reset and Restarting"}, FACTORY_RESET)

    def _restart(self, arg: str) -> Answer:
        if arg != "1":
            return Answer({"Restart": "Restart 1 restarts the plug"})
        return Answer({"Restart": "Restarting"}, RESTART)


_COMMANDS = {
    "status": Firmware._status,
    "power": Firmware._power,
    "power1": Firmware._power,
    "devicename": Firmware._device_name,
    "ntpserver1": Firmware._ntp_server,
    "ssid1": Firmware._ssid,
    "wifikey1": Firmware._wifi_key,
    "password": Firmware._password,
    "mqtthost": Firmware._mqtt_fixed,
    "reset": Firmware._reset,
    "restart": Firmware._restart,
}
