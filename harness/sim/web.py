"""The HTTPS front-end: the manufacturer's documents on 127.0.0.1, in a thread of its own.

TLS is set up per connection in the connection's worker thread, so a client that connects and never
completes a handshake cannot stall the server."""

from __future__ import annotations

import http.server
import socket
import ssl
import tempfile
import threading
import urllib.parse
from pathlib import Path

from harness.sim.certs import LabCertificates
from harness.sim.documents import Document

CONNECTION_TIMEOUT = 10.0


def _tls_context(certs: LabCertificates) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    # load_cert_chain only reads files: a private directory that exists for this call only.
    with tempfile.TemporaryDirectory(prefix="simiot-tls-") as tmp:
        cert, key = Path(tmp) / "server.pem", Path(tmp) / "server.key"
        cert.write_bytes(certs.cert_pem)
        key.touch(0o600)
        key.write_bytes(certs.key_pem)
        ctx.load_cert_chain(cert, key)
    return ctx


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, ctx: ssl.SSLContext, docs: dict[str, Document]) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.ctx = ctx
        self.docs = docs

    def finish_request(self, request: socket.socket, client_address: tuple) -> None:  # type: ignore[override]
        request.settimeout(CONNECTION_TIMEOUT)
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


class _Handler(http.server.BaseHTTPRequestHandler):
    server: _Server
    server_version = "SimIoT-httpd/1.4.2"
    sys_version = ""
    timeout = CONNECTION_TIMEOUT

    def _send(self, head_only: bool) -> None:
        path = urllib.parse.urlsplit(self.path).path
        doc = self.server.docs.get(path)
        if doc is None:
            self.send_error(404)
            return
        data = doc.body.encode()
        self.send_response(200)
        self.send_header("Content-Type", doc.content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if not head_only:
            self.wfile.write(data)

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        self._send(head_only=False)

    def do_HEAD(self) -> None:  # noqa: N802 - http.server API
        self._send(head_only=True)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server API
        pass


class WebServer:
    def __init__(self, certs: LabCertificates) -> None:
        self._server = _Server(_tls_context(certs), {})
        self.port = self._server.server_address[1]
        self.base_url = f"https://127.0.0.1:{self.port}"
        self._thread: threading.Thread | None = None

    def serve(self, docs: dict[str, Document]) -> None:
        """Documents are given after binding: they contain the server's own URL."""
        self._server.docs = docs
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.1},
                                        name="sim-https", daemon=True)
        self._thread.start()

    def close(self) -> None:
        if self._thread is not None:
            self._server.shutdown()
            self._thread.join(timeout=5)
        self._server.server_close()
