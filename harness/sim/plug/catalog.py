"""The plug's product facts, unit identities, addresses and defect switches, as data."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from harness.sim.catalog import UnitIdentity

MANUFACTURER = "Voltiq Home GmbH"
MODEL = "Voltiq P1"
HARDWARE = "PCB v2.3 (ESP8266EX)"
FIRMWARE = "9.4.1-vq"
BUILD = "2024-03-18T09:12:44"
ADMIN_USER = "admin"
DEFAULT_DEVICE_NAME = "Voltiq P1"
DEFAULT_NTP = "pool.ntp.org"
CLOUD_NAME = "mqtt.cloud.voltiq.example"  # what the firmware calls its broker; it resolves to CLOUD address
MAX_UNITS = 8
HTTP_PORT = 8080  # the web server (port 80 on the product; a high port lets the simulator run unprivileged)
CLOUD_TLS_PORT = 8883
CLOUD_PLAIN_PORT = 1883
MAX_BLOCKS = 16


def unit_address(block: int, index: int) -> str:
    """Unit n of a simulator in address block b: 127.92.b.n (the hub uses 127.77.x.x)."""
    return f"127.92.{block}.{index}"


def cloud_address(block: int) -> str:
    """The vendor cloud broker of block b: 127.92.255.(b+1); block 0 gives the documented 127.92.255.1."""
    return f"127.92.255.{block + 1}"


def identity(index: int) -> UnitIdentity:
    return UnitIdentity(uid=f"U{index}", index=index, serial=f"VQP1-2431-{index:05d}",
                        mac=f"0A:56:51:10:2E:{0x40 + index:02X}")


def topic(ident: UnitIdentity) -> str:
    """The MQTT topic, Tasmota style: the model and the last three bytes of the MAC."""
    return "voltiq_" + ident.mac.replace(":", "")[-6:].lower()


@dataclass(frozen=True)
class Behaviour:
    """Everything a defect can change, one field per observable behaviour."""

    mqtt_tls: bool = True  # False: plaintext listener 1883, user name and password in CONNECT
    setting_shell: bool = False  # NtpServer1 goes unvalidated through a shell (command substitution runs)
    reset_wipes_settings: bool = True  # False: Reset 1 keeps Wi-Fi SSID/key and the device name
    web_auth: bool = True  # False: /cm answers without credentials
    universal_password: bool = False  # every unit's password is "admin"


@dataclass(frozen=True)
class Defect:
    summary: str
    field: str
    value: object


DEFECTS: dict[str, Defect] = {
    "mqtt_plaintext_creds": Defect("MQTT to the cloud broker's plaintext port 1883, user name and password "
                                   "in CONNECT", "mqtt_tls", False),
    "setting_injection": Defect("NtpServer1 is passed to a shell: $(…) and backticks run, their output is stored",
                                "setting_shell", True),
    "reset_keeps_settings": Defect("Reset 1 keeps the Wi-Fi SSID/key and the device name", "reset_wipes_settings",
                                   False),
    "open_command_endpoint": Defect("/cm answers without authentication", "web_auth", False),
    "default_password": Defect("every unit's password is admin", "universal_password", True),
}


class CatalogError(ValueError):
    pass


def behaviour_for(defects: list[str]) -> Behaviour:
    changes: dict[str, object] = {}
    for name in defects:
        defect = DEFECTS.get(name)
        if defect is None:
            raise CatalogError(f"unknown defect {name!r}; known: {', '.join(DEFECTS)}")
        changes[defect.field] = defect.value
    return dataclasses.replace(Behaviour(), **changes)
