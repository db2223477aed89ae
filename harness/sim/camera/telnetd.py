"""BusyBox telnetd on the camera's address (port 7023): /bin/login over telnet. Three failed logins
end the connection without a word (login exits, telnetd closes); a new connection starts over.
Telnet logins count in the accounts' faillock tally, like SSH's."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.sim.camera import model
from harness.sim.camera.shell import LOGIN_PROMPT, MOTD, Shell, login, prompt
from harness.sim.tcpshell import Connection, InputFilter, TcpShellServer
from harness.sim.telnetd import OPENING, IacFilter

if TYPE_CHECKING:
    from harness.sim.camera.cloud import CloudClient
    from harness.sim.camera.unit import CameraUnit

LOGIN_ATTEMPTS = 3


class CameraTelnetServer(TcpShellServer):
    echo = True
    name = "telnet"

    def __init__(self, unit: CameraUnit, cloud: CloudClient | None) -> None:
        super().__init__(unit)
        self.camera = unit
        self.cloud = cloud

    def input_filter(self) -> InputFilter:
        return IacFilter()

    def greeting(self) -> bytes:
        return OPENING + f"\r\n{model.MODEL}\r\n{LOGIN_PROMPT}".encode()

    async def session(self, conn: Connection) -> None:
        user = await login(self.camera, conn, "telnet", attempts=LOGIN_ATTEMPTS)
        if user is None:
            return  # BusyBox login gave up: the connection closes, nothing printed
        conn.emit(f"\r\n{MOTD}{prompt(user)}")
        await Shell(self.camera, conn, user, self.cloud).run()
