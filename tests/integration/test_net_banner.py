"""Banner grabbing inside a namespace this module creates: plain, TLS, and the decision between."""

from __future__ import annotations

import secrets
import socket
import ssl
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_net_support import Server, listen, ns, tls_server_context, until_eof  # noqa: F401

from harness.net import ProbeError, grab_banner
from harness.net.banner import looks_like_tls
from harness.net.netns import Namespace
from harness.redact import MASK, REDACTOR
from harness.scope import Scope

pytestmark = pytest.mark.integration

ADDRESS = "127.0.0.1"
SCOPE = Scope([ADDRESS])
SSH = b"SSH-2.0-SimIoT_7.4p1 Debian\r\n"
TLS_ALERT = bytes([0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x46])  # fatal protocol_version


@pytest.fixture(scope="module")
def server_ctx(tmp_path_factory: pytest.TempPathFactory) -> ssl.SSLContext:
    return tls_server_context(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def serve(ns: Namespace) -> Iterator[Callable[..., Server]]:  # noqa: F811
    servers: list[Server] = []

    def start(handler: Callable[[socket.socket], None], count: int = 4) -> Server:
        servers.append(Server(listen(ns, ADDRESS), handler, count))
        return servers[-1]

    yield start
    for s in servers:
        s.close()


def test_plain_banner_is_read_and_tls_not_tried(ns: Namespace, serve: Callable[..., Server]) -> None:  # noqa: F811
    def ssh(conn: socket.socket) -> None:
        conn.sendall(SSH)
        until_eof(conn)

    server = serve(ssh)
    with ns.entered():
        banner = grab_banner(ADDRESS, server.port, scope=SCOPE, timeout=1.0)
    assert banner.data == SSH and banner.text == SSH.decode() and not banner.tls
    assert "TLS not tried" in banner.note


def test_reply_to_a_sent_probe(ns: Namespace, serve: Callable[..., Server]) -> None:  # noqa: F811
    def http(conn: socket.socket) -> None:
        if conn.recv(1024).startswith(b"HEAD /"):
            conn.sendall(b"HTTP/1.0 200 OK\r\nServer: simiot-httpd/1.2\r\n\r\n")

    server = serve(http)
    with ns.entered():
        banner = grab_banner(ADDRESS, server.port, scope=SCOPE, timeout=1.0, send=b"HEAD / HTTP/1.0\r\n\r\n")
    assert banner.text.startswith("HTTP/1.0 200 OK") and "simiot-httpd/1.2" in banner.text and not banner.tls


def test_silent_tls_service_is_read_over_tls(ns: Namespace, serve: Callable[..., Server],  # noqa: F811
                                             server_ctx: ssl.SSLContext) -> None:
    def tls_first_speaker(conn: socket.socket) -> None:
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                tls.sendall(b"220 simiot secure console ready\r\n")
                until_eof(tls)
        except (ssl.SSLError, OSError):
            pass  # the plain attempt is not TLS; it is expected to fail here

    server = serve(tls_first_speaker)
    with ns.entered():
        banner = grab_banner(ADDRESS, server.port, scope=SCOPE, timeout=0.5)
    assert banner.tls and banner.text == "220 simiot secure console ready\r\n"
    assert banner.tls_version in ("TLSv1.2", "TLSv1.3") and banner.cipher
    assert banner.note.startswith("plain read got nothing")


def test_https_answering_plaintext_is_recognised(ns: Namespace, serve: Callable[..., Server],  # noqa: F811
                                                 server_ctx: ssl.SSLContext) -> None:
    def https(conn: socket.socket) -> None:
        try:
            with server_ctx.wrap_socket(conn, server_side=True) as tls:
                if tls.recv(1024).startswith(b"HEAD /"):
                    tls.sendall(b"HTTP/1.1 200 OK\r\nServer: simiot\r\n\r\n")
        except (ssl.SSLError, OSError):
            pass

    server = serve(https)
    with ns.entered():
        banner = grab_banner(ADDRESS, server.port, scope=SCOPE, timeout=1.0, send=b"HEAD / HTTP/1.0\r\n\r\n")
    assert banner.tls and banner.text.startswith("HTTP/1.1 200 OK")


def test_tls_alert_bytes_from_a_plain_service(ns: Namespace, serve: Callable[..., Server]) -> None:  # noqa: F811
    # Looks like TLS, is not: TLS is tried, fails, and the plain bytes stand.
    def fake(conn: socket.socket) -> None:
        conn.sendall(TLS_ALERT)

    server = serve(fake)
    with ns.entered():
        banner = grab_banner(ADDRESS, server.port, scope=SCOPE, timeout=0.5)
    assert looks_like_tls(TLS_ALERT) and not looks_like_tls(SSH)
    assert not banner.tls and banner.data == TLS_ALERT and banner.text.startswith("\\x15")
    assert "got a TLS record" in banner.note and "TLS handshake failed" in banner.note


def test_silent_plain_service(ns: Namespace, serve: Callable[..., Server]) -> None:  # noqa: F811
    server = serve(until_eof)
    with ns.entered():
        banner = grab_banner(ADDRESS, server.port, scope=SCOPE, timeout=0.4)
    assert banner.data == b"" and not banner.tls and "TLS handshake failed" in banner.note


def test_banner_is_bounded_and_redacted(ns: Namespace, serve: Callable[..., Server]) -> None:  # noqa: F811
    secret = "bench-" + secrets.token_hex(8)
    REDACTOR.add(secret, "test_banner_secret")

    def chatty(conn: socket.socket) -> None:
        conn.sendall(f"login key {secret}\r\n".encode() + b"\x00\x1b[0m" + b"A" * 100_000)

    server = serve(chatty)
    with ns.entered():
        banner = grab_banner(ADDRESS, server.port, scope=SCOPE, timeout=1.0, limit=512)
    assert len(banner.data) == 512 and secret.encode() in banner.data
    assert secret not in banner.text and MASK in banner.text and "\\x00\\x1b[0m" in banner.text


def test_closed_port_is_a_lab_fault(ns: Namespace) -> None:  # noqa: F811
    gone = listen(ns, ADDRESS)
    port = gone.getsockname()[1]
    gone.close()
    with ns.entered(), pytest.raises(ProbeError, match="connection refused"):
        grab_banner(ADDRESS, port, scope=SCOPE, timeout=0.5)


def test_tls_context_reads_without_verifying(tmp_path: Path) -> None:
    from harness.net.banner import _tls_context

    ctx = _tls_context()
    assert ctx.verify_mode == ssl.CERT_NONE and not ctx.check_hostname
