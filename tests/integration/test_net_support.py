"""Helpers for the network probe tests (no tests here): a namespace per module, listeners and
small servers made inside it. Every server thread is bounded in connections and time."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from harness.net.netns import Namespace, availability

SERVE_TIMEOUT = 10.0


@pytest.fixture(scope="module")
def ns() -> Iterator[Namespace]:
    ok, why = availability()
    if not ok:
        pytest.skip(f"network namespaces unavailable: {why}")
    with Namespace.create("harness-test") as namespace:
        yield namespace


def listen(ns: Namespace, address: str, port: int = 0, *, backlog: int = 16,
           kind: socket.SocketKind = socket.SOCK_STREAM) -> socket.socket:
    """A socket bound (and for TCP listening) at ``address:port`` inside ``ns``."""
    with ns.entered():
        sock = socket.socket(socket.AF_INET, kind)
    sock.bind((address, port))
    if kind == socket.SOCK_STREAM:
        sock.listen(backlog)
    return sock


def pending_connection(listener: socket.socket) -> tuple[str, int] | None:
    """The peer of a connection waiting in the listener's queue, or None: proof of contact."""
    listener.setblocking(False)
    try:
        conn, peer = listener.accept()
    except BlockingIOError:
        return None
    conn.close()
    return peer


class Server:
    """Accept up to ``count`` connections on ``listener`` in a thread; ``handler(conn)`` each."""

    def __init__(self, listener: socket.socket, handler: Callable[[socket.socket], None], count: int = 4) -> None:
        self.listener = listener
        self.handler = handler
        self.count = count
        self.errors: list[BaseException] = []
        self.listener.settimeout(SERVE_TIMEOUT)
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.listener.getsockname()[1]

    def _run(self) -> None:
        for _ in range(self.count):
            try:
                conn, _ = self.listener.accept()
            except OSError:
                return  # closed by close(), or nobody came within SERVE_TIMEOUT
            with conn:
                conn.settimeout(SERVE_TIMEOUT)
                try:
                    self.handler(conn)
                except (OSError, ssl.SSLError) as exc:
                    self.errors.append(exc)

    def close(self) -> None:
        # shutdown() wakes a thread blocked in accept(); close() alone does not on Linux.
        try:
            self.listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.listener.close()
        self.thread.join(SERVE_TIMEOUT)


def until_eof(conn: socket.socket, limit: int = 1 << 16) -> bytes:
    data = b""
    while len(data) < limit:
        chunk = conn.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


def tls_server_context(tmp: Path) -> ssl.SSLContext:
    from harness.sim.certs import make_lab_certificates  # a lab CA and 127.0.0.1 certificate

    certs = make_lab_certificates()
    cert, key = tmp / "cert.pem", tmp / "key.pem"
    cert.write_bytes(certs.cert_pem)
    key.write_bytes(certs.key_pem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    return ctx
