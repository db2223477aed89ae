"""Device states without the classic console login, on consoles played by a thread over a pty:
password-only consoles that drop input typed right after their prompt (settle), an empty password
answered by the prompt again (a refusal), a console that needs no login at all (the 5.6-4 fact),
a device without logout, onboarding after a factory reset, and a web-only device whose session
is a token."""

from __future__ import annotations

import json
import os
import threading
import time
import tty
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_telnetd import FakeTelnetd  # tests/unit is on sys.path (rootdir import mode)

from harness.device import Device, DeviceStateError
from harness.profile.lab_models import LabConfig
from harness.profile.models import DeviceProfile
from harness.profile.resolve import Bench

GOOD = "Plug-Label-7781"


class FakeConsole:
    """A device console on the master side of a pty: ``reply(line)`` answers each line received;
    input arriving within ``deaf_s`` of the last prompt is dropped, as some consoles do."""

    def __init__(self, reply: Callable[[str], bytes], *, greeting: bytes = b"", deaf_s: float = 0.0) -> None:
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.path = os.ttyname(self.slave)
        self.reply, self.deaf_s = reply, deaf_s
        self.lines: list[str] = []
        self.dropped: list[str] = []
        self._last_out = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        if greeting:
            self._write(greeting)
        self._thread.start()

    def _write(self, data: bytes) -> None:
        os.write(self.master, data)
        self._last_out = time.monotonic()

    def _run(self) -> None:
        import select
        buf = b""
        while not self._stop.is_set():
            ready, _, _ = select.select([self.master], [], [], 0.05)
            if not ready:
                continue
            try:
                chunk = os.read(self.master, 1024)
            except OSError:
                return
            arrived = time.monotonic()
            buf += chunk
            while b"\r" in buf:
                raw, _, buf = buf.partition(b"\r")
                buf = buf.removeprefix(b"\n")
                line = raw.decode()
                if arrived - self._last_out < self.deaf_s:
                    self.dropped.append(line)
                    continue
                self.lines.append(line)
                self._write(self.reply(line))

    def close(self) -> None:
        self._stop.set()
        self._thread.join(5)
        os.close(self.master)
        os.close(self.slave)


def make_device(tmp_path: Path, links: dict[str, Any], procedures: dict[str, Any], **unit: Any) -> Device:
    profile = {
        "schema_version": 1,
        "product": {"manufacturer": "Lab", "model": "Test"},
        "units": [{"id": "U1", "serial": "S1", "accounts": {"admin": {"password": GOOD}}, **unit}],
        "links": links,
        "procedures": procedures,
    }
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    # The model, not the loader: these fragments omit the procedures a full run requires.
    bench = Bench(profile=DeviceProfile.model_validate(profile), profile_path=path,
                  lab=LabConfig(schema_version=1), lab_path=None, runtime={}, secrets={})
    return Device(bench, "U1", transcript_dir=tmp_path / "transcripts")


# --- a password-only console with a 0.3 s deaf time after its prompt ------------------------------

class Plug:
    def __init__(self) -> None:
        self.logged_in = False

    def __call__(self, line: str) -> bytes:
        if not self.logged_in:
            if line == GOOD:
                self.logged_in = True
                return b"\r\nplug> "
            return b"\r\nPassword: "  # wrong or empty: only the prompt again
        if line == "exit":
            self.logged_in = False
            return b"\r\nPassword: "
        return b"\r\nplug> "


PLUG_PROCEDURES = {
    "attention": [{"console.send": ""}, {"console.expect_one_of": {"logged_in": "prompt", "logged_out": "password"}}],
    "login": [{"console.send": ""}, {"console.expect": "password"}, {"console.send": "{{password}}"},
              {"console.expect_one_of": {"ok": "prompt", "rejected": "password"}}],
    "alive": [{"console.send": ""}, {"console.expect": "password"}],
    "logout": [{"console.send": "exit"}, {"console.expect": "password"}],
}


def plug_links(path: str, settle: float) -> dict[str, Any]:
    return {"console": {"type": "serial", "url": path, "newline": "\r", "timeout": 1.5, "settle": settle,
                        "prompts": {"prompt": r"plug> $", "password": r"Password: $"}}}


@pytest.fixture
def plug() -> Iterator[FakeConsole]:
    console = FakeConsole(Plug(), greeting=b"Password: ", deaf_s=0.3)
    yield console
    console.close()


