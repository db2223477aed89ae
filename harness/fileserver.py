"""The harness's own file server: it offers firmware packages to a device that fetches its update
from a URL (an MQTT or console command carrying the URL). Standard library http.server, bound to
one declared address; every request is logged, so the evidence shows what the device fetched.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Fetch:
    path: str
    client: str
    status: int
    size: int


@dataclass
class _Shared:
    files: dict[str, bytes] = field(default_factory=dict)
    fetches: list[Fetch] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


class _Handler(BaseHTTPRequestHandler):
    shared: _Shared

    def do_GET(self) -> None:  # noqa: N802 (http.server's naming)
        with self.shared.lock:
            data = self.shared.files.get(self.path)
        status = 200 if data is not None else 404
        body = data if data is not None else b"not found\n"
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        with self.shared.lock:
            self.shared.fetches.append(Fetch(self.path, self.client_address[0], status, len(body)))

    def log_message(self, format: str, *args: Any) -> None:  # the fetch list is the log
        return


class FileServer:
    def __init__(self, host: str = "127.0.0.1") -> None:
        self.host = host
        self._shared = _Shared()
        handler = type("Handler", (_Handler,), {"shared": self._shared})
        self._httpd = ThreadingHTTPServer((host, 0), handler)
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, name="fileserver", daemon=True)

    def __enter__(self) -> FileServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> FileServer:
        self._thread.start()
        return self

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    def publish(self, name: str, data: bytes) -> str:
        """Offer ``data``; the URL has a random part so a device cannot guess other packages."""
        path = f"/{secrets.token_hex(4)}/{name}"
        with self._shared.lock:
            self._shared.files[path] = data
        return f"http://{self.host}:{self.port}{path}"

    def fetches(self) -> list[Fetch]:
        with self._shared.lock:
            return list(self._shared.fetches)

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
