"""What a unit keeps at rest and shows about itself: the stored configuration file (how the Wi-Fi key
and the cloud token sit in flash), the per-device identity, the sensors it carries and the integrity
of its installed software image. Pure functions of the unit's flash state and behaviour; the shell
(`cat`, `identity`, `sensors`, `fw-patch`) and the API render them.

Protected storage (behaviour `secrets_at_rest: protected`) encrypts each secret with AES-256-GCM under
a key derived from the unit's hardware identity (a real unit keeps that key in its SoC); the file
shows `enc:v1:<base64 of nonce and ciphertext>`. The password is stored as a salted SHA-256 hash in
either mode."""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from harness.sim.catalog import Behaviour

CONFIG_PATH = "/etc/simiot/config"
IDENTITY_PATH = "/etc/simiot/identity"
PASSWD_PATH = "/etc/simiot/passwd"

# The sensors every hub carries, and the one the undocumented-sensor defect adds: (name, what it is).
SENSORS = (("temperature", "ambient temperature, 0.1 C"), ("humidity", "relative humidity, 1 %"))
HIDDEN_SENSOR = ("microphone", "far-field microphone, voice wake word")


def _device_key(serial: str) -> bytes:
    return hashlib.sha256(f"simiot-hw-key:{serial}".encode()).digest()


def seal(serial: str, name: str, value: str) -> str:
    """The stored form of a protected secret (deterministic: the same value gives the same line,
    as a real unit's file would not change between two reads)."""
    if not value:
        return ""
    nonce = hashlib.sha256(f"{name}:{serial}:{value}".encode()).digest()[:12]
    sealed = AESGCM(_device_key(serial)).encrypt(nonce, value.encode(), name.encode())
    return "enc:v1:" + base64.b64encode(nonce + sealed).decode()


def cloud_token(serial: str) -> str:
    """The token the unit holds for its cloud account (fixed per unit in this simulation)."""
    return hashlib.sha256(f"simiot-cloud:{serial}".encode()).hexdigest()[:32]


def password_hash(serial: str, password: str) -> str:
    salt = hashlib.sha256(f"salt:{serial}".encode()).hexdigest()[:16]
    return f"$5${salt}${hashlib.sha256((salt + password).encode()).hexdigest()}"


def stored_config(behaviour: Behaviour, serial: str, user_data: dict) -> str:
    """The configuration file as `cat` shows it (LF line ends)."""
    wifi = user_data.get("wifi") or {}
    mqtt = user_data.get("mqtt") or {}
    ssid, psk = str(wifi.get("ssid", "")), str(wifi.get("psk", ""))
    token = cloud_token(serial)
    if behaviour.secrets_at_rest != "plaintext":
        psk, token = seal(serial, "wifi.psk", psk), seal(serial, "cloud.token", token)
    lines = ["# simiotd configuration (written by the firmware)", "[wifi]", f"ssid = {ssid}", f"psk = {psk}",
             "[mqtt]", f"url = {mqtt.get('url', '')}", f"user = {mqtt.get('user', '')}",
             "[cloud]", f"token = {token}"]
    return "\n".join(lines)


def stored_passwd(serial: str, user: str, password: str) -> str:
    return f"{user}:{password_hash(serial, password)}"


def identity_file(serial: str, mac: str) -> str:
    return f"serial = {serial}\nmac = {mac}"


def sensors(behaviour: Behaviour) -> list[tuple[str, str]]:
    return [*SENSORS, *([HIDDEN_SENSOR] if behaviour.undocumented_sensor else [])]


def sensors_help(model: str) -> str:
    """The hub's built-in help page on its sensors (the documented ones only)."""
    items = "\n".join(f"<li><strong>{name.capitalize()} sensor</strong>: {what}.</li>" for name, what in SENSORS)
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{model}: sensors</title></head>\n'
            f"<body>\n<h1>Sensors of the {model}</h1>\n<p>The hub measures its surroundings with these sensors and "
            f"reports their readings to the companion app:</p>\n<ul>\n{items}\n</ul>\n</body></html>\n")