def test_password_only_console_with_settle(plug, tmp_path) -> None:  # type: ignore[no-untyped-def]
    device = make_device(tmp_path, plug_links(plug.path, 0.35), PLUG_PROCEDURES)
    try:
        empty = device.try_login("admin", "")
        assert (empty.outcome, empty.alive_after) == ("rejected", True)  # the prompt again: a refusal, alive
        device.ensure("logged_in")
        assert device.state.session == "logged_in" and device.state.password == GOOD
        device.ensure("logged_out")
        assert device.state.session == "logged_out"
        assert plug.dropped == []  # nothing typed into the deaf time
        assert device.console_login_fact().without_login is False
    finally:
        device.close()


def test_without_settle_the_same_console_loses_input(tmp_path) -> None:  # type: ignore[no-untyped-def]
    # Deaf for 1.5 s here, so that even a slow machine types into the deaf time.
    plug = FakeConsole(Plug(), greeting=b"Password: ", deaf_s=1.5)
    device = make_device(tmp_path, plug_links(plug.path, 0.0), {k: v for k, v in PLUG_PROCEDURES.items()
                                                                if k != "attention"})
    try:
        attempt = device.try_login("admin", GOOD)
        assert attempt.outcome in ("timeout", "error") and attempt.alive_after is None  # never a refusal
        assert plug.dropped
    finally:
        device.close()
        plug.close()


# --- a console with no login at all -----------------------------------------------------------------

SHELL_PROCEDURES = {
    "attention": [{"console.send": ""}, {"console.expect_one_of": {"logged_in": r"# $", "logged_out": r"login: $"}}],
    "read_version": [{"console.send": "version"}, {"console.expect": r"fw (?P<version>\S+)"}],
}


def test_console_without_login_is_a_recorded_fact(tmp_path) -> None:  # type: ignore[no-untyped-def]
    console = FakeConsole(lambda line: b"fw 1.2.3\r\n# " if line == "version" else b"\r\n# ")
    links = {"console": {"type": "serial", "url": console.path, "newline": "\r", "timeout": 1.5}}
    device = make_device(tmp_path, links, SHELL_PROCEDURES)
    try:
        device.ensure("logged_in")  # no login procedure: the shell is simply there
        assert device.state.console_without_login is True
        fact = device.console_login_fact()
        assert fact.without_login is True and "shell prompt" in fact.evidence
        assert device.run("read_version").captures["version"] == "1.2.3"
    finally:
        device.close()
        console.close()


# --- a UART shell with a login but no logout: the session survives reopening the port ---------------

class Uart:
    def __init__(self) -> None:
        self.state = "login"

    def __call__(self, line: str) -> bytes:
        if self.state == "login":
            if not line:
                return b"\r\nlogin: "
            self.state = "password"
            return b"\r\nPassword: "
        if self.state == "password":
            self.state = "shell" if line == GOOD else "login"
            return b"\r\n# " if line == GOOD else b"\r\nLogin incorrect\r\nlogin: "
        return b"\r\n# "


def test_no_logout_and_a_surviving_session_is_named(tmp_path) -> None:  # type: ignore[no-untyped-def]
    console = FakeConsole(Uart(), greeting=b"login: ")
    links = {"console": {"type": "serial", "url": console.path, "newline": "\r", "timeout": 1.5,
                         "prompts": {"prompt": r"# $", "login": r"login: $", "password": r"Password: $"}}}
    procedures = {
        "attention": [{"console.send": ""}, {"console.expect_one_of": {"logged_in": "prompt", "logged_out": "login"}}],
        "login": [{"console.send": "{{user}}"}, {"console.expect": "password"}, {"console.send": "{{password}}"},
                  {"console.expect_one_of": {"ok": "prompt", "rejected": "Login incorrect"}}],
    }
    device = make_device(tmp_path, links, procedures)
    try:
        device.ensure("logged_in")
        with pytest.raises(DeviceStateError, match="declares no logout"):
            device.ensure("logged_out")
        assert device.state.session == "logged_in"
        assert device.state.console_without_login is False  # it asked for a login; our surviving session is no finding
    finally:
        device.close()
        console.close()


# --- onboarding after a factory reset -------------------------------------------------------------------

