"""The SSH protocol side of the camera (asyncssh): password authentication through the
camera's PAM stack, with pam_faillock's silent lock (only "Permission denied", even for the right
password), then the BusyBox shell or one command."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import asyncssh

from harness.sim.camera.shell import MOTD, Shell, prompt
from harness.sim.sshd_engine import ALGORITHMS, GatedServer, _Terminal, run_server

if TYPE_CHECKING:
    from harness.sim.camera.sshd import CameraSshServer

SERVER_VERSION = "OpenSSH_8.4p1"


class _Server(GatedServer):
    front: CameraSshServer

    async def validate_password(self, username: str, password: str) -> bool:
        ok = (await self.front.camera.login_on("ssh", username, password)).ok
        if ok and self.conn is not None:
            self.conn.set_extra_info(camera_user=username)
        return ok


async def _session(front: CameraSshServer, process: asyncssh.SSHServerProcess) -> None:
    term = _Terminal(process)
    user = str(process.get_extra_info("camera_user") or "admin")
    shell = Shell(front.camera, term, user, front.cloud)
    try:
        if process.command:
            await shell.run_line(process.command, prompt_after=False)
        else:
            term.emit(f"{MOTD}{prompt(user)}")
            await shell.run()
    except (EOFError, asyncssh.BreakReceived, asyncssh.TerminalSizeChanged, OSError):
        pass
    process.exit(0)


async def serve(front: CameraSshServer, sock: socket.socket, key: asyncssh.SSHKey) -> None:
    await run_server(sock, key, lambda: _Server(front), lambda process: _session(front, process),
                     server_version=SERVER_VERSION, algorithms=ALGORITHMS["modern"])
