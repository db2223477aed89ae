"""SSH assessment and login probes against real asyncssh servers on 127.0.0.1 started here.

A modern server (curve25519, Ed25519, AEAD/CTR ciphers, EtM MACs, strict kex) PASSes ssh-audit's
judgement; a legacy one (group1/group14-sha1, ssh-rsa with a 1024-bit key, CBC/3DES, hmac-sha1)
FAILs with exactly those findings. Login probes: ok, rejected (with proof of life, and without),
timeout on a port that accepts TCP and never speaks, error on a closed port.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import asyncssh
import pytest

from harness.checks.crypto import judge_ssh
from harness.links.ssh import SshUnreachable, assess_ssh, ssh_login
from harness.scope import OutOfScope, Scope
from harness.verdict import Verdict

pytestmark = pytest.mark.integration
LOOPBACK = Scope(["127.0.0.0/8"])
PASSWORD = "Corr3ct-Horse-Battery"

MODERN = dict(kex_algs=["curve25519-sha256", "curve25519-sha256@libssh.org"],
              encryption_algs=["chacha20-poly1305@openssh.com", "aes256-gcm@openssh.com", "aes128-ctr"],
              mac_algs=["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com"])
LEGACY = dict(kex_algs=["diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1"],
              encryption_algs=["aes128-cbc", "3des-cbc"], mac_algs=["hmac-sha1"], signature_algs=["ssh-rsa"])


class Loop:
    """One asyncio loop in a thread for every server of this module."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    def run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def stop(self) -> None:
        # End every connection task inside the loop, so none is finalised later by the garbage
        # collector at a random moment.
        async def shutdown() -> None:
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.run(shutdown(), timeout=10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def server_class(on_reject: Any = None) -> type[asyncssh.SSHServer]:
    class Server(asyncssh.SSHServer):
        def begin_auth(self, username: str) -> bool:
            return True

        def password_auth_supported(self) -> bool:
            return True

        def validate_password(self, username: str, password: str) -> bool:
            if password == PASSWORD:
                return True
            if on_reject:
                on_reject()
            return False

    return Server


@pytest.fixture(scope="module")
def loop() -> Iterator[Loop]:
    loop = Loop()
    yield loop
    loop.stop()


def start(loop: Loop, key: asyncssh.SSHKey, options: dict[str, Any], on_reject: Any = None) -> Any:
    async def create() -> Any:
        return await asyncssh.create_server(server_class(on_reject), "127.0.0.1", 0, server_host_keys=[key],
                                            **options)

    return loop.run(create())


@pytest.fixture(scope="module")
def modern_port(loop: Loop) -> Iterator[int]:
    server = start(loop, asyncssh.generate_private_key("ssh-ed25519"), MODERN)
    yield server.sockets[0].getsockname()[1]
    server.close()


@pytest.fixture(scope="module")
def legacy_port(loop: Loop) -> Iterator[int]:
    server = start(loop, asyncssh.generate_private_key("ssh-rsa", key_size=1024), LEGACY)
    yield server.sockets[0].getsockname()[1]
    server.close()


@pytest.fixture
def silent_port() -> Iterator[int]:
    """Accepts TCP connections and never sends a byte."""
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join(5)
    for conn in held:
        conn.close()
    listener.close()


@pytest.fixture
def closed_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        yield sock.getsockname()[1]


def findings(result) -> list[str]:
    return [e.name for e in result.evidence if e.kind == "finding"]


# --- assessment -----------------------------------------------------------------------------------

def test_modern_server_passes(modern_port):
    facts = assess_ssh("127.0.0.1", modern_port, scope=LOOPBACK, timeout=5)
    print(f"\nssh-audit (library) on the modern server: {facts.seconds:.3f} s")
    assert facts.banner.startswith("SSH-2.0-AsyncSSH_") and facts.errors == {}
    assert facts.kex[:2] == ["curve25519-sha256", "curve25519-sha256@libssh.org"]
    assert facts.host_key_algorithms == ["ssh-ed25519"]
    assert [(k.algorithm, k.key_bits) for k in facts.host_keys] == [("ssh-ed25519", 256)]
    result = judge_ssh(facts)
    assert result.verdict == Verdict.PASS, result.reason


def test_legacy_server_fails_with_the_right_findings(legacy_port):
    facts = assess_ssh("127.0.0.1", legacy_port, scope=LOOPBACK, timeout=5)
    print(f"\nssh-audit (library) on the legacy server: {facts.seconds:.3f} s")
    assert {k.key_bits for k in facts.host_keys} == {1024}
    result = judge_ssh(facts)
    assert result.verdict == Verdict.FAIL
    found = findings(result)
    for expected in (
        "ssh-audit: host key algorithm ssh-rsa: using broken SHA-1 hash algorithm",
        "ssh-audit: key exchange diffie-hellman-group1-sha1: using small 1024-bit modulus",
        "ssh-audit: key exchange diffie-hellman-group14-sha1: using broken SHA-1 hash algorithm",
        "ssh-audit: MAC hmac-sha1: using broken SHA-1 hash algorithm",
        "ssh-audit: cipher aes128-cbc: using weak cipher mode",
        "ssh-audit: cipher 3des-cbc: using broken & deprecated 3DES cipher",
    ):
        assert expected in found, (expected, found)
    assert any(f.startswith("ssh-audit: RSA host key 1024 bits < 2048") for f in found)


def test_silent_or_closed_port_is_a_lab_fault(silent_port, closed_port):
    t0 = time.monotonic()
    with pytest.raises(SshUnreachable, match="no SSH identification string"):
        assess_ssh("127.0.0.1", silent_port, scope=LOOPBACK, timeout=1)
    assert time.monotonic() - t0 < 5
    with pytest.raises(SshUnreachable, match="cannot connect"):
        assess_ssh("127.0.0.1", closed_port, scope=LOOPBACK, timeout=1)


def test_out_of_scope_is_refused(modern_port):
    with pytest.raises(OutOfScope):
        assess_ssh("127.0.0.1", modern_port, scope=Scope(["10.0.0.0/8"]))
    with pytest.raises(OutOfScope):
        ssh_login("127.0.0.1", modern_port, "root", PASSWORD, scope=Scope(["10.0.0.0/8"]))
    ssh_only = Scope(["127.0.0.0/8"], ports={"127.0.0.1": {"tcp/22"}})
    with pytest.raises(OutOfScope, match="outside the declared ports"):
        assess_ssh("127.0.0.1", modern_port, scope=ssh_only)
    with pytest.raises(OutOfScope, match="outside the declared ports"):
        ssh_login("127.0.0.1", modern_port, "root", PASSWORD, scope=ssh_only)


# --- login probes ---------------------------------------------------------------------------------

def test_login_ok_on_modern_and_legacy(modern_port, legacy_port):
    for port in (modern_port, legacy_port):  # legacy: every algorithm asyncssh has is offered
        probe = ssh_login("127.0.0.1", port, "root", PASSWORD, scope=LOOPBACK, timeout=5)
        assert (probe.outcome, probe.alive) == ("ok", True), probe


def test_login_rejected_with_proof_of_life(modern_port):
    probe = ssh_login("127.0.0.1", modern_port, "root", "wrong-password", scope=LOOPBACK, timeout=5)
    assert probe.outcome == "rejected" and probe.alive is True
    assert "authentication failed" in probe.detail


def test_login_rejected_then_dead_is_not_proven_alive(loop):
    box: dict[str, Any] = {}
    server = start(loop, asyncssh.generate_private_key("ssh-ed25519"), MODERN,
                   on_reject=lambda: box["server"].close())  # the listener dies with the refusal
    box["server"] = server
    port = server.sockets[0].getsockname()[1]
    probe = ssh_login("127.0.0.1", port, "root", "wrong-password", scope=LOOPBACK, timeout=3)
    assert probe.outcome == "rejected" and probe.alive is False


def test_login_timeout_on_a_silent_port(silent_port):
    t0 = time.monotonic()
    probe = ssh_login("127.0.0.1", silent_port, "root", PASSWORD, scope=LOOPBACK, timeout=1)
    assert (probe.outcome, probe.alive) == ("timeout", None)
    assert time.monotonic() - t0 < 4


def test_login_error_on_a_closed_port(closed_port):
    probe = ssh_login("127.0.0.1", closed_port, "root", PASSWORD, scope=LOOPBACK, timeout=2)
    assert (probe.outcome, probe.alive) == ("error", None)


def test_password_is_never_logged(modern_port, caplog):
    caplog.set_level(logging.DEBUG)
    asyncssh.set_debug_level(3)
    try:
        probes = [ssh_login("127.0.0.1", modern_port, "root", pw, scope=LOOPBACK, timeout=5)
                  for pw in (PASSWORD, "Wr0ng-Secret-Value")]
    finally:
        asyncssh.set_debug_level(1)
    assert [p.outcome for p in probes] == ["ok", "rejected"]
    assert any(r.name.startswith("asyncssh") for r in caplog.records)  # the logs were really captured
    for secret in (PASSWORD, "Wr0ng-Secret-Value"):
        assert secret not in caplog.text
        assert all(secret not in repr(p) for p in probes)