class Camera(Uart):
    def __call__(self, line: str) -> bytes:
        if self.state == "shell" and line == "factory-reset":
            self.state = "login"
            return b"\r\nRebooting\r\nlogin: "
        if self.state == "shell" and line.startswith("wifi set "):
            return b"\r\nwifi: saved\r\n# "
        if self.state == "shell" and line == "exit":
            self.state = "login"
            return b"\r\nlogin: "
        return super().__call__(line)


def test_onboard_runs_after_every_factory_reset(tmp_path) -> None:  # type: ignore[no-untyped-def]
    console = FakeConsole(Camera(), greeting=b"login: ")
    links = {"console": {"type": "serial", "url": console.path, "newline": "\r", "timeout": 1.5,
                         "prompts": {"prompt": r"# $", "login": r"login: $", "password": r"Password: $"}}}
    procedures = {
        "attention": [{"console.send": ""}, {"console.expect_one_of": {"logged_in": "prompt", "logged_out": "login"}}],
        "login": [{"console.send": "{{user}}"}, {"console.expect": "password"}, {"console.send": "{{password}}"},
                  {"console.expect_one_of": {"ok": "prompt", "rejected": "Login incorrect"}}],
        "logout": [{"console.send": "exit"}, {"console.expect": "login"}],
        "factory_reset": [{"console.send": "factory-reset"}, {"console.expect": "Rebooting"},
                          {"console.expect": "login"}],
        "onboard": [{"call": "login"}, {"console.send": "wifi set {{unit.vars.ssid}}"},
                    {"console.expect": "wifi: saved"}],
    }
    device = make_device(tmp_path, links, procedures, vars={"ssid": "lab-net"})
    try:
        device.ensure("factory_default")
        assert "wifi set lab-net" in console.lines
        assert console.lines.index("wifi set lab-net") > console.lines.index("factory-reset")
        assert device.state.factory_default is True and device.state.procedure_calls["onboard"] == 1
        assert device.state.console_without_login is not True  # onboarding's own login is no finding
        device.ensure("logged_in")
        assert device.state.session == "logged_in"
    finally:
        device.close()
        console.close()


# --- a web-only device: the session is a token ------------------------------------------------------------

class Api(BaseHTTPRequestHandler):
    token = "tok-5f1e0c9a"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path == "/login" and body.get("password") == GOOD:
            self._send(200, {"token": self.token})
        else:
            self._send(401, {"error": "denied"})

    def do_GET(self) -> None:  # noqa: N802
        if self.path == "/":
            self._send(200, {"name": "plug"})
        elif self.headers.get("Authorization") == f"Bearer {self.token}":
            self._send(200, {"power": "on"})
        else:
            self._send(401, {"error": "login first"})


@pytest.fixture
def api() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_web_only_session_is_a_token(api, tmp_path) -> None:  # type: ignore[no-untyped-def]
    links = {"web": {"type": "http", "base_url": f"http://127.0.0.1:{api}", "timeout": 5}}
    procedures = {
        "login": [{"web.post": "/login", "json": {"user": "{{user}}", "password": "{{password}}"},
                   "outcomes": {"ok": 200, "rejected": 401}, "capture": {"session.token": {"json": "token"}}}],
        "alive": [{"web.get": "/", "outcomes": {"ok": 200}}],
        "read_power": [{"web.get": "/api/power", "auth": {"bearer": "{{session.token}}"},
                        "outcomes": {"ok": 200, "rejected": 401}}],
    }
    device = make_device(tmp_path, links, procedures, address="127.0.0.1")
    try:
        wrong = device.try_login("admin", "nope")
        assert (wrong.outcome, wrong.alive_after) == ("rejected", True)
        device.ensure("logged_in")  # no console anywhere: the login is the HTTP step
        assert device.run("read_power").ok
        device.ensure("logged_out")  # no logout procedure: the token is forgotten
        assert device.state.session == "logged_out"
        with pytest.raises(Exception, match="session.token"):
            device.run("read_power")
        text = "".join(t.read_since(0) for t in device.transcripts().values())
        assert Api.token not in text and GOOD not in text
    finally:
        device.close()


# --- a second console the harness never logs in on (a UART root shell next to the login console) ---------

