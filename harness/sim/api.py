"""A unit's HTTPS admin API on its own address (port 8443), JSON in and out.

    POST /api/login    {"user", "password"} -> 200 {"token"} | 401 | 429 + Retry-After (the failure that
                       starts a lock, and every attempt during it)
    GET  /api/status   firmware, serial, build, kernel, uptime: needs a token unless status_public
    GET  /api/config   Wi-Fi and MQTT settings (no secrets): needs a token unless not config_requires_auth
    POST /api/config   {"wifi": {"ssid", "psk"}}: same rule
    POST /api/reboot   restart the unit (202, then the reboot)           | these device functions need a token
    GET  /api/wifi/scan the networks the unit sees                       | unless not functions_require_auth
    GET  /api/logs     the unit's recent log lines                        |
    GET  /api/sensors  the sensors the unit carries (token always needed)
    POST /api/identity {"serial"}: rewrite the unit's identity (token always needed) -> 403 (read-only) unless
                       identity_writable
    GET  /help/sensors the built-in user documentation of the sensors (public; it never names the microphone
                       of the undocumented_sensor defect)
    POST /api/firmware the raw update package as the body (token always needed) -> 200 {"result": "installing",
                       "version"} (the unit then installs and reboots) | 400 {"error": <the verifier's reason>}

Tokens go in `Authorization: Bearer <token>`. The handlers run in http.server's threads; every
touch of the unit is done on the simulator's event loop (the unit is not thread-safe).

After an unauthorised software change (behaviour tamper_response) the API answers nothing: every
connection is closed without a reply until the image is restored."""

from __future__ import annotations

import asyncio
import json
import urllib.parse
from collections.abc import Callable
from typing import Any

from harness.sim import storage
from harness.sim.catalog import BUILD, KERNEL, MANUFACTURER, MODEL
from harness.sim.certs import LabCertificates
from harness.sim.httpd import TlsHttpServer, UnitHandler, content_length, tls_context
from harness.sim.lockout import shown_seconds
from harness.sim.unit import LoginResult, Unit

MAX_BODY = 16 * 1024
MAX_FIRMWARE_BODY = 8 << 20  # an update package (the updater's download limit too)
FIRMWARE_PATH = "/api/firmware"
INDEX = (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{MODEL}</title></head>\n'
         f"<body><h1>{MODEL}</h1><p>Administration: use the app or the API.</p></body></html>\n")


class _Server(TlsHttpServer):
    def __init__(self, address: tuple[str, int], unit: Unit, certs: LabCertificates,
                 loop: asyncio.AbstractEventLoop) -> None:
        policy = "legacy" if unit.behaviour.tls == "legacy" else "modern"
        super().__init__(address, tls_context(certs, policy), _Handler, wait_ready=unit.wait_running_in_thread)
        self.unit = unit
        self.loop = loop


class _Unavailable(Exception):
    pass


