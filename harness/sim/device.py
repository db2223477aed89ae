"""One simulated unit: flash state and console behaviour (a getty-like login and a small shell)."""

from __future__ import annotations

import hashlib
import json
import os
import random
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
FIRMWARE = "1.4.2"
MODEL = "SimIoT Hub H1"


@dataclass
class UnitSpec:
    uid: str
    index: int
    persona: str
    serial: str
    mac: str


def label_password(spec: UnitSpec, defects: dict[str, str | None]) -> str:
    if spec.persona == "legacy":
        return "admin"
    if "universal_default_password" in defects:
        return "Welcome2SimIoT"
    if "sequential_label_passwords" in defects:
        return f"simpw-1000{40 + spec.index}"
    if "mac_derived_passwords" in defects:
        return spec.mac.replace(":", "").upper()[-8:]
    if "serial_derived_passwords" in defects:
        return hashlib.sha256(spec.serial.encode()).hexdigest()[:10]
    if "dictionary_label_passwords" in defects:
        return ["sunshine", "princess", "football", "dragon", "monkey"][(spec.index - 1) % 5]
    if "low_entropy_passwords" in defects:
        return ["4821", "9034", "7715", "3068", "5592"][(spec.index - 1) % 5]  # fixed: never a dictionary PIN
    return "".join(secrets.choice(ALPHABET) for _ in range(12))


