"""SSH: what a server offers (ssh-audit, as a library) and password login probes (asyncssh).

Algorithm enumeration uses ssh-audit's own protocol code rather than a handshake per algorithm:
the server lists every algorithm it accepts in its KEXINIT, which ssh-audit reads and parses
(``SSH_Socket``, ``SSH2_Kex.parse``), and ssh-audit's ``HostKeyTest`` fetches each host key
type to learn its size. That is the same code ``ssh-audit -j`` runs, minus its output layer, its
group-exchange modulus probes and its DHEat connection-rate test (38 connections in 1.5 s, which
a small device may take for an attack). The judgement (``harness.checks.crypto.judge_ssh``) then
reads ssh-audit's algorithm database.

ssh-audit is an application, not a library: its socket code may call ``sys.exit`` on a malformed
packet and keeps a per-thread copy of its database. So the audit runs in a worker thread of its
own (a SystemExit there ends only that thread; the copy is dropped with ``thread_exit``) under an
overall deadline, after which its socket is closed from outside.

Login probes use asyncssh with password authentication only: no agent, no client keys, no
OpenSSH config files, no host key checking (the device's key is not known in advance), and every
algorithm asyncssh implements enabled, so a legacy device can still be logged in to.
"""

from __future__ import annotations

import asyncio
import re
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

from harness.checks.crypto import HostKeyFact, SshFacts
from harness.links.base import LinkError
from harness.redact import REDACTOR
from harness.scope import Scope

LOGIN_OUTCOMES = ("ok", "rejected", "timeout", "error")
_RSA_FAMILY = ("ssh-rsa", "rsa-sha2-256", "rsa-sha2-512")
_MAX_BANNER_BYTES = 8192  # RFC 4253 4.2: lines before the identification string are allowed


class SshUnreachable(LinkError):
    """No SSH server answered at host:port (refused, silent, not SSH): nothing to judge."""


# --- algorithm assessment (ssh-audit) ---------------------------------------------------------------

def assess_ssh(host: str, port: int = 22, *, scope: Scope, timeout: float = 10.0,
               deadline: float | None = None) -> SshFacts:
    """What the SSH server offers: banner, kex, host key algorithms and sizes, ciphers, MACs,
    compression. ``timeout`` bounds each network operation, ``deadline`` the whole audit (default
    8 × timeout: one connection for the offer and one per host key type)."""
    address = scope.check_target(host, port)
    box: dict[str, Any] = {}

    def work() -> None:
        from ssh_audit.ssh2_kexdb import SSH2_KexDB

        try:
            box["facts"] = _audit(address, port, timeout, box)
        except BaseException as exc:  # SystemExit from ssh-audit included: reported, not fatal
            box["error"] = exc
        finally:
            SSH2_KexDB.thread_exit()

    t0 = time.monotonic()
    worker = threading.Thread(target=work, name=f"ssh-audit-{address}:{port}", daemon=True)
    worker.start()
    budget = deadline if deadline is not None else 8 * timeout
    worker.join(budget)
    if worker.is_alive():
        sock = box.get("socket")
        if sock is not None:
            sock.close()  # ends a read the server keeps feeding; every other step has its timeout
        raise SshUnreachable(f"SSH audit of {address}:{port} did not finish within {budget:g} s")
    if "error" in box:
        exc = box["error"]
        if isinstance(exc, LinkError):
            raise exc
        raise SshUnreachable(f"SSH audit of {address}:{port} failed: {exc!r}") from exc
    facts: SshFacts = box["facts"]
    facts.seconds = round(time.monotonic() - t0, 3)
    return facts