def test_uart_root_shell_next_to_a_login_console(tmp_path) -> None:  # type: ignore[no-untyped-def]
    console = FakeConsole(Camera(), greeting=b"login: ")
    uart = FakeConsole(lambda line: b"\r\n~ # ")
    prompts = {"prompt": r"# $", "login": r"login: $", "password": r"Password: $"}
    links = {"console": {"type": "serial", "url": console.path, "newline": "\r", "timeout": 1.5, "prompts": prompts},
             "uart": {"type": "serial", "url": uart.path, "newline": "\r", "timeout": 1.5, "prompts": prompts}}
    procedures = {
        "attention": [{"console.send": ""}, {"console.expect_one_of": {"logged_in": "prompt", "logged_out": "login"}}],
        "attention_uart": [{"uart.send": ""}, {"uart.expect_one_of": {"logged_in": "prompt", "logged_out": "login"}}],
        "login": [{"console.send": "{{user}}"}, {"console.expect": "password"}, {"console.send": "{{password}}"},
                  {"console.expect_one_of": {"ok": "prompt", "rejected": "Login incorrect"}}],
        "logout": [{"console.send": "exit"}, {"console.expect": "login"}],
        "reboot": [{"console.send": "factory-reset"}, {"console.expect": "Rebooting"}, {"console.expect": "login"}],
    }
    device = make_device(tmp_path, links, procedures)
    try:
        device.ensure("logged_in")
        assert device.console_login_fact().without_login is False  # logged out first, then asked
        uart_fact = device.console_login_fact("attention_uart")
        assert uart_fact.without_login is True and "uart" in device.state.console_login
        assert device.state.console_without_login is True
        device.run("reboot")
        assert device.state.session == "unknown"  # a boot ends the session the harness had
    finally:
        device.close()
        console.close()
        uart.close()


def test_unit_vars_reach_templates_outside_procedures(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from harness.procedures import render

    device = make_device(tmp_path, {}, {}, vars={"topic": "voltiq_A1B2C3"})
    assert render("+/{{unit.vars.topic}}/#", device.variables())[0] == "+/voltiq_A1B2C3/#"


def test_accounts_password_follows_a_password_change(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from harness.procedures import render

    device = make_device(tmp_path, {}, {})
    device.state.user = "admin"
    assert render("{{accounts.admin.password}}", device.variables())[0] == GOOD
    device.mark_changed(password="Hx-new-Passw0rd")
    text, secret = render("{{accounts.admin.password}}", device.variables())
    assert (text, secret) == ("Hx-new-Passw0rd", True)
    assert render("{{accounts.admin.label_password}}", device.variables())[0] == GOOD


# --- telnet: the server hangs up after the third failed login (BusyBox telnetd) ------------------------------

class HangUpTelnetd(FakeTelnetd):
    """`login:`/`Password:`; after three wrong passwords the connection is reset without a word."""

    def session(self, conn: Any) -> None:
        for failure in range(3):
            conn.sendall(b"cam login: ")
            user = self.line(conn)
            if user is None:
                return
            if not user:
                continue
            conn.sendall(b"Password: ")
            if self.line(conn) == GOOD:
                conn.sendall(b"\r\n# ")
                while self.line(conn) not in (None, "exit"):
                    conn.sendall(b"\r\n# ")
                return
            if failure < 2:
                conn.sendall(b"\r\nLogin incorrect\r\n")
        self.reset_on_close(conn)


def test_telnet_hang_up_after_failed_logins_is_a_refusal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    server = HangUpTelnetd()
    links = {"telnet": {"type": "telnet", "port": server.port, "timeout": 2,
                        "prompts": {"prompt": r"# $", "login": r"login: $", "password": r"Password: $"}}}
    procedures = {
        "attention": [{"telnet.send": ""}, {"telnet.expect_one_of": {"logged_in": "prompt", "logged_out": "login"}}],
        "login": [{"telnet.send": ""}, {"telnet.expect": "login"}, {"telnet.send": "{{user}}"},
                  {"telnet.expect": "password"}, {"telnet.send": "{{password}}"},
                  {"telnet.expect_one_of": {"ok": "prompt", "rejected": "Login incorrect"}}],
        "alive": [{"telnet.send": ""}, {"telnet.expect": "login"}],
    }
    device = make_device(tmp_path, links, procedures, address="127.0.0.1")
    try:
        attempts = [device.try_login("admin", f"wrong-{n}") for n in range(4)]
        assert [(a.outcome, a.alive_after) for a in attempts] == [("rejected", True)] * 4
        assert server.sessions >= 2  # the third failure ended the first session
        device.ensure("logged_in")
        device.ensure("logged_out")  # no logout procedure: a new telnet session
        assert device.state.session == "logged_out"
    finally:
        device.close()
        server.stop()