class Unit:
    """Console state machine fed by bytes from the pty master; writes replies to it."""

    def __init__(self, spec: UnitSpec, master: int, flash_dir: Path, defects: dict[str, str | None],
                 scale: float) -> None:
        self.spec = spec
        self.master = master
        self.defects = defects
        self.scale = scale
        self.flash_path = flash_dir / f"{spec.uid}.json"
        self.lock = threading.Lock()
        self.state = self._load()
        self.mode = "booting"
        self.line = b""
        self.pending_user = ""
        self.in_passwd = False
        self.answers: list[str] = []
        self.login_attempts = 0
        self.hung = False
        self.rng = random.Random(spec.index)

    # -- flash ---------------------------------------------------------------------------------
    def _load(self) -> dict:
        if self.flash_path.exists():
            return json.loads(self.flash_path.read_text())
        label = label_password(self.spec, self.defects)
        state = {"label": label, "password": label, "wifi": {"ssid": "", "psk": ""}}
        self._save(state)
        return state

    def _save(self, state: dict | None = None) -> None:
        tmp = self.flash_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(state or self.state))
        os.replace(tmp, self.flash_path)

    # -- output --------------------------------------------------------------------------------
    def out(self, text: str) -> None:
        if "noisy_console" in self.defects:
            text = text.replace("\r\n", self.rng.choice(["\r\n", "\n", "\r\n"]))
            if self.rng.random() < 0.3:
                text = f"[ {self.rng.uniform(1, 999):10.6f}] wlan0: rx timeout\r\n" + text
            for word in ("simiot> ", "Login incorrect"):
                text = text.replace(word, f"\x1b[1;32m{word}\x1b[0m")
        try:
            os.write(self.master, text.encode())
        except OSError:
            pass

    def delay(self, seconds: float) -> None:
        if seconds * self.scale > 0:
            time.sleep(seconds * self.scale)  # sleep-ok: device delay, scaled by --time-scale

    def boot(self) -> None:
        self.mode = "booting"
        self.delay(2.0)
        self.mode = "login"  # before the prompt is written: a client answers the prompt at once
        self.out("SimIoT bootloader v2.1\r\n[    0.000000] Linux version 5.15.0-simiot\r\n"
                 "[    1.204512] eth0: link up\r\n"
                 f"{MODEL} firmware {FIRMWARE} (serial {self.spec.serial})\r\n\r\nsimiot login: ")

    # -- input ---------------------------------------------------------------------------------
    def feed(self, data: bytes) -> None:
        with self.lock:
            for b in data:
                if self.hung or self.mode == "booting":
                    continue
                ch = bytes([b])
                if ch in (b"\r", b"\n"):
                    if ch == b"\n" and self._last_cr:
                        self._last_cr = False
                        continue
                    self._last_cr = ch == b"\r"
                    line, self.line = self.line.decode(errors="replace"), b""
                    if self.mode != "password" and not self.in_passwd:
                        self.out("\r\n")
                    self.handle(line)
                else:
                    self._last_cr = False
                    self.line += ch
                    if self.mode != "password" and not self.in_passwd:
                        self.out(ch.decode(errors="replace"))

    _last_cr = False

    def handle(self, line: str) -> None:
        if self.mode == "login":
            if not line:
                self.out("simiot login: ")
                return
            self.pending_user = line
            self.mode = "password"
            self.out("Password: ")
        elif self.mode == "password":
            self.login_attempts += 1
            limit = self.defects.get("console_hangs_after_logins", "missing")
            ok = self.pending_user == "admin" and (line == self.state["password"] or "accepts_any_password" in self.defects)
            if limit != "missing" and self.login_attempts > int(limit or 5):
                self.hung = True
                return
            if ok:
                self.mode = "shell"
                self.out("\r\nWelcome to SimIoT Hub\r\nsimiot> ")
            else:
                self.mode = "login"
                self.delay(0.3)
                if "silent_rejection" not in self.defects:
                    self.out("\r\nLogin incorrect\r\n")
                self.out("simiot login: ")
        elif self.in_passwd:
            self._passwd(line)
        else:
            self.command(line)

    def _passwd(self, line: str) -> None:
        self.answers.append(line)
        if len(self.answers) == 1:
            self.out("\r\nNew password: ")
        elif len(self.answers) == 2:
            self.out("\r\nRetype new password: ")
        else:
            current, new, again = self.answers
            self.in_passwd, self.answers = False, []
            if current != self.state["password"]:
                self.out("\r\npasswd: Authentication token manipulation error\r\nsimiot> ")
            elif new != again:
                self.out("\r\npasswd: passwords do not match\r\nsimiot> ")
            else:
                if "password_change_ignored" not in self.defects:
                    self.state["password"] = new
                    self._save()
                self.out("\r\npasswd: password updated successfully\r\nsimiot> ")

    def command(self, line: str) -> None:
        words = line.split()
        cmd = words[0] if words else ""
        if not cmd:
            self.out("simiot> ")
        elif cmd == "version":
            self.out(f"firmware {FIRMWARE}\r\nsimiot> ")
        elif cmd == "passwd":
            self.in_passwd, self.answers = True, []
            self.out("Current password: ")
        elif cmd == "wifi" and len(words) == 4 and words[1] == "set":
            self.state["wifi"] = {"ssid": words[2], "psk": words[3]}
            self._save()
            self.out("wifi: saved\r\nsimiot> ")
        elif cmd == "wifi" and words[1:] == ["show"]:
            w = self.state["wifi"]
            self.out(f"ssid={w['ssid']}\r\npsk={'set' if w['psk'] else 'unset'}\r\nsimiot> ")
        elif cmd == "factory-reset":
            self.out("factory-reset: erasing user data\r\nRebooting...\r\n")
            self.delay(1.0)
            self.state["password"] = "admin" if "reset_restores_universal_default" in self.defects else self.state["label"]
            if self.spec.persona != "legacy" and "reset_keeps_user_data" not in self.defects:
                self.state["wifi"] = {"ssid": "", "psk": ""}
            self._save()
            self._reboot()
        elif cmd == "reboot":
            self.out("Rebooting...\r\n")
            self._reboot()
        elif cmd in ("exit", "logout"):
            self.mode = "login"
            self.out("logout\r\nsimiot login: ")
        elif cmd == "help":
            self.out("commands: version passwd wifi set|show factory-reset reboot exit\r\nsimiot> ")
        else:
            self.out(f"sh: {cmd}: not found\r\nsimiot> ")

    def _reboot(self) -> None:
        self.mode = "booting"
        threading.Thread(target=self.boot, daemon=True).start()