def _audit(address: str, port: int, timeout: float, box: dict[str, Any]) -> SshFacts:
    import ssh_audit.globals as sa_globals
    from ssh_audit.fingerprint import Fingerprint
    from ssh_audit.hostkeytest import HostKeyTest
    from ssh_audit.outputbuffer import OutputBuffer
    from ssh_audit.protocol import Protocol
    from ssh_audit.ssh2_kex import SSH2_Kex
    from ssh_audit.ssh_socket import SSH_Socket

    out = OutputBuffer(buffer_output=True)  # ssh-audit's messages stay in memory, never on stdout
    sock = SSH_Socket(out, address, port, timeout=timeout, timeout_set=True)
    box["socket"] = sock
    try:
        err = sock.connect()
        if err is not None:
            raise SshUnreachable(f"{address}:{port}: {err}")
        banner, _header, err = sock.get_banner()
        if banner is None:
            raise SshUnreachable(f"{address}:{port} sent no SSH identification string ({err or 'closed'})")
        facts = SshFacts(host=address, port=port, banner=str(banner),
                         protocol=".".join(str(n) for n in banner.protocol), software=banner.software,
                         scanner=f"ssh-audit {sa_globals.VERSION} (library)")
        if banner.protocol[0] == 1 and banner.protocol[1] != 99:
            facts.errors["algorithms"] = "the server speaks SSH protocol 1 only: no SSH-2 offer to read"
            return facts
        sock.send_kexinit()
        packet_type, payload = sock.read_packet()
        if packet_type != Protocol.MSG_KEXINIT:
            facts.errors["algorithms"] = (f"expected KEXINIT, got message {packet_type}: "
                                          f"{payload[:120]!r}")
            return facts
        kex = SSH2_Kex.parse(out, payload)
        facts.kex = list(kex.kex_algorithms)
        facts.host_key_algorithms = list(kex.key_algorithms)
        # The offer has a list per direction; ssh-audit judges server-to-client. A device that
        # offers more one way is judged on the union.
        facts.ciphers = list(dict.fromkeys([*kex.server.encryption, *kex.client.encryption]))
        facts.macs = list(dict.fromkeys([*kex.server.mac, *kex.client.mac]))
        facts.compression = list(dict.fromkeys([*kex.server.compression, *kex.client.compression]))
        try:
            HostKeyTest.run(out, sock, kex)
        except Exception as exc:  # one failed key fetch must not lose the offer already read
            facts.errors["host_keys"] = f"ssh-audit host key test failed: {exc!r}"
        for alg, info in kex.host_keys().items():
            raw = info.get("raw_hostkey_bytes") or b""
            facts.host_keys.append(HostKeyFact(
                algorithm=alg, key_bits=int(info.get("hostkey_size") or 0) or None,
                ca_type=str(info.get("ca_key_type") or "") or None, ca_bits=int(info.get("ca_key_size") or 0) or None,
                sha256=Fingerprint(raw).sha256 if raw else None))  # type: ignore[arg-type]
        fetched = {k.algorithm for k in facts.host_keys}
        if any(a in _RSA_FAMILY for a in facts.host_key_algorithms) and not fetched & set(_RSA_FAMILY):
            facts.errors.setdefault("host_keys", "ssh-audit could not fetch the RSA host key "
                                                 "(no key exchange it implements is offered)")
        return facts
    finally:
        sock.close()


# --- login probes (asyncssh) ------------------------------------------------------------------------

@dataclass
class LoginProbe:
    outcome: str  # one of LOGIN_OUTCOMES
    detail: str = ""
    alive: bool | None = None  # the server answered right after the attempt (see ssh_login)
    seconds: float | None = None


def _all_algorithms() -> dict[str, list[str]]:
    from asyncssh.compression import get_compression_algs
    from asyncssh.encryption import get_encryption_algs
    from asyncssh.kex import get_kex_algs
    from asyncssh.mac import get_mac_algs
    from asyncssh.public_key import get_public_key_algs

    def names(algs: list[bytes]) -> list[str]:
        return [a.decode() for a in algs if not a.startswith(b"gss-")]  # GSS needs a Kerberos realm

    return {"kex_algs": names(get_kex_algs()), "encryption_algs": names(get_encryption_algs()),
            "mac_algs": names(get_mac_algs()), "compression_algs": names(get_compression_algs()),
            "server_host_key_algs": names(get_public_key_algs())}


