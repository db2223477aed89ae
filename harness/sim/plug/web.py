"""The plug's web server: HTTPS with the command endpoint `GET /cm?cmnd=<Command>%20<args>` (or
POST with a form body `cmnd=…`; JSON answers) behind HTTP Basic auth (user admin, the plug's
password), and plain HTTP that only redirects to HTTPS. Five refused logins in a row lock the
endpoint (harness.sim.lockout: 30 s, doubling with each further refusal, at most 15 min, scaled by
--time-scale): 429 with Retry-After from the refusal that starts the lock until it ends."""

from __future__ import annotations

import base64
import binascii
import http.server
import json
import threading
import time
import urllib.parse
from typing import Any

from harness.sim.certs import LabCertificates
from harness.sim.httpd import CONNECTION_TIMEOUT, TlsHttpServer, content_length, tls_context
from harness.sim.lockout import Lockout, shown_seconds
from harness.sim.plug.catalog import ADMIN_USER, MODEL
from harness.sim.plug.unit import PlugUnit

REALM = MODEL
SERVER = "Voltiq-httpd/9.4"
MAX_BODY = 256 * 1024


class _Guard:
    """Refused logins and the lock they cause (harness.sim.lockout), shared by all request threads."""

    def __init__(self, scale: float) -> None:
        self._lock = threading.Lock()
        self.lockout = Lockout(enabled=True, scale=scale)

    def locked_for(self) -> float:
        with self._lock:
            return self.lockout.remaining(time.monotonic())

    def refused(self) -> float | None:
        """Count a refused login; the lock period (real seconds) when this refusal starts a lock."""
        with self._lock:
            return self.lockout.failure(time.monotonic())

    def accepted(self) -> None:
        with self._lock:
            self.lockout.success()


class _Server(TlsHttpServer):
    def __init__(self, address: tuple[str, int], certs: LabCertificates | None, unit: PlugUnit,
                 guard: _Guard, https_port: int) -> None:
        super().__init__(address, tls_context(certs, "modern") if certs else None,
                         _Handler if certs else _Redirect, wait_ready=unit.wait_running)
        self.unit = unit
        self.guard = guard
        self.https_port = https_port


class _Base(http.server.BaseHTTPRequestHandler):
    server: _Server
    server_version = SERVER
    sys_version = ""
    protocol_version = "HTTP/1.1"
    timeout = CONNECTION_TIMEOUT

    def _json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - http.server API
        pass


class _Redirect(_Base):
    def do_GET(self) -> None:  # noqa: N802 - http.server API
        host = self.server.server_address[0]
        self.send_response(301)
        self.send_header("Location", f"https://{host}:{self.server.https_port}{self.path}")
        self.send_header("Content-Length", "0")
        self.end_headers()

    do_POST = do_HEAD = do_GET  # noqa: N815 - http.server API


class _Handler(_Base):
    def _authorised(self) -> bool:
        if not self.server.unit.firmware.behaviour.web_auth:
            return True
        guard = self.server.guard
        wait = guard.locked_for()
        if wait > 0:
            self._locked(wait)
            return False
        scheme, _, value = (self.headers.get("Authorization") or "").partition(" ")
        user, password = "", None
        if scheme.lower() == "basic":
            try:
                user, _, password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
            except (binascii.Error, UnicodeDecodeError):
                password = None
        if password is not None and user == ADMIN_USER and self.server.unit.firmware.password_ok(password):
            guard.accepted()
            return True
        if password is not None:  # a refused login counts; a request without credentials does not
            period = guard.refused()
            if period is not None:  # the refusal that starts a lock says so
                self._locked(period)
                return False
        self._json(401, {"WARNING": "Need user=admin and the plug's password"},
                   {"WWW-Authenticate": f'Basic realm="{REALM}"'})
        return False

    def _locked(self, seconds: float) -> None:
        self._json(429, {"WARNING": "Too many failed logins"}, {"Retry-After": str(shown_seconds(seconds))})

    def do_GET(self) -> None:  # noqa: N802 - http.server API
        url = urllib.parse.urlsplit(self.path)
        self._serve(url.path, url.query)

    def do_POST(self) -> None:  # noqa: N802 - http.server API
        """The same endpoint with the command in a form body (`cmnd=…`), for long arguments."""
        url = urllib.parse.urlsplit(self.path)
        length = content_length(self.headers)
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            self._json(413, {"WARNING": f"Body larger than {MAX_BODY} bytes"})
            return
        body = self.rfile.read(length).decode("utf-8", errors="replace")
        self._serve(url.path, body)

    def _serve(self, path: str, query: str) -> None:
        if path not in ("/cm", "/"):
            self._json(404, {"WARNING": "Not found"})
            return
        if not self._authorised():
            return
        if path == "/":
            self._json(200, {"Device": MODEL, "Use": "/cm?cmnd=Status%200"})
            return
        try:
            command = urllib.parse.parse_qs(query, max_num_fields=16).get("cmnd", [""])[0]
        except ValueError:
            command = ""
        if not command.strip():
            self._json(400, {"Command": "Error", "Reason": "cmnd= is missing"})
            return
        unit = self.server.unit
        answer = unit.firmware.execute(command)
        self._json(200, answer.body)
        if answer.action is not None:
            unit.request(answer.action)


class PlugWeb:
    """The unit's two web listeners; closed while the unit has no power, listening again at power-on."""

    def __init__(self, unit: PlugUnit, certs: LabCertificates, https_port: int, http_port: int) -> None:
        self.unit = unit
        self.certs = certs
        self.https_port = https_port
        self.http_port = http_port
        self.guard = _Guard(unit.delays.scale)
        self._servers: list[_Server] = []

    def listen(self, address: str) -> None:
        if self._servers:
            return
        servers: list[_Server] = []
        try:
            servers.append(_Server((address, self.https_port), self.certs, self.unit, self.guard, self.https_port))
            servers.append(_Server((address, self.http_port), None, self.unit, self.guard, self.https_port))
        except OSError:
            for server in servers:
                server.server_close()
            raise
        for server in servers:
            server.start(f"plug-web-{self.unit.ident.uid}-{server.server_address[1]}")
        self._servers = servers

    def close(self) -> None:
        servers, self._servers = self._servers, []
        for server in servers:
            server.close()
