"""The serial console front-end of a unit: a getty-like login and a small shell over a pty.

It echoes what is typed (not passwords), accepts CR, LF or CRLF as a line end, ignores input while
the unit is not running, and renders the unit's lifecycle events (reset, reboot, boot log)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from harness.sim.catalog import FIRMWARE, MODEL
from harness.sim.noise import Noise
from harness.sim.pty_port import PtyPort
from harness.sim.unit import Event, PasswdOutcome, Power, Unit

LOGIN_PROMPT = "simiot login: "
PROMPT = "simiot> "
PASSWORD_PROMPT = "Password: "
MAX_LINE = 1024  # longer input is dropped, as a tty's line buffer would
CR, LF, BS, DEL = 0x0D, 0x0A, 0x08, 0x7F
HELP = ("commands:", "  version                 show the firmware version", "  passwd                  change the password",
        "  wifi set <ssid> <psk>   store Wi-Fi credentials", "  wifi show               show the Wi-Fi settings",
        "  factory-reset           erase user data and restore factory settings", "  reboot                  restart the unit",
        "  exit | logout           end the session", "  help                    this list")


def boot_log_early() -> str:
    return "SimIoT bootloader v2.1\r\n[    0.000000] Linux version 5.15.0-simiot\r\n"


def boot_log_late(serial: str) -> str:
    return f"[    1.204512] eth0: link up\r\n{MODEL} firmware {FIRMWARE} (serial {serial})\r\n\r\n{LOGIN_PROMPT}"


class LineReader:
    """Typed bytes in, lines out; echo happens as the line is consumed, like a getty reading."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._ready = asyncio.Event()
        self._last_cr = False

    def feed(self, data: bytes) -> None:
        self._buf += data
        self._ready.set()

    def discard(self) -> None:
        self._buf.clear()
        self._ready.clear()
        self._last_cr = False

    async def read_line(self, echo: bool, write: Callable[[bytes], None]) -> str:
        line = bytearray()
        while True:
            while not self._buf:
                self._ready.clear()
                await self._ready.wait()
            b = self._buf.pop(0)
            if b == LF and self._last_cr:
                self._last_cr = False  # the LF of a CRLF
                continue
            self._last_cr = b == CR
            if b in (CR, LF):
                if echo:
                    write(b"\r\n")
                return line.decode("utf-8", errors="replace")
            if b in (BS, DEL):
                if line:
                    while line and (line.pop() & 0xC0) == 0x80:
                        pass  # drop a whole UTF-8 character
                    if echo:
                        write(b"\b \b")
                continue
            if b < 0x20 or len(line) >= MAX_LINE:
                continue  # other control characters are not part of a line
            line.append(b)
            if echo:
                write(bytes([b]))


class Console:
    def __init__(self, unit: Unit, port: PtyPort) -> None:
        self.unit = unit
        self.port = port
        self.noise = Noise(unit.identity.index) if unit.behaviour.noisy_console else None
        self.reader = LineReader()
        self._session: asyncio.Task[None] | None = None
        unit.subscribe(self._on_event)

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        self.port.attach(loop, self._on_data)

    async def close(self) -> None:
        task = self._end_session()
        if task is not None:
            await asyncio.gather(task, return_exceptions=True)
        self.port.close()

    # -- output -------------------------------------------------------------------------------
    def emit(self, text: str) -> None:
        """A message from the unit (the noisy switch may decorate it)."""
        if self.noise is not None:
            text = self.noise.apply(text)
        self.port.write(text.encode())

    def _echo(self, data: bytes) -> None:
        self.port.write(data)

    # -- input and lifecycle ------------------------------------------------------------------
    def _on_data(self, data: bytes) -> None:
        if self.unit.power is not Power.RUNNING or self.unit.console_silenced or self._session is None:
            return  # booting, resetting, hung: input is lost
        self.reader.feed(data)

    def _end_session(self) -> asyncio.Task[None] | None:
        task, self._session = self._session, None
        if task is not None and not task.done():
            task.cancel()
        self.reader.discard()
        return task

    def _on_event(self, event: Event) -> None:
        if event is Event.RESETTING:
            self._end_session()
            self.emit("factory-reset: erasing user data\r\nRebooting...\r\n")
        elif event is Event.REBOOTING:
            self._end_session()
            self.emit("Rebooting...\r\n")
        elif event is Event.BOOT_STARTED:
            self._end_session()
            self.emit(boot_log_early())
        elif event is Event.BOOT_FINISHED:
            self.reader.discard()
            self.emit(boot_log_late(self.unit.identity.serial))
            self._session = asyncio.get_running_loop().create_task(self._login_loop())

    # -- session ------------------------------------------------------------------------------
    async def _line(self, echo: bool = True) -> str:
        return await self.reader.read_line(echo, self._echo)

    async def _login_loop(self) -> None:
        while True:
            user = await self._line()
            if not user:
                self.emit(LOGIN_PROMPT)
                continue
            self.emit(PASSWORD_PROMPT)
            password = await self._line(echo=False)
            ok = await self.unit.authenticate(user, password)
            if ok:
                self.emit(f"\r\nWelcome to SimIoT Hub\r\n{PROMPT}")
            elif self.unit.behaviour.announces_rejection:
                self.emit(f"\r\nLogin incorrect\r\n{LOGIN_PROMPT}")
            else:
                self.emit(LOGIN_PROMPT)
            if self.unit.console_silenced:
                self.reader.discard()
                return  # the outcome was shown; from now on the console ignores everything
            if ok:
                await self._shell()

    async def _shell(self) -> None:
        while True:
            words = (await self._line()).split()
            if not words:
                self.emit(PROMPT)
                continue
            cmd = words[0]
            if cmd in ("exit", "logout"):
                self.emit(f"logout\r\n{LOGIN_PROMPT}")
                return
            if cmd == "reboot":
                self.unit.reboot()  # its REBOOTING event ends this session
                return
            if cmd == "factory-reset":
                self.unit.factory_reset()
                return
            if cmd == "passwd":
                self.emit(await self._passwd() + "\r\n" + PROMPT)
                continue
            self.emit(self._command(words) + "\r\n" + PROMPT)

    async def _passwd(self) -> str:
        self.emit("Current password: ")
        current = await self._line(echo=False)
        self.emit("\r\nNew password: ")
        new = await self._line(echo=False)
        self.emit("\r\nRetype new password: ")
        retyped = await self._line(echo=False)
        outcome = self.unit.change_password(current, new, retyped)
        return "\r\n" + {
            PasswdOutcome.UPDATED: "passwd: password updated successfully",
            PasswdOutcome.AUTH_ERROR: "passwd: Authentication token manipulation error",
            PasswdOutcome.MISMATCH: "passwd: passwords do not match",
        }[outcome]

    def _command(self, words: list[str]) -> str:
        cmd, args = words[0], words[1:]
        if cmd == "version":
            return f"firmware {FIRMWARE}"
        if cmd == "help":
            return "\r\n".join(HELP)
        if cmd == "wifi":
            if len(args) == 3 and args[0] == "set":
                self.unit.set_wifi(args[1], args[2])
                return "wifi: saved"
            if args == ["show"]:
                ssid, psk = self.unit.wifi()
                return f"ssid={ssid}\r\npsk={'set' if psk else 'unset'}"
            return "wifi: usage: wifi set <ssid> <psk> | wifi show"
        return f"sh: {cmd}: not found"
