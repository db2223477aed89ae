"""The plug's serial console (UART header, 115200 8N1): a boot log, then `Password: ` — no user
name. The right password gives the `voltiq> ` prompt, where the web commands work too (answers
as `RESULT = {…}`); `Exit` goes back to the password prompt.

A quirk of the real firmware, kept: the UART input buffer is flushed PROMPT_SETTLE seconds after a
prompt is printed, so input typed sooner is lost (a profile declares a settle time). It scales
with --time-scale; at 0 nothing is flushed."""

from __future__ import annotations

from harness.sim.plug.catalog import FIRMWARE, MODEL
from harness.sim.plug.unit import Event, PlugUnit, Power
from harness.sim.pty_console import PtyConsole
from harness.sim.pty_port import PtyPort

PASSWORD_PROMPT = "Password: "
PROMPT = "voltiq> "
WRONG = "Wrong password"
PROMPT_SETTLE = 0.3
HELP = ("Commands: Status [0|1|2|5|6|7], Power [On|Off|Toggle], DeviceName [name], NtpServer1 [host], "
        "SSId1 [ssid], WifiKey1 [key], Password [new], MqttHost, Restart 1, Reset 1, Exit")


def boot_log(serial: str) -> str:
    return (f"\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n\r\nload 0x4010f000, len 3424, room 16\r\n"
            f"00:00:00.001 CMD: {MODEL} {FIRMWARE} serial {serial}\r\n")


def boot_ready(topic: str) -> str:
    return f"00:00:01.204 WIF: connected\r\n00:00:01.260 APP: {topic} ready\r\n\r\n"


class PlugConsole(PtyConsole):
    def __init__(self, unit: PlugUnit, port: PtyPort) -> None:
        super().__init__(port)
        self.unit = unit
        unit.subscribe(self._on_event)

    def _takes_input(self) -> bool:
        return self.unit.power is Power.RUNNING

    def _on_event(self, event: Event) -> None:
        if event is Event.POWER_LOST:
            self._end_session()  # not a word: the UART has no power
        elif event is Event.RESTARTING:
            self._end_session()
            self.emit("\r\nRestarting...\r\n")
        elif event is Event.RESETTING:
            self._end_session()
            self.emit("\r\nFactory settings restored\r\nRestarting...\r\n")
        elif event is Event.BOOT_STARTED:
            self._end_session()
            self.emit(boot_log(self.unit.ident.serial))
        elif event is Event.BOOT_FINISHED:
            self.emit(boot_ready(self.unit.firmware.topic))
            self._open_session(self._run())

    async def _prompt(self, text: str) -> None:
        self.emit(text)
        if self.unit.delays.scale > 0:
            await self.unit.delays.sleep(PROMPT_SETTLE)
            self.reader.discard()  # the quirk: what came in meanwhile is gone

    async def _run(self) -> None:
        while self.unit.power is Power.RUNNING:
            if await self._password():
                await self._shell()

    async def _password(self) -> bool:
        await self._prompt(PASSWORD_PROMPT)
        typed = await self.read_line(echo=False)
        self.emit("\r\n")
        if not typed:
            return False  # an empty line only brings the prompt back
        if self.unit.firmware.password_ok(typed):
            self.emit(f"{MODEL} console. Type Help for the commands.\r\n")
            return True
        await self.unit.delays.sleep(self.unit.delays.failed_login)
        self.emit(WRONG + "\r\n")
        return False

    async def _shell(self) -> None:
        while True:
            await self._prompt(PROMPT)
            line = (await self.read_line(echo=True)).strip()
            if not line:
                continue
            word = line.split()[0].lower()
            if word in ("exit", "logout"):
                self.emit("Bye\r\n")
                return
            if word == "help":
                self.emit(HELP + "\r\n")
                continue
            answer = self.unit.firmware.execute(line)
            self.emit(f"RESULT = {answer.text}\r\n")
            if answer.action is not None:
                self.unit.act(answer.action)  # ends this session
                return
