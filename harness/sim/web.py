"""The manufacturer's web site: its published documents on 127.0.0.1 (not on a unit: it is not the
device), served by `harness.sim.httpd` in a thread of its own."""

from __future__ import annotations

import http.server
import urllib.parse

from harness.sim.certs import LabCertificates
from harness.sim.documents import Document
from harness.sim.httpd import CONNECTION_TIMEOUT, TlsHttpServer, tls_context


class _Server(TlsHttpServer):
    def __init__(self, certs: LabCertificates, docs: dict[str, Document]) -> None:
        super().__init__(("127.0.0.1", 0), tls_context(certs), _Handler)
        self.docs = docs


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
        self._server = _Server(certs, {})
        self.port = self._server.server_address[1]
        self.base_url = f"https://127.0.0.1:{self.port}"

    def serve(self, docs: dict[str, Document]) -> None:
        """Documents are given after binding: they contain the server's own URL."""
        self._server.docs = docs
        self._server.start("sim-https")

    def close(self) -> None:
        self._server.close()
