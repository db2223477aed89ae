"""The SSH protocol side of a unit's SSH server (asyncssh), loaded at the first connection (see
harness.sim.sshd): password login against the same account and password as the console, then the
console's shell (or one command, `ssh unit version`).

Algorithms are the behaviour's: modern (curve25519/ECDH, ssh-ed25519 host key, ChaCha20/AES-GCM,
encrypt-then-MAC) or legacy (diffie-hellman-group1/14-sha1, ssh-rsa RSA-1024 host key, CBC, HMAC-SHA1/MD5),
each offered alone so that a scan sees exactly one policy. The host key is kept next to the unit's
flash, so a unit keeps its fingerprint over restarts like a real one."""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import asyncssh

from harness.sim.lockout import shown_seconds
from harness.sim.shell import PROMPT, WELCOME, Shell
from harness.sim.unit import LoginResult

if TYPE_CHECKING:
    from harness.sim.sshd import SshServer

logging.getLogger("asyncssh").setLevel(logging.ERROR)  # a client that goes away is not news
LOGIN_TIMEOUT = 30.0  # real seconds for a connection to authenticate
MAX_CONNECTIONS = 8
HOLD_TIMEOUT = 10.0  # real seconds a connection made during a boot waits for the unit

ALGORITHMS = {
    "modern": {
        "kex_algs": ["curve25519-sha256", "curve25519-sha256@libssh.org", "ecdh-sha2-nistp256"],
        "encryption_algs": ["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-gcm@openssh.com"],
        "mac_algs": ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"],
        "signature_algs": ["ssh-ed25519"],
    },
    "legacy": {
        "kex_algs": ["diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1"],
        "encryption_algs": ["aes128-cbc", "aes256-cbc", "3des-cbc", "aes128-ctr"],
        "mac_algs": ["hmac-sha1", "hmac-md5", "hmac-sha1-96"],
        "signature_algs": ["ssh-rsa"],
    },
}
HOST_KEY = {"modern": ("ssh-ed25519", {}), "legacy": ("ssh-rsa", {"key_size": 1024})}


def host_key(path: Path, policy: str) -> asyncssh.SSHKey:
    """The unit's host key from `path`, made (mode 0600) when missing, unreadable or of another type."""
    alg, params = HOST_KEY[policy]
    key: asyncssh.SSHKey | None = None
    try:
        key = asyncssh.read_private_key(path)
    except (OSError, asyncssh.KeyImportError, ValueError):
        pass
    if key is None or key.algorithm.decode() != alg:
        key = asyncssh.generate_private_key(alg, **params)
        _save(path, key)
    # asyncssh offers every signature an RSA key can make (rsa-sha2-256/512 too) as host-key
    # algorithms; the key's own list is what it advertises, so narrowing it keeps a legacy unit legacy.
    key.sig_algorithms = tuple(a.encode() for a in ALGORITHMS[policy]["signature_algs"])
    return key


def _save(path: Path, key: asyncssh.SSHKey) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(key.export_private_key())
    os.replace(tmp, path)


class _Terminal:
    """The shell's terminal over an SSH channel. With a pty, asyncssh's line editor echoes and
    turns LF into CRLF; without one, lines are read as sent."""

    def __init__(self, process: asyncssh.SSHServerProcess) -> None:
        self.process = process
        self.pty = process.get_terminal_type() is not None

    def _echo(self, on: bool) -> None:
        if self.pty:
            try:
                self.process.channel.set_echo(on)
            except (AssertionError, AttributeError, OSError):
                pass

    async def read_line(self, echo: bool = True) -> str:
        if not echo:
            self._echo(False)
        try:
            for _ in range(100):  # a window resize interrupts the read; more than this is abuse
                try:
                    line = await self.process.stdin.readline()
                    break
                except asyncssh.TerminalSizeChanged:
                    continue
            else:
                line = ""
        finally:
            if not echo:
                self._echo(True)
        if not line:
            raise EOFError("the client closed the session")
        return line.rstrip("\r\n")

    def emit(self, text: str) -> None:
        self.process.stdout.write(text.replace("\r\n", "\n"))


class GatedServer(asyncssh.SSHServer):
    """One connection to a unit's SSH port: at most MAX_CONNECTIONS at a time, held while the unit
    boots, password authentication only. A family's server (the camera's) overrides
    validate_password and keeps the rest, so every family refuses and holds connections alike."""

    def __init__(self, front: SshServer) -> None:
        self.front = front
        self.conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self.conn = conn
        if len(self.front.connections) >= MAX_CONNECTIONS:
            asyncio.get_running_loop().call_soon(conn.close)  # busy
            return
        self.front.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self.conn is not None:
            self.front.connections.discard(self.conn)

    async def begin_auth(self, username: str) -> bool:
        # A connection made while the unit boots authenticates once it is up (or is dropped).
        if not await self.front.unit.wait_running(HOLD_TIMEOUT) and self.conn is not None:
            self.conn.close()
        return True

    def password_auth_supported(self) -> bool:
        return True

    async def validate_password(self, username: str, password: str) -> bool:
        outcome = await self.front.unit.login(username, password)
        locked = outcome.result is LoginResult.LOCKED or outcome.lock_seconds is not None
        if locked and self.conn is not None:
            try:  # the only place SSH can say why; the authentication still just fails
                self.conn.send_auth_banner(f"account locked for {shown_seconds(outcome.lock_seconds or 0.0)} s\n")
            except OSError:
                pass
        return outcome.ok


async def _session(front: SshServer, process: asyncssh.SSHServerProcess) -> None:
    term = _Terminal(process)
    shell = Shell(front.unit, term, front.mqtt, after_logout="")
    try:
        if process.command:
            await shell.run_line(process.command)
        else:
            term.emit(f"{WELCOME}\r\n{PROMPT}")
            await shell.run()
    except (EOFError, asyncssh.BreakReceived, asyncssh.TerminalSizeChanged, OSError):  # hang-up
        pass
    process.exit(0)


async def serve(front: SshServer, sock: socket.socket, key: asyncssh.SSHKey) -> None:
    await run_server(sock, key, lambda: GatedServer(front), lambda process: _session(front, process),
                     server_version="SimIoT", algorithms=ALGORITHMS[front.policy])


async def run_server(sock: socket.socket, key: asyncssh.SSHKey, server: Callable[[], asyncssh.SSHServer],
                     session: Callable[[asyncssh.SSHServerProcess], Awaitable[None]], *, server_version: str,
                     algorithms: dict[str, Any]) -> None:
    """One accepted TCP connection, until it has authenticated (the session then goes on by itself)
    or failed; a client that goes away is not news."""
    try:
        await asyncssh.run_server(
            sock, server_factory=server, server_host_keys=[key], process_factory=session,
            compression_algs=["none"], server_version=server_version, login_timeout=LOGIN_TIMEOUT,
            keepalive_interval=0, gss_host=None,  # no GSS-API: no getfqdn() lookup per connection
            allow_scp=False, agent_forwarding=False, x11_forwarding=False, kbdint_auth=False,
            **algorithms)
    except (asyncssh.Error, OSError):
        sock.close()
