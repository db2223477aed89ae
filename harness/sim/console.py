"""The serial console front-end of a unit: a getty-like login and a small shell over a pty.

It echoes what is typed (not passwords), accepts CR, LF or CRLF as a line end, ignores input while
the unit is not running (off, booting, resetting, installing, crashed), and renders the unit's
lifecycle events (reset, reboot, update install, crash, boot log). Without power it is silent; the
pty itself stays open, as a USB-serial adapter on the bench does."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.sim.catalog import MODEL
from harness.sim.lines import LineReader
from harness.sim.noise import Noise
from harness.sim.pty_console import PtyConsole
from harness.sim.pty_port import PtyPort
from harness.sim.shell import LOGIN_PROMPT, PASSWORD_PROMPT, PROMPT, getty, reset_confirmation
from harness.sim.unit import Event, Power, Unit

if TYPE_CHECKING:
    from harness.sim.mqtt import MqttClient

__all__ = ["LOGIN_PROMPT", "PASSWORD_PROMPT", "PROMPT", "Console", "LineReader", "boot_log_early", "boot_log_late"]


def boot_log_early() -> str:
    return "SimIoT bootloader v2.1\r\n[    0.000000] Linux version 5.15.0-simiot\r\n"


def boot_log_late(serial: str, firmware: str) -> str:
    return f"[    1.204512] eth0: link up\r\n{MODEL} firmware {firmware} (serial {serial})\r\n\r\n{LOGIN_PROMPT}"


def crash_log(uptime: float) -> str:
    """What the kernel prints when the firmware's main process dies, then nothing more."""
    return (f"[{uptime:12.6f}] simiotd[212]: segfault at 0000000000000000 ip 00000000004031c7 "
            "sp 00007ffd3a9c1e40 error 6 in simiotd[400000+2e000]\r\n")


class Console(PtyConsole):
    shows_unit_log = True  # the unit's own log lines (update install, MQTT) appear here

    def __init__(self, unit: Unit, port: PtyPort, mqtt: MqttClient | None = None) -> None:
        super().__init__(port)
        self.unit = unit
        self.mqtt = mqtt
        self.noise = Noise(unit.identity.index) if unit.behaviour.noisy_console else None
        unit.subscribe(self._on_event)

    # -- output -------------------------------------------------------------------------------
    def emit(self, text: str) -> None:
        """A message from the unit (the noisy switch may decorate it)."""
        if self.noise is not None:
            text = self.noise.apply(text)
        self.port.write(text.encode())

    def notice(self, text: str) -> None:
        """An unsolicited line from the firmware (e.g. the MQTT client), shown where the cursor is,
        as a syslog line on a real console would be; not while booting or hung."""
        if self.unit.power is Power.RUNNING and not self.unit.console_silenced:
            self.emit(text + "\r\n")

    # -- input and lifecycle ------------------------------------------------------------------
    def _takes_input(self) -> bool:
        return self.unit.power is Power.RUNNING and not self.unit.console_silenced

    def _on_event(self, event: Event) -> None:
        if event is Event.RESETTING:
            self._end_session()
            self.emit("factory-reset: erasing user data\r\nRebooting...\r\n")
        elif event is Event.REBOOTING:
            self._end_session()
            self.emit("Rebooting...\r\n")
        elif event is Event.INSTALLING:
            self._end_session()
            self.emit(f"update: installing {self.unit.installing}\r\nRebooting...\r\n")
        elif event is Event.CRASHED:
            self._end_session()
            self.emit(crash_log(self.unit.uptime()))
        elif event is Event.POWER_LOST:
            self._end_session()  # and not a word: the UART has no power
        elif event is Event.BOOT_STARTED:
            self._end_session()
            self.emit(boot_log_early())
        elif event is Event.BOOT_FINISHED:
            self.emit(reset_confirmation(self.unit) + boot_log_late(self.unit.identity.serial, self.unit.firmware))
            self._open_session(self._login_loop())

    # -- session ------------------------------------------------------------------------------
    def _hung(self) -> bool:
        if self.unit.console_silenced:
            self.reader.discard()
            return True  # the outcome was shown; from now on the console ignores everything
        return False

    async def _login_loop(self) -> None:
        await getty(self.unit, self, self.mqtt, after_attempt=self._hung)
