"""HTTPS servers of the simulator (the manufacturer's web site, each unit's admin API): stdlib
http.server in a thread of its own, TLS negotiated per connection in that connection's worker
thread with a timeout, so a client that never completes a handshake cannot stall the others."""

from __future__ import annotations

import http.server
import socket
import ssl
import tempfile
import threading
import warnings
from collections.abc import Callable
from pathlib import Path

from harness.sim.certs import LabCertificates

CONNECTION_TIMEOUT = 10.0
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
