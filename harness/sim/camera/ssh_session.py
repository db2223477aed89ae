"""The SSH protocol side of the camera (asyncssh): password authentication through the
camera's PAM stack, with pam_faillock's silent lock (only "Permission denied", even for the right
password), then the BusyBox shell or one command."""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING

import asyncssh

from harness.sim.camera.shell import MOTD, Shell, prompt
from harness.sim.sshd_engine import ALGORITHMS, HOLD_TIMEOUT, LOGIN_TIMEOUT, MAX_CONNECTIONS, _Terminal

if TYPE_CHECKING:
    from harness.sim.camera.sshd import CameraSshServer

SERVER_VERSION = "OpenSSH_8.4p1"


class _Server(asyncssh.SSHServer):
    def __init__(self, front: CameraSshServer) -> None:
        self.front = front
        self.conn: asyncssh.SSHServerConnection | None = None
        self.user = ""

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        if len(self.front.connections) >= MAX_CONNECTIONS:
            asyncio.get_running_loop().call_soon(conn.close)
            return
        self.front.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.front.connections.discard(self.conn)

    async def begin_auth(self, username: str) -> bool:
        if not await self.front.camera.wait_running(HOLD_TIMEOUT) and self.conn is not None:
            self.conn.close()
        return True

    def password_auth_supported(self) -> bool:
        return True

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
    try:
        await asyncssh.run_server(
            sock, server_factory=lambda: _Server(front), server_host_keys=[key],
            process_factory=lambda process: _session(front, process), compression_algs=["none"],
            server_version=SERVER_VERSION, login_timeout=LOGIN_TIMEOUT, keepalive_interval=0, allow_scp=False,
            agent_forwarding=False, x11_forwarding=False, kbdint_auth=False,
            **ALGORITHMS["modern"])  # type: ignore[arg-type]
    except (asyncssh.Error, OSError):
        sock.close()
