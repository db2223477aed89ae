"""The camera's UART (ttyS0 at 115200 on the board's J3 header), on a pty.

Boot log from U-Boot and the kernel, the line `lumacam: system ready`, then BusyBox getty
(`lumacam login: `). With the `uart_root_shell` defect, init runs `::askfirst:-/bin/sh` instead:
"Please press Enter to activate this console." and Enter gives a root shell, no login. Input is
lost while the unit is not running; the console takes no part in the faillock (local logins)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.sim.camera import model
from harness.sim.camera.shell import LOGIN_PROMPT, MOTD, Shell, login, prompt
from harness.sim.pty_console import PtyConsole
from harness.sim.pty_port import PtyPort
from harness.sim.unit import Event, Power

if TYPE_CHECKING:
    from harness.sim.camera.cloud import CloudClient
    from harness.sim.camera.unit import CameraUnit

ASKFIRST = "\r\nPlease press Enter to activate this console. "
MAX_SESSIONS = 100_000  # getty respawns per boot; bounded like every loop here


def boot_log_early() -> str:
    return (f"\r\nU-Boot 2016.11-lumacam ({model.BUILD})\r\n\r\nDRAM:  64 MiB\r\nHit any key to stop autoboot:  0\r\n"
            "## Booting kernel from Legacy Image at 82000000 ...\r\nStarting kernel ...\r\n\r\n"
            f"[    0.000000] Linux version {model.KERNEL} (builder@lumatek) #1 PREEMPT\r\n")


def boot_log_late(serial: str) -> str:
    return ("[    1.842113] usbcore: registered new interface driver rtl8188fu\r\n"
            "[    2.310442] random: crng init done\r\n"
            f"{model.HOSTNAME}: system ready (sn {serial})\r\n")


class CameraConsole(PtyConsole):
    def __init__(self, unit: CameraUnit, port: PtyPort, cloud: CloudClient | None = None) -> None:
        super().__init__(port)
        self.unit = unit
        self.cloud = cloud
        unit.subscribe(self._on_event)

    def notice(self, text: str) -> None:
        """A kernel/syslog line printed where the cursor is (the cloud client's state changes)."""
        if self.unit.power is Power.RUNNING:
            self.emit(text + "\r\n")

    # -- input and lifecycle -------------------------------------------------------------------
    def _takes_input(self) -> bool:
        return self.unit.power is Power.RUNNING

    def _on_event(self, event: Event) -> None:
        if event is Event.BOOT_STARTED:
            self._end_session()
            self.emit(boot_log_early())
        elif event is Event.BOOT_FINISHED:
            self.emit(boot_log_late(self.unit.identity.serial))
            self._open_session(self._getty())
        elif event in (Event.REBOOTING, Event.RESETTING, Event.POWER_LOST, Event.CRASHED, Event.INSTALLING):
            self._end_session()  # what the shell printed is all; a power cut prints nothing

    async def _getty(self) -> None:
        for _ in range(MAX_SESSIONS):
            if self.unit.defects.uart_root_shell:
                user: str | None = "root"
                self.emit(ASKFIRST)
                await self.read_line(echo=False)
                self.emit(f"{MOTD}{prompt('root')}")
            else:
                self.emit(f"\r\n{model.MODEL} ttyS0\r\n\r\n{LOGIN_PROMPT}")
                user = await login(self.unit, self, "console", attempts=None)
                if user is None:
                    continue
                self.emit(f"\r\n{MOTD}{prompt(user)}")
            await Shell(self.unit, self, user, self.cloud).run()
            if self.unit.power is not Power.RUNNING:
                return
