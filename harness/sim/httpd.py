"""HTTPS servers of the simulator (the manufacturer's web site, each unit's admin API): stdlib
http.server in a thread of its own, TLS negotiated per connection in that connection's worker
thread with a timeout, so a client that never completes a handshake cannot stall the others."""

from __future__ import annotations

import asyncio
import http.server
import inspect
import socket
import socketserver
import ssl
import tempfile
import threading
import warnings
from collections.abc import Callable
from email.message import Message
from pathlib import Path
from typing import Any

from harness.sim.certs import LabCertificates

CONNECTION_TIMEOUT = 10.0
LOOP_TIMEOUT = 30.0  # a login takes the failed-login delay at most; the loop is never busy longer
# Modern: forward secrecy and AEAD only (TLS 1.3 suites are all AEAD with ECDHE).
MODERN_CIPHERS = "ECDHE+AESGCM:ECDHE+CHACHA20"
# Legacy firmware: whatever OpenSSL still has, CBC and RSA key exchange included; SECLEVEL 0 lets
# TLS 1.0/1.1 sign with SHA-1 and allows the RSA-1024 key. Anonymous and PSK suites stay out: a
# legacy device still presents its certificate.
LEGACY_CIPHERS = "DEFAULT:!aNULL:!PSK:@SECLEVEL=0"


def tls_context(certs: LabCertificates, policy: str = "default") -> ssl.SSLContext:
    """`default`: TLS 1.2+ with OpenSSL's defaults (the web site); `modern`: TLS 1.2+ ECDHE+AEAD;
    `legacy`: TLS 1.0+ with weak suites."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    if policy == "legacy":
        ctx.set_ciphers(LEGACY_CIPHERS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # TLS 1.0 is the point of this device
            ctx.minimum_version = ssl.TLSVersion.TLSv1
    else:
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if policy == "modern":
            ctx.set_ciphers(MODERN_CIPHERS)
    # load_cert_chain only reads files: a private directory that exists for this call only.
    with tempfile.TemporaryDirectory(prefix="simiot-tls-") as tmp:
        cert, key = Path(tmp) / "server.pem", Path(tmp) / "server.key"
        cert.write_bytes(certs.cert_pem)
        key.touch(0o600)
        key.write_bytes(certs.key_pem)
        ctx.load_cert_chain(cert, key)
    return ctx


def content_length(headers: Message) -> int:
    """The declared body length: 0 when absent, -1 when not a number (every caller refuses < 0)."""
    try:
        return int(headers.get("Content-Length") or 0)
    except ValueError:
        return -1


class TlsHttpServer(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], ctx: ssl.SSLContext | None,
                 handler: type[http.server.BaseHTTPRequestHandler],
                 wait_ready: Callable[[float], bool] = lambda timeout: True) -> None:
        super().__init__(address, handler)
        self.ctx = ctx
        # While the device is down (booting) a new connection waits, as in a listen backlog, until
        # the service is up again; dropped if that takes longer than the connection timeout.
        self.wait_ready = wait_ready
        self._thread: threading.Thread | None = None

    def server_bind(self) -> None:
        # http.server names the bound address with socket.getfqdn(): a reverse DNS query on every
        # bind (each power-on). A device answering on an address needs no name for it, and a lab
        # capture must see no packet the harness did not ask for.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def finish_request(self, request: socket.socket, client_address: tuple) -> None:  # type: ignore[override]
        if not self.wait_ready(CONNECTION_TIMEOUT):
            return  # the caller closes the socket
        request.settimeout(CONNECTION_TIMEOUT)
        if self.ctx is None:  # plain HTTP (a device's port 80): the same worker threads, no TLS
            self.RequestHandlerClass(request, client_address, self)
            return
        try:
            tls = self.ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        try:
            self.RequestHandlerClass(tls, client_address, self)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that goes away mid-request is not the device's problem

    def start(self, name: str) -> None:
        self._thread = threading.Thread(target=self.serve_forever, kwargs={"poll_interval": 0.1}, name=name,
                                        daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout=5)
        self.server_close()


class UnitHandler(http.server.BaseHTTPRequestHandler):
    """What the handlers of a unit's own HTTPS service (the hub's admin API, the camera's web
    server) share: they run in http.server's threads while the unit lives on the simulator's event
    loop (it is not thread-safe), and they answer with no-store bodies. A family routes
    (`_route`) and words its answers; kept in one place so the two cannot differ in how a
    request reaches the unit or in the headers a check reads."""

    server: Any  # a TlsHttpServer with the simulator's event loop as `loop`
    sys_version = ""
    timeout = CONNECTION_TIMEOUT

    def _on_loop(self, fn: Callable[..., Any], *args: Any) -> Any:
        """fn(*args) on the event loop, awaited if it is a coroutine; RuntimeError or TimeoutError
        when the simulator is stopping."""
        async def call() -> Any:
            result = fn(*args)
            return await result if inspect.isawaitable(result) else result
        return asyncio.run_coroutine_threadsafe(call(), self.server.loop).result(timeout=LOOP_TIMEOUT)

    def _reply(self, status: int, data: bytes, content_type: str, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _route(self, method: str) -> None:
        raise NotImplementedError

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self._route("GET")

    def do_HEAD(self) -> None:  # noqa: N802 - http.server API
        self._route("GET")

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        self._route("POST")

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server API
        pass
