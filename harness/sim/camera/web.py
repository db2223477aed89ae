"""The camera's web server (HTTPS on port 7443, its certificate from the maker's CA):

    GET  /                        the login page (no version, no serial)
    POST /api/v1/session          form or JSON {username, password} -> 200 {"session": token} and
                                  Set-Cookie: LCSESSID=<token> | 401 | 429 + Retry-After after 5 failures
    DELETE /api/v1/session        log out
    GET  /api/v1/status           model, firmware, serial, uptime, cloud state (session needed)
    GET  /api/v1/settings         the camcfg settings (the Wi-Fi PSK masked)
    GET  /api/v1/settings/<key>   {"key", "value"} | 404
    POST /api/v1/settings         JSON {key: value, ...} -> 200 {"saved": [...]} | 400 {"error"}

A session is the LCSESSID cookie or `Authorization: Bearer <token>`; without one: 401 with a JSON
body. Handlers run in http.server's threads and touch the unit on the event loop."""

from __future__ import annotations

import asyncio
import http.cookies
import json
import math
import urllib.parse
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from harness.sim.camera import model
from harness.sim.camera.unit import SECRET_SETTINGS
from harness.sim.certs import LabCertificates
from harness.sim.httpd import TlsHttpServer, UnitHandler, content_length, tls_context

if TYPE_CHECKING:
    from harness.sim.camera.cloud import CloudClient
    from harness.sim.camera.unit import CameraUnit

MAX_BODY = 16 * 1024
COOKIE = "LCSESSID"
SETTING_PREFIX = "/api/v1/settings/"
PAGE = ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Lumacam</title></head><body>\n"
        "<form method=\"post\" action=\"/api/v1/session\"><input name=\"username\"><input name=\"password\" "
        "type=\"password\"><button>Sign in</button></form>\n</body></html>\n")


class _Server(TlsHttpServer):
    def __init__(self, address: tuple[str, int], unit: CameraUnit, cloud: CloudClient | None,
                 certs: LabCertificates, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(address, tls_context(certs, "modern"), _Handler, wait_ready=unit.wait_running_in_thread)
        self.unit = unit
        self.cloud = cloud
        self.loop = loop


class _Handler(UnitHandler):
    server: _Server
    server_version = "lighttpd"

    def _send(self, status: int, body: dict[str, Any] | str, headers: dict[str, str] | None = None) -> None:
        if isinstance(body, str):
            self._reply(status, body.encode(), "text/html; charset=utf-8", headers)
        else:
            self._reply(status, (json.dumps(body) + "\n").encode(), "application/json", headers)

    def _token(self) -> str:
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        if scheme.lower() == "bearer" and token.strip():
            return token.strip()
        cookies = http.cookies.SimpleCookie()
        try:
            cookies.load(self.headers.get("Cookie") or "")
        except http.cookies.CookieError:
            return ""
        return cookies[COOKIE].value if COOKIE in cookies else ""

    def _authorized(self) -> bool:
        token = self._token()
        return bool(token) and bool(self._on_loop(self.server.unit.token_valid, token))

    def _fields(self) -> dict[str, Any] | None:
        length = content_length(self.headers)
        if not 0 <= length <= MAX_BODY:
            self.close_connection = True
            return None
        raw = self.rfile.read(length) if length else b""
        kind = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        try:
            if kind == "application/x-www-form-urlencoded":
                return dict(urllib.parse.parse_qsl(raw.decode(), keep_blank_values=True))
            body = json.loads(raw) if raw else {}
        except (ValueError, UnicodeDecodeError):
            return None
        return body if isinstance(body, dict) else None

    def _route(self, method: str) -> None:
        path = urllib.parse.urlsplit(self.path).path
        fields = self._fields() if method in ("POST", "PUT", "DELETE") else {}
        if fields is None:
            self._send(400, {"error": "malformed request"})
            return
        routes: dict[tuple[str, str], Callable[[dict[str, Any]], None]] = {
            ("GET", "/"): lambda f: self._send(200, PAGE),
            ("POST", "/api/v1/session"): self._login, ("DELETE", "/api/v1/session"): self._logout,
            ("GET", "/api/v1/status"): self._status, ("GET", "/api/v1/settings"): self._settings,
            ("POST", "/api/v1/settings"): self._save, ("PUT", "/api/v1/settings"): self._save}
        handler = routes.get((method, path))
        if handler is None and method == "GET" and path.startswith(SETTING_PREFIX):
            handler = self._setting
        try:
            if handler is None:
                self._send(404, {"error": "not found"})
            elif path.startswith("/api/") and path != "/api/v1/session" and not self._authorized():
                self._send(401, {"error": "unauthorized"})
            else:
                handler(fields)
        except (RuntimeError, TimeoutError):
            self._send(503, {"error": "busy"})

    def _login(self, fields: dict[str, Any]) -> None:
        unit = self.server.unit
        remaining = self._on_loop(lambda: unit.web_limit.remaining(model.now()))
        if remaining > 0:
            self._send(429, {"error": "too many failed logins"}, {"Retry-After": str(max(1, math.ceil(remaining)))})
            return
        user, password = str(fields.get("username", "")), str(fields.get("password", ""))
        outcome = self._on_loop(unit.login_on, "web", user, password)
        self._on_loop(lambda: unit.web_limit.record(outcome.ok, model.now()))
        if not outcome.ok or user != model.ADMIN:
            self._send(401, {"error": "invalid username or password"})
            return
        token = self._on_loop(unit.issue_token)
        self._send(200, {"session": token}, {"Set-Cookie": f"{COOKIE}={token}; Path=/; Secure; HttpOnly"})

    def _logout(self, fields: dict[str, Any]) -> None:
        token = self._token()
        self._on_loop(self.server.unit.drop_token, token)
        self._send(200, {"result": "logged out"})

    def _status(self, fields: dict[str, Any]) -> None:
        unit, cloud = self.server.unit, self.server.cloud
        self._send(200, {"model": model.MODEL, "firmware": unit.firmware, "serial": unit.identity.serial,
                         "uptime": int(unit.uptime()), "cloud": cloud.state if cloud is not None else "disabled"})

    def _settings(self, fields: dict[str, Any]) -> None:
        settings = self._on_loop(self.server.unit.settings)
        self._send(200, {k: ("********" if k in SECRET_SETTINGS and v else v) for k, v in settings.items()})

    def _setting(self, fields: dict[str, Any]) -> None:
        key = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path[len(SETTING_PREFIX):])
        value = self._on_loop(self.server.unit.settings).get(key)
        if value is None:
            self._send(404, {"error": f"unknown key {key}"})
            return
        self._send(200, {"key": key, "value": "********" if key in SECRET_SETTINGS and value else value})

    def _save(self, fields: dict[str, Any]) -> None:
        saved = []
        for key, value in fields.items():
            error = self._on_loop(self.server.unit.set_setting, str(key), str(value))
            if error:
                self._send(400, {"error": error, "saved": saved})
                return
            saved.append(key)
        self._send(200, {"saved": saved})

    def do_PUT(self) -> None:  # noqa: N802 - http.server API
        self._route("PUT")

    def do_DELETE(self) -> None:  # noqa: N802 - http.server API
        self._route("DELETE")


class CameraWebServer:
    def __init__(self, unit: CameraUnit, cloud: CloudClient | None, address: str, port: int,
                 certs: LabCertificates, loop: asyncio.AbstractEventLoop) -> None:
        self._server = _Server((address, port), unit, cloud, certs, loop)

    def start(self) -> None:
        self._server.start(f"camera-https-{self._server.unit.identity.uid}")

    def close(self) -> None:
        self._server.close()
