"""The harness's own package server: a device told to fetch an update (by MQTT, say) gets it here.

Each offered package has an unguessable URL, and every fetch is recorded (client, status, bytes,
whether the transfer completed), so an update test can tell "the device refused the package it
downloaded" from "the device never fetched it" — silence is not a refusal.

Standard library http.server: one file, a few requests per test. Plain HTTP by default; HTTPS
with a certificate from the lab CA for devices that refuse ``http://`` update URLs
(``https_context``): the devices must trust that CA, as they trust it for the lab broker.
"""

from __future__ import annotations

import secrets
import ssl
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

_MAX_RECORDS = 1000
_CHUNK = 64 << 10


@dataclass(frozen=True)
class Fetch:
    path: str
    client: str
    at: str  # wall-clock UTC
    method: str
    status: int
    bytes_sent: int
    complete: bool


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # A failed TLS handshake or a client gone mid-request is recorded as a Fetch, not printed.
        return


def https_context(ca: Any, host: str, workdir: str | Path) -> ssl.SSLContext:
    """A server context with a certificate for ``host`` issued by the lab CA (a harness.lab.LabCA)."""
    cert, key = ca.issue_server_cert([host], workdir, name="package-server")
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(cert, key)
    return ctx


class PackageServer:
    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, tls: ssl.SSLContext | None = None) -> None:
        self.host = host
        self.port = port
        self.tls = tls
        self._packages: dict[str, bytes] = {}
        self._fetches: deque[Fetch] = deque(maxlen=_MAX_RECORDS)
        self._cond = threading.Condition()
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle -------------------------------------------------------------------------------
    def start(self) -> PackageServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            server_version = "iot-harness-packages"
            sys_version = ""

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - stdlib name
                return  # fetches are recorded, not printed

            def do_HEAD(self) -> None:  # noqa: N802 - stdlib name
                server._serve(self, body=False)

            def do_GET(self) -> None:  # noqa: N802 - stdlib name
                server._serve(self, body=True)

            def setup(self) -> None:
                # The TLS handshake runs here, in the request's own thread, bounded: a client that
                # connects and never speaks cannot hold the server.
                if server.tls is not None:
                    self.request.settimeout(10.0)
                    try:
                        self.request = server.tls.wrap_socket(self.request, server_side=True)
                    except (ssl.SSLError, OSError) as exc:
                        server._record_tls_failure(self.client_address[0], exc)
                        raise
                super().setup()

        self._httpd = _QuietServer((self.host, self.port), Handler)
        self._httpd.daemon_threads = True
        self.port = self._httpd.server_address[1]
        httpd = self._httpd
        # The poll interval only bounds how long close() takes to be noticed; requests are served
        # as they arrive.
        self._thread = threading.Thread(target=lambda: httpd.serve_forever(poll_interval=0.05),
                                        name="package-server", daemon=True)
        self._thread.start()
        return self

    def close(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> PackageServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- packages --------------------------------------------------------------------------------
    @property
    def base_url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{'https' if self.tls is not None else 'http'}://{host}:{self.port}"

    def offer(self, data: bytes, name: str = "firmware.bin") -> str:
        """Serve ``data`` at a fresh unguessable URL and return it."""
        path = f"/fw/{secrets.token_urlsafe(12)}/{quote(name)}"
        with self._cond:
            self._packages[path] = bytes(data)
        return self.base_url + path

    def withdraw(self, url: str) -> None:
        with self._cond:
            self._packages.pop(urlsplit(url).path, None)

    def fetches(self, url: str | None = None) -> list[Fetch]:
        path = urlsplit(url).path if url else None
        with self._cond:
            return [f for f in self._fetches if path is None or f.path == path]

    def wait_for_fetch(self, url: str, timeout: float) -> Fetch | None:
        """The first completed GET of ``url``, or None if none completed within ``timeout``."""
        return self._wait(url, timeout, lambda f: f.method == "GET" and f.complete)

    def wait_for_request(self, url: str, timeout: float) -> Fetch | None:
        """The first request of any kind for ``url`` (a HEAD, a 404, a broken transfer)."""
        return self._wait(url, timeout, lambda f: True)

    def wait_for_tls_failure(self, timeout: float) -> Fetch | None:
        """The first failed TLS handshake (a client that did not trust the lab certificate)."""
        return self._wait("", timeout, lambda f: f.method.startswith("TLS handshake failed"))

    def _wait(self, url: str, timeout: float, accept: Callable[[Fetch], bool]) -> Fetch | None:
        path = urlsplit(url).path

        def found() -> Fetch | None:
            return next((f for f in self._fetches if f.path == path and accept(f)), None)

        with self._cond:
            self._cond.wait_for(found, timeout=timeout)
            return found()

    def _record_tls_failure(self, client: str, exc: Exception) -> None:
        # A device that refused the lab certificate (or dropped the handshake) fetched nothing:
        # recorded so the evidence can say so.
        record = Fetch("", client, datetime.now(UTC).isoformat(timespec="milliseconds"),
                       f"TLS handshake failed: {exc}"[:200], 0, 0, False)
        with self._cond:
            self._fetches.append(record)
            self._cond.notify_all()

    # -- serving ---------------------------------------------------------------------------------
    def _serve(self, handler: BaseHTTPRequestHandler, *, body: bool) -> None:
        path = urlsplit(handler.path).path
        with self._cond:
            data = self._packages.get(path)
        sent, complete, status = 0, False, 404 if data is None else 200
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/octet-stream")
            handler.send_header("Content-Length", str(0 if data is None else len(data)))
            handler.end_headers()
            if data is not None and body:
                for start in range(0, len(data), _CHUNK):
                    handler.wfile.write(data[start:start + _CHUNK])
                    sent += len(data[start:start + _CHUNK])
            complete = data is not None
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client hung up mid-transfer: recorded as incomplete
        record = Fetch(path, handler.client_address[0], datetime.now(UTC).isoformat(timespec="milliseconds"),
                       handler.command, status, sent, complete)
        with self._cond:
            self._fetches.append(record)
            self._cond.notify_all()