class _Handler(UnitHandler):
    server: _Server
    server_version = "SimIoT-httpd"  # no version: the status endpoint is where disclosure is decided

    # -- plumbing -----------------------------------------------------------------------------------
    def _on_loop(self, fn: Callable[..., Any], *args: Any) -> Any:
        try:
            return super()._on_loop(fn, *args)
        except (RuntimeError, TimeoutError) as exc:  # the simulator is stopping
            raise _Unavailable() from exc

    def _json(self, status: int, body: dict[str, Any], headers: dict[str, str] | None = None) -> None:
        self._reply(status, (json.dumps(body) + "\n").encode(), "application/json", headers)

    def _unauthorized(self) -> None:
        self._json(401, {"error": "authentication required"}, {"WWW-Authenticate": 'Bearer realm="simiot"'})

    def _authorized(self) -> bool:
        scheme, _, token = (self.headers.get("Authorization") or "").partition(" ")
        return scheme.lower() == "bearer" and bool(token) and self._on_loop(self.server.unit.token_valid, token.strip())

    def _read_body(self) -> bool:
        """Read the request body whatever the answer will be: closing with unread data would reset
        the connection before the client has read the answer."""
        self._raw = b""
        length = content_length(self.headers)
        limit = MAX_FIRMWARE_BODY if urllib.parse.urlsplit(self.path).path == FIRMWARE_PATH else MAX_BODY
        if not 0 <= length <= limit:
            self._json(413 if length > limit else 400, {"error": "bad Content-Length"})
            self.close_connection = True
            return False
        if length:
            self._raw = self.rfile.read(length)
        return True

    def _body(self) -> dict[str, Any] | None:
        try:
            body = json.loads(self._raw) if self._raw else None
        except ValueError:
            return None
        return body if isinstance(body, dict) else None

    def _route(self, method: str) -> None:
        if not self._read_body():
            return
        path = urllib.parse.urlsplit(self.path).path
        routes: dict[tuple[str, str], Callable[[], None]] = {
            ("GET", "/"): self._index, ("GET", "/api/status"): self._status, ("GET", "/api/config"): self._get_config,
            ("POST", "/api/config"): self._post_config, ("POST", "/api/login"): self._login,
            ("POST", FIRMWARE_PATH): self._firmware, ("POST", "/api/reboot"): self._reboot,
            ("GET", "/api/wifi/scan"): self._wifi_scan, ("GET", "/api/logs"): self._logs,
            ("GET", "/api/sensors"): self._sensors, ("POST", "/api/identity"): self._identity, ("GET", "/help/sensors"): self._help_sensors}
        if self.server.unit.network_restricted:
            self.close_connection = True  # the integrity monitor stopped the service: no answer at all
            return
        handler = routes.get((method, path))
        try:
            if handler is not None:
                handler()
            elif any(p == path for _, p in routes):
                self._json(405, {"error": "method not allowed"})
            else:
                self._json(404, {"error": "not found"})
        except _Unavailable:
            self._json(503, {"error": "unavailable"})

    def version_string(self) -> str:
        return self.server_version

    # -- endpoints ----------------------------------------------------------------------------------
    def _index(self) -> None:
        data = INDEX.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def _login(self) -> None:
        body = self._body()
        user, password = (body or {}).get("user"), (body or {}).get("password")
        if not isinstance(user, str) or not isinstance(password, str):
            self._json(400, {"error": 'expected JSON {"user": ..., "password": ...}'})
            return
        unit = self.server.unit
        outcome = self._on_loop(unit.login, user, password)
        if outcome.result is LoginResult.OK:
            self._json(200, {"token": self._on_loop(unit.issue_token)})
        elif outcome.result is LoginResult.LOCKED or outcome.lock_seconds is not None:
            # During a lock, and on the failure that starts one: "you are locked out now". At time
            # scale 0 a lock ends at once, so this answer is the only trace of it a client can see.
            wait = shown_seconds(outcome.lock_seconds or 0.0)
            self._json(429, {"error": "too many failed logins", "retry_after": wait}, {"Retry-After": str(wait)})
        else:
            self._json(401, {"error": "invalid credentials"})

    def _status(self) -> None:
        unit = self.server.unit
        if not unit.behaviour.status_public and not self._authorized():
            self._unauthorized()
            return
        self._json(200, self._on_loop(lambda: {
            "manufacturer": MANUFACTURER, "model": MODEL, "firmware": unit.firmware, "build": BUILD, "kernel": KERNEL,
            "serial": unit.serial, "uptime": int(unit.uptime())}))

    def _config_allowed(self) -> bool:
        if self.server.unit.behaviour.config_requires_auth and not self._authorized():
            self._unauthorized()
            return False
        return True

    def _get_config(self) -> None:
        if not self._config_allowed():
            return
        unit = self.server.unit

        def config() -> dict[str, Any]:
            ssid, psk = unit.wifi()
            mqtt = unit.mqtt_settings()
            return {"wifi": {"ssid": ssid, "psk": "set" if psk else "unset"},
                    "mqtt": {"url": mqtt.get("url", ""), "user": mqtt.get("user", "")}}
        self._json(200, self._on_loop(config))

    def _post_config(self) -> None:
        if not self._config_allowed():
            return
        body = self._body()
        wifi = (body or {}).get("wifi")
        if not isinstance(wifi, dict) or not all(isinstance(wifi.get(k), str) for k in ("ssid", "psk")):
            self._json(400, {"error": 'expected JSON {"wifi": {"ssid": ..., "psk": ...}}'})
            return
        self._on_loop(self.server.unit.set_wifi, wifi["ssid"], wifi["psk"])
        self._json(200, {"saved": ["wifi"]})


    # -- device functions (5.5-4) --------------------------------------------------------------------
    def _function_allowed(self) -> bool:
        if self.server.unit.behaviour.functions_require_auth and not self._authorized():
            self._unauthorized()
            return False
        return True

    def _reboot(self) -> None:
        if not self._function_allowed():
            return
        self._json(202, {"result": "rebooting"})
        self.wfile.flush()
        self.close_connection = True
        self.server.loop.call_soon_threadsafe(self.server.unit.reboot)

    def _wifi_scan(self) -> None:
        if not self._function_allowed():
            return
        self._json(200, {"networks": [{"ssid": "SimNet-2G", "rssi": -48}, {"ssid": "Neighbour", "rssi": -77}]})

    def _logs(self) -> None:
        if not self._function_allowed():
            return
        unit = self.server.unit
        self._json(200, {"lines": [f"simiotd: started, firmware {unit.firmware}", "simiotd: time synchronised"]})

    def _sensors(self) -> None:
        if not self._authorized():
            self._unauthorized()
            return
        self._json(200, {"sensors": [name for name, _ in storage.sensors(self.server.unit.behaviour)]})

    def _identity(self) -> None:
        if not self._authorized():
            self._unauthorized()
            return
        serial = (self._body() or {}).get("serial")
        if not isinstance(serial, str) or not serial.strip() or len(serial) > 64:
            self._json(400, {"error": 'expected JSON {"serial": ...}'})
            return
        if self._on_loop(self.server.unit.write_identity, serial.strip()):
            self._json(200, {"serial": self.server.unit.serial})
        else:
            self._json(403, {"error": "the identity is fused at manufacture (read-only)"})

    def _help_sensors(self) -> None:
        data = storage.sensors_help(MODEL).encode()
        self._reply(200, data, "text/html; charset=utf-8")

    def _firmware(self) -> None:
        if not self._authorized():  # whatever `config_requires_auth` says: nobody installs firmware anonymously
            self._unauthorized()
            return
        updater = self.server.unit.updater
        if updater is None:
            self._json(404, {"error": "not found"})
            return
        result = self._on_loop(updater.offer, self._raw)
        if result.outcome == "crashed":
            self.close_connection = True  # the update service died with the request: no answer at all
            return
        if result.installing:
            self._json(200, {"result": "installing", "version": result.version})
        elif result.outcome == "busy":
            self._json(503, {"error": "unavailable"})
        else:
            self._json(400, {"error": result.reason})


class ApiServer:
    """Bound on construction (an OSError if the port is taken), serving after `start`."""

    def __init__(self, unit: Unit, address: str, port: int, certs: LabCertificates,
                 loop: asyncio.AbstractEventLoop) -> None:
        self._server = _Server((address, port), unit, certs, loop)

    def start(self) -> None:
        self._server.start(f"sim-api-{self._server.unit.identity.uid}")

    def close(self) -> None:
        self._server.close()
