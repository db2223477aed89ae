"""The unit's login dialogue and command shell, shared by every front-end that offers them (serial
console, telnet, SSH): one dialect, whatever carries it.

A front-end provides a `Terminal` (read a line, with or without echo; show the unit's output with
CRLF line ends) and ends a session by cancelling the task running it (reboot, reset, hang-up)."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import TYPE_CHECKING, Protocol

from harness.sim import storage
from harness.sim.inputcheck import line_crashes, line_problem
from harness.sim.lockout import shown_seconds
from harness.sim.unit import LoginOutcome, LoginResult, PasswdOutcome, Unit

if TYPE_CHECKING:
    from harness.sim.mqtt import MqttClient

LOGIN_PROMPT = "simiot login: "
PROMPT = "simiot> "
PASSWORD_PROMPT = "Password: "
WELCOME = "Welcome to SimIoT Hub"
RESET_CONFIRMATION = "factory reset complete: user data erased"
TAMPER_ALERT = "integrity: installed image modified; alert sent; network services stopped"
HELP = ("commands:", "  version                 show the model and the firmware version",
        "  passwd                  change the password",
        "  wifi set <ssid> <psk>   store Wi-Fi credentials", "  wifi show               show the Wi-Fi settings",
        "  mqtt connect <url> [<user> <password>]   connect to a broker (mqtts://host[:port])",
        "  mqtt status             show the broker connection", "  mqtt disconnect         forget the broker",
        "  update <url>            fetch a firmware package over HTTP(S) and install it",
        "  identity show           show the unit's identity", "  sensors                 list the sensors",
        "  cat <file>              show a file", "  factory-reset           erase user data and restore factory settings",
        "  reboot                  restart the unit",
        "  exit | logout           end the session", "  help                    this list")


def reset_confirmation(unit: Unit) -> str:
    """The line the firmware prints once a factory reset has erased the data (behaviour
    deletion_confirmation), ahead of the boot log that follows the reset."""
    return f"{RESET_CONFIRMATION}\r\n" if unit.boot_after_reset and unit.behaviour.deletion_confirmation else ""


class Terminal(Protocol):
    async def read_line(self, echo: bool = True) -> str: ...

    def emit(self, text: str) -> None: ...


class ShellExit(enum.Enum):
    LOGOUT = "logout"
    REBOOT = "reboot"  # the unit is going down: the front-end's session ends with it
    RESET = "reset"
    CRASHED = "crashed"  # the firmware fell over (crashes_on_malformed)


def login_answer(outcome: LoginOutcome, announces_rejection: bool) -> str:
    """What follows the (unechoed) password line. A lock is announced after "Login incorrect" on the
    failure that starts it, so that attempt still reads as a refusal of an evaluated password;
    an attempt during a lock gets only the lock message (the password was not evaluated)."""
    if outcome.ok:
        return f"\r\n{WELCOME}\r\n{PROMPT}"
    if not announces_rejection:
        return LOGIN_PROMPT
    if outcome.result is LoginResult.LOCKED:
        return f"\r\nlogin: account locked for {shown_seconds(outcome.lock_seconds or 0.0)} s\r\n{LOGIN_PROMPT}"
    text = "\r\nLogin incorrect\r\n"
    if outcome.lock_seconds is not None:
        text += f"login: too many failed attempts, locked for {shown_seconds(outcome.lock_seconds)} s\r\n"
    return text + LOGIN_PROMPT


class Shell:
    def __init__(self, unit: Unit, term: Terminal, mqtt: MqttClient | None = None,
                 after_logout: str = LOGIN_PROMPT) -> None:
        self.unit = unit
        self.term = term
        self.mqtt = mqtt
        self.after_logout = after_logout  # the login prompt, or nothing where a logout hangs up

    async def run(self) -> ShellExit:
        """Commands until logout, reboot or reset (the prompt was shown by the login)."""
        while True:
            ended = await self.run_line(await self.term.read_line())
            if ended is not None:
                return ended
            self.term.emit(PROMPT)

    async def run_line(self, line: str) -> ShellExit | None:
        """One typed line: checked as input first (see harness.sim.inputcheck), then run."""
        if self.unit.behaviour.crashes_on_malformed and line_crashes(line):
            self.unit.crash(f"shell parser crashed on a malformed line ({len(line.encode())} bytes)")
            return ShellExit.CRASHED
        problem = line_problem(line)
        if problem is not None:
            self.term.emit(f"sh: {problem}\r\n")
            return None
        words = line.split()
        return await self.run_one(words) if words else None

    async def run_one(self, words: list[str]) -> ShellExit | None:
        """One command; its output ends with a line break. None: the shell goes on."""
        cmd = words[0]
        if cmd in ("exit", "logout"):
            self.term.emit(f"logout\r\n{self.after_logout}")
            return ShellExit.LOGOUT
        if cmd == "reboot":
            self.unit.reboot()  # its REBOOTING event ends the session
            return ShellExit.REBOOT
        if cmd == "factory-reset":
            self.unit.factory_reset()
            return ShellExit.RESET
        if cmd == "passwd":
            self.term.emit(await self._passwd() + "\r\n")
            return None
        if cmd == "update":
            return await self._update(words[1:])
        self.term.emit(self.command(words) + "\r\n")
        return None

    async def _passwd(self) -> str:
        self.term.emit("Current password: ")
        current = await self.term.read_line(echo=False)
        self.term.emit("\r\nNew password: ")
        new = await self.term.read_line(echo=False)
        self.term.emit("\r\nRetype new password: ")
        retyped = await self.term.read_line(echo=False)
        outcome = self.unit.change_password(current, new, retyped)
        return "\r\n" + {
            PasswdOutcome.UPDATED: "passwd: password updated successfully",
            PasswdOutcome.AUTH_ERROR: "passwd: Authentication token manipulation error",
            PasswdOutcome.MISMATCH: "passwd: passwords do not match",
        }[outcome]

    async def _update(self, args: list[str]) -> ShellExit | None:
        updater = self.unit.updater
        if updater is None:
            self.term.emit("sh: update: not found\r\n")
            return None
        if len(args) != 1:
            self.term.emit("update: usage: update <url>\r\n")
            return None
        self.term.emit(f"update: fetching {args[0]}\r\n")
        result = await updater.from_url(args[0])
        if result.outcome == "crashed":
            return ShellExit.CRASHED
        if result.installing:
            # The serial console prints the unit's own "installing" line (whatever the channel);
            # a network session would otherwise only see its connection end.
            if not getattr(self.term, "shows_unit_log", False):
                self.term.emit(f"update: {result.text}\r\n")
            return ShellExit.REBOOT
        self.term.emit(f"update: {result.text}\r\n")
        return None

    def command(self, words: list[str]) -> str:
        """The commands that need no further input; the output without its final line break."""
        cmd, args = words[0], words[1:]
        if cmd == "version":
            return f"model {self.unit.behaviour.model_designation}\r\nfirmware {self.unit.firmware}"
        if cmd == "help":
            return "\r\n".join(HELP)
        if cmd in ("cat", "identity", "sensors", "fw-patch", "fw-restore"):
            return self._device_command(cmd, args)
        if cmd == "wifi":
            if len(args) == 3 and args[0] == "set":
                self.unit.set_wifi(args[1], args[2])
                return "wifi: saved"
            if args == ["show"]:
                ssid, psk = self.unit.wifi()
                return f"ssid={ssid}\r\npsk={'set' if psk else 'unset'}"
            return "wifi: usage: wifi set <ssid> <psk> | wifi show"
        if cmd == "mqtt" and self.mqtt is not None:
            if args[:1] == ["connect"] and len(args) in (2, 4):
                return self.mqtt.connect_command(args[1], *(args[2:4] or ("", "")))
            if args == ["status"]:
                return self.mqtt.status()
            if args == ["disconnect"]:
                return self.mqtt.disconnect_command()
            return "mqtt: usage: mqtt connect <url> [<user> <password>] | mqtt status | mqtt disconnect"
        return f"sh: {cmd}: not found"

    def _device_command(self, cmd: str, args: list[str]) -> str:
        """Storage, identity, sensors and the engineering image patch (harness.sim.storage)."""
        unit = self.unit
        if cmd == "cat":
            if len(args) != 1:
                return "cat: usage: cat <file>"
            text = unit.stored_files().get(args[0])
            return f"cat: {args[0]}: No such file or directory" if text is None else text.replace("\n", "\r\n")
        if cmd == "identity":
            if args == ["show"]:
                return f"serial {unit.serial}"
            if len(args) == 2 and args[0] == "set":
                if unit.write_identity(args[1]):
                    return f"identity: serial set to {unit.serial}"
                return "identity: refused: the identity is fused at manufacture (read-only)"
            return "identity: usage: identity show | identity set <serial>"
        if cmd == "sensors":
            return "\r\n".join(f"{name:<12} {what}" for name, what in storage.sensors(unit.behaviour))
        if cmd == "fw-patch":
            # The engineering write a lab uses to play an attacker: one byte of the installed image.
            unit.modify_software()
            return "fw-patch: wrote 1 byte at 0x0001f400" + (f"\r\n{TAMPER_ALERT}" if unit.network_restricted else "")
        unit.restore_software()
        return "fw-restore: installed image restored"


async def getty(unit: Unit, term: Terminal, mqtt: MqttClient | None = None, *,
                after_attempt: Callable[[], bool] | None = None, hang_up_on_logout: bool = False) -> None:
    """The login dialogue, then the shell, again and again. `after_attempt` (a callable returning
    True to stop) runs once each login outcome has been shown. Returns when the shell ends with a
    reboot or reset (the unit's events end the front-end's session), when `after_attempt` says so,
    or at a logout when `hang_up_on_logout` (a network login ends its connection there)."""
    while True:
        user = await term.read_line()
        if not user:
            term.emit(LOGIN_PROMPT)
            continue
        term.emit(PASSWORD_PROMPT)
        password = await term.read_line(echo=False)
        outcome = await unit.login(user, password)
        term.emit(login_answer(outcome, unit.behaviour.announces_rejection))
        if after_attempt is not None and after_attempt():
            return
        if not outcome.ok:
            continue
        shell = Shell(unit, term, mqtt, after_logout="" if hang_up_on_logout else LOGIN_PROMPT)
        if await shell.run() is not ShellExit.LOGOUT or hang_up_on_logout:
            return