async def ssh_login_async(host: str, port: int, username: str, password: str, *, scope: Scope,
                          timeout: float = 10.0) -> LoginProbe:
    """One password login attempt. See ssh_login."""
    import asyncssh

    address = scope.check_target(host, port)
    t0 = time.monotonic()

    def probe(outcome: str, detail: str, alive: bool | None) -> LoginProbe:
        # The server's own words may quote what it was sent: redact before anything keeps them.
        return LoginProbe(outcome, REDACTOR.redact(detail), alive, round(time.monotonic() - t0, 3))

    banners: list[str] = []

    class _Client(asyncssh.SSHClient):
        # A server may say why it refuses in an authentication banner (e.g. "account locked for
        # 30 s"): then the password was not evaluated, and the refusal is a lockout.
        def auth_banner_received(self, msg: str, lang: str) -> None:
            banners.append(msg.strip())

    try:
        async with asyncio.timeout(timeout):
            conn = await asyncssh.connect(
                address, port, username=username, password=password, known_hosts=None, client_keys=None,
                agent_path=None, preferred_auth=("password",), config=None, gss_host=None,
                connect_timeout=timeout, login_timeout=timeout, client_factory=_Client, **_all_algorithms())
            try:
                version = conn.get_extra_info("server_version") or ""
            finally:
                conn.close()
                await conn.wait_closed()
            return probe("ok", f"password accepted for {username!r} ({version})", True)
    except asyncssh.PermissionDenied as exc:
        # The server answered our request with SSH_MSG_USERAUTH_FAILURE: a refusal it showed.
        alive = await asyncio.to_thread(ssh_banner_alive, address, port, timeout)
        said = "; ".join(banners)
        if re.search(r"\block", said, re.I):
            return probe("locked", f"server banner: {said}", alive)
        return probe("rejected", f"authentication failed for {username!r}: {exc.reason}"
                     + (f" (banner: {said})" if said else ""), alive)
    except TimeoutError:
        return probe("timeout", f"no answer within {timeout:g} s", None)
    except (asyncssh.Error, OSError) as exc:
        return probe("error", f"{type(exc).__name__}: {exc}", None)


def ssh_login(host: str, port: int, username: str, password: str, *, scope: Scope,
              timeout: float = 10.0) -> LoginProbe:
    """One password login attempt on host:port.

    ``ok``: the server accepted the password. ``rejected``: the server answered with an
    authentication failure; ``alive`` then says whether it also answered a fresh connection
    right after (its SSH identification string within ``timeout``), which is the proof of life a
    refusal needs before it counts. ``timeout``: no SSH answer in time (e.g. a port that accepts
    TCP and never speaks). ``error``: connection refused or reset, key exchange failure, any
    other protocol error. The password is never logged, and is redacted from ``detail``.
    """
    return asyncio.run(ssh_login_async(host, port, username, password, scope=scope, timeout=timeout))


def ssh_banner_alive(address: str, port: int, timeout: float) -> bool:
    """True when a fresh TCP connection to address:port gets an SSH identification string."""
    deadline = time.monotonic() + timeout
    try:
        with socket.create_connection((address, port), timeout=timeout) as sock:
            data = b""
            while len(data) < _MAX_BANNER_BYTES:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                sock.settimeout(left)
                chunk = sock.recv(1024)
                if not chunk:
                    return False
                data += chunk
                if any(line.startswith(b"SSH-") for line in data.split(b"\n")):
                    return True
    except OSError:
        return False
    return False


__all__ = ["LOGIN_OUTCOMES", "LoginProbe", "SshFacts", "SshUnreachable", "assess_ssh", "ssh_banner_alive",
           "ssh_login", "ssh_login_async"]
