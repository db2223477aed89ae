"""HTTP steps against a local web API: auth, cookies and tokens, bodies, outcomes, redaction."""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import yaml

from harness.device import Device
from harness.profile.resolve import open_bench

PASSWORD = "s3cret-" + secrets.token_hex(4)
TOKEN = "tok-" + secrets.token_hex(8)
COOKIE = "sid-" + secrets.token_hex(8)
REALM, NONCE = "cam", secrets.token_hex(8)


def _digest_ok(header: str, method: str) -> bool:
    fields = dict(re.findall(r'(\w+)="?([^",]+)"?', header))
    if fields.get("username") != "admin":
        return False
    ha1 = hashlib.md5(f"admin:{REALM}:{PASSWORD}".encode()).hexdigest()
    ha2 = hashlib.md5(f"{method}:{fields['uri']}".encode()).hexdigest()
    expect = hashlib.md5(f"{ha1}:{fields['nonce']}:{fields['nc']}:{fields['cnonce']}:{fields['qop']}:{ha2}".encode()).hexdigest()
    return fields.get("response") == expect


class Api(BaseHTTPRequestHandler):
    def log_message(self, *_: object) -> None:
        pass

    def _answer(self, code: int, body: str | dict, headers: dict[str, str] | None = None) -> None:
        data = (json.dumps(body) if isinstance(body, dict) else body).encode()
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def do_GET(self) -> None:  # noqa: N802
        url = urllib.parse.urlsplit(self.path)
        auth = self.headers.get("Authorization", "")
        if url.path == "/basic":
            good = "Basic " + base64.b64encode(f"admin:{PASSWORD}".encode()).decode()
            if auth == good:
                self._answer(200, "welcome admin")
            else:
                self._answer(401, "who are you", {"WWW-Authenticate": 'Basic realm="cam"'})
        elif url.path == "/digest":
            if auth.startswith("Digest ") and _digest_ok(auth, "GET"):
                self._answer(200, "digest ok")
            else:
                self._answer(401, "", {"WWW-Authenticate": f'Digest realm="{REALM}", nonce="{NONCE}", qop="auth", algorithm=MD5'})
        elif url.path == "/me":
            cookie_ok = f"sid={COOKIE}" in (self.headers.get("Cookie") or "")
            token_ok = auth == f"Bearer {TOKEN}"
            self._answer(200 if cookie_ok and token_ok else 403, {"cookie": cookie_ok, "token": token_ok})
        elif url.path == "/echo":
            self._answer(200, {"query": urllib.parse.parse_qs(url.query), "header": self.headers.get("X-Test")})
        elif url.path == "/status":
            self._answer(int(urllib.parse.parse_qs(url.query)["code"][0]), "status page", {"Retry-After": "7"})
        else:
            self._answer(404, "no such page")

    def do_POST(self) -> None:  # noqa: N802
        body = self._body()
        ctype = self.headers.get("Content-Type", "")
        if self.path == "/login":
            form = urllib.parse.parse_qs(body.decode())
            if ctype.startswith("application/x-www-form-urlencoded") and form.get("pass") == [PASSWORD]:
                self._answer(200, {"token": TOKEN, "user": "admin"}, {"Set-Cookie": f"sid={COOKIE}; Path=/"})
            else:
                self._answer(401, {"error": "bad credentials"})
        elif self.path == "/upload":
            m = re.search(rb'name="firmware"; filename="([^"]+)"', body)
            ok = ctype.startswith("multipart/form-data") and m is not None and b"FIRMWARE-BYTES" in body and b'name="slot"' in body
            self._answer(200 if ok else 400, f"stored {m.group(1).decode() if m else '?'}")
        elif self.path == "/json":
            data = json.loads(body)
            self._answer(200, {"got": data})
        elif self.path == "/cmd":
            self._answer(200, "result: denied" if b"forbidden" in body else "result: done")
        else:
            self._answer(404, "no")

    def do_PUT(self) -> None:  # noqa: N802
        body = self._body()
        self._answer(200, {"sha256": hashlib.sha256(body).hexdigest(), "type": self.headers.get("Content-Type")})


@pytest.fixture(scope="module")
def server() -> Iterator[int]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv.server_address[1]
    srv.shutdown()
    srv.server_close()


FILLER = {name: [{"settle": 0}] for name in
          ("login", "logout", "factory_reset", "set_user_data", "read_user_data", "change_password")}


def make_device(tmp_path: Path, port: int, procedures: dict, *, link_auth: dict | None = None) -> Device:
    (tmp_path / "secrets.yaml").write_text(yaml.safe_dump({"CAM_ADMIN": PASSWORD}))
    (tmp_path / "fw.bin").write_bytes(b"FIRMWARE-BYTES" + bytes(range(256)))
    (tmp_path / "lab.yaml").write_text(yaml.safe_dump({"schema_version": 1, "name": "t", "secrets": {"file": "secrets.yaml"}}))
    web: dict = {"type": "http", "base_url": f"http://{{{{unit.address}}}}:{port}", "timeout": 5}
    if link_auth:
        web["auth"] = link_auth
    profile = {
        "schema_version": 1,
        "product": {"manufacturer": "Test", "model": "Cam"},
        "units": [{"id": "U1", "serial": "S1", "address": "127.0.0.1",
                   "accounts": {"admin": {"password": {"secret": "CAM_ADMIN"}}},
                   "vars": {"slot": "B", "greeting": "hi there/1"}}],
        "links": {"web": web},
        "procedures": {**FILLER, **procedures},
    }
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    bench = open_bench(path, tmp_path / "lab.yaml")
    return Device(bench, "U1", transcript_dir=tmp_path / "tr")


def transcript(device: Device) -> str:
    device.close()
    return "".join(p.read_text() for p in (Path(device.transcript_dir)).glob("*.log"))


def test_basic_auth_with_account_password(tmp_path: Path, server: int) -> None:
    dev = make_device(tmp_path, server, {
        "good": [{"web.get": "/basic", "auth": {"basic": {"user": "admin", "password": "{{accounts.admin.password}}"}}}],
        "bad": [{"web.get": "/basic", "auth": {"basic": {"user": "admin", "password": "wrong"}}}],
    })
    assert dev.run("good").outcome == "ok"
    bad = dev.run("bad")
    assert bad.outcome == "rejected" and "401" in bad.detail
    text = transcript(dev)
    assert PASSWORD not in text and base64.b64encode(f"admin:{PASSWORD}".encode()).decode() not in text
    assert "auth basic as admin" in text


def test_link_level_basic_auth_and_auth_none(tmp_path: Path, server: int) -> None:
    dev = make_device(tmp_path, server, {
        "with_link_auth": [{"web.get": "/basic"}],
        "anonymous": [{"web.get": "/basic", "auth": "none"}],
    }, link_auth={"basic": {"user": "admin", "password": "{{accounts.admin.password}}"}})
    assert dev.run("with_link_auth").ok
    assert dev.run("anonymous").outcome == "rejected"
    dev.close()


def test_digest_auth(tmp_path: Path, server: int) -> None:
    dev = make_device(tmp_path, server, {
        "good": [{"web.get": "/digest", "auth": {"digest": {"user": "admin", "password": "{{accounts.admin.password}}"}}}],
        "bad": [{"web.get": "/digest", "auth": {"digest": {"user": "admin", "password": "nope"}}}],
    })
    assert dev.run("good").ok
    assert dev.run("bad").outcome == "rejected"
    assert PASSWORD not in transcript(dev)


def test_form_login_captures_token_and_cookie_for_later_procedures(tmp_path: Path, server: int) -> None:
    dev = make_device(tmp_path, server, {
        "login_web": [{"web.post": "/login", "form": {"user": "admin", "pass": "{{accounts.admin.password}}"},
                       "capture": {"session.token": {"json": "token"}, "user_name": {"json": "user"}}}],
        "whoami": [{"web.get": "/me", "auth": {"bearer": "{{session.token}}"},
                    "capture": {"token_seen": {"json": "token"}}}],
        "logout_web": [{"forget_session": True}],
    })
    login = dev.run("login_web")
    assert login.ok, login.detail
    assert login.captures["user_name"] == "admin"
    me = dev.run("whoami")
    assert me.ok and me.captures["token_seen"] == "true"
    dev.run("logout_web")
    with pytest.raises(Exception, match="session.token"):
        dev.run("whoami")
    text = transcript(dev)
    assert TOKEN not in text and PASSWORD not in text


def test_cookie_alone_is_kept_but_token_missing_is_refused(tmp_path: Path, server: int) -> None:
    dev = make_device(tmp_path, server, {
        "login_web": [{"web.post": "/login", "form": {"user": "admin", "pass": "{{accounts.admin.password}}"},
                       "capture": {"sid": {"cookie": "sid"}}}],
        "me_no_token": [{"web.get": "/me"}],
    })
    assert dev.run("login_web").captures["sid"] == COOKIE
    assert dev.run("me_no_token").outcome == "rejected"  # 403 without outcomes is never ok
    dev.close()


@pytest.mark.parametrize("code,outcome", [(200, "ok"), (302, "ok"), (401, "rejected"), (403, "rejected"),
                                          (429, "locked"), (404, "http_404"), (500, "http_500")])
def test_default_outcomes_never_count_4xx_as_ok(tmp_path: Path, server: int, code: int, outcome: str) -> None:
    dev = make_device(tmp_path, server, {"probe": [{"web.get": "/status", "query": {"code": str(code)}}]})
    result = dev.run("probe")
    assert result.outcome == outcome
    if code == 429:
        assert result.captures["retry_after"] == "7"
    dev.close()


def test_outcomes_by_status_and_body(tmp_path: Path, server: int) -> None:
    step = {"outcomes": {"denied": {"status": 200, "body": "result: (?P<why>denied)"}, "ok": {"status": "2xx"}}}
    dev = make_device(tmp_path, server, {
        "allowed": [{"web.post": "/cmd", "body": "reboot", **step}],
        "forbidden": [{"web.post": "/cmd", "body": "forbidden", **step}],
        "unnamed": [{"web.get": "/status", "query": {"code": "418"}, "outcomes": {"ok": 200}}],
    })
    assert dev.run("allowed").ok
    forbidden = dev.run("forbidden")
    assert forbidden.outcome == "denied" and forbidden.captures["why"] == "denied"
    assert dev.run("unnamed").outcome == "http_418"
    dev.close()


def test_query_headers_json_and_filters(tmp_path: Path, server: int) -> None:
    dev = make_device(tmp_path, server, {
        "echo": [{"web.get": "/echo", "query": {"slot": "{{unit.vars.slot}}", "g": "{{unit.vars.greeting | urlencode}}"},
                  "headers": {"X-Test": "{{unit.vars.greeting | base64}}"},
                  "capture": {"header": {"json": "header"}, "g": {"json": "query.g.0"}}}],
        "post_json": [{"web.post": "/json", "json": {"name": "{{unit.serial}}", "list": ["{{unit.vars.slot | hex}}"]},
                       "capture": {"name": {"json": "got.{{field}}"}, "hexed": {"json": "got.list.0"}}}],
    })
    echo = dev.run("echo")
    assert echo.ok
    assert echo.captures["header"] == base64.b64encode(b"hi there/1").decode()
    assert echo.captures["g"] == "hi%20there%2F1"  # the query encodes the already-encoded value once more
    posted = dev.run("post_json", field="name")
    assert posted.captures == {"status": 200, "name": "S1", "hexed": "42"}
    dev.close()


def test_multipart_upload_and_raw_binary_body(tmp_path: Path, server: int) -> None:
    dev = make_device(tmp_path, server, {
        "upload": [{"web.post": "/upload", "files": {"firmware": "fw.bin"}, "form": {"slot": "{{unit.vars.slot}}"},
                    "capture": {"stored": "stored (\\S+)"}}],
        "raw": [{"web.put": "/raw", "body_file": "fw.bin", "capture": {"sha": {"json": "sha256"}, "type": {"json": "type"}}}],
        "missing": [{"web.put": "/raw", "body_file": "nope.bin"}],
    })
    up = dev.run("upload")
    assert up.ok and up.captures["stored"] == "fw.bin"
    raw = dev.run("raw")
    assert raw.captures["sha"] == hashlib.sha256((tmp_path / "fw.bin").read_bytes()).hexdigest()
    assert raw.captures["type"] == "application/octet-stream"
    with pytest.raises(Exception, match="does not exist"):
        dev.run("missing")
    text = transcript(dev)
    assert "multipart: firmware=fw.bin" in text and "bytes of binary body" in text


def test_out_of_scope_and_unreachable_are_not_device_outcomes(tmp_path: Path, server: int) -> None:
    dev = make_device(tmp_path, server, {"away": [{"web.get": "http://127.0.0.1:1/x"}]})
    result = dev.run("away")
    assert result.outcome == "timeout" and "Connect" in result.detail
    dev.close()


def test_a_password_in_the_query_is_not_written(tmp_path: Path, server: int) -> None:
    dev = make_device(tmp_path, server, {
        "cmd": [{"web.get": "/echo", "query": {"user": "admin", "password": "{{password}}"}}],
        "inline": [{"web.get": "/echo?user=admin&password={{password}}"}],
    })
    assert dev.run("cmd", password="dictionary-word-1").ok
    assert dev.run("inline", password="dictionary-word-2").ok
    text = transcript(dev)
    sent = [line for line in text.splitlines() if " > " in line]  # the echo server's answer repeats it
    assert sent and not any("dictionary-word" in line for line in sent)
    assert "?«secret query»" in text


def test_https_with_the_lab_ca(tmp_path: Path) -> None:
    import ssl

    from harness.lab.ca import LabCA

    ca = LabCA.create(tmp_path / "lab-ca", key_type="ec")
    cert, key = ca.issue_server_cert(["127.0.0.1"], tmp_path / "srv")
    srv = ThreadingHTTPServer(("127.0.0.1", 0), Api)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        make_device(tmp_path, srv.server_address[1], {"status": [{"web.get": "/status", "query": {"code": "200"}}]})
        lab = yaml.safe_load((tmp_path / "lab.yaml").read_text())
        lab["fetch"] = {"ca": "lab-ca/ca.pem"}
        (tmp_path / "lab.yaml").write_text(yaml.safe_dump(lab))
        profile = yaml.safe_load((tmp_path / "profile.yaml").read_text())
        profile["links"]["web"].update(base_url=profile["links"]["web"]["base_url"].replace("http:", "https:"), ca="lab")
        (tmp_path / "profile.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
        dev = Device(open_bench(tmp_path / "profile.yaml", tmp_path / "lab.yaml"), "U1", transcript_dir=tmp_path / "tr2")
        assert dev.run("status").ok
        dev.close()
        # Without the lab CA the device's certificate is not trusted: a lab-side failure, not a verdict.
        profile["links"]["web"]["ca"] = None
        (tmp_path / "profile.yaml").write_text(yaml.safe_dump(profile, sort_keys=False))
        dev = Device(open_bench(tmp_path / "profile.yaml", tmp_path / "lab.yaml"), "U1", transcript_dir=tmp_path / "tr3")
        result = dev.run("status")
        assert result.outcome == "timeout" and "CERTIFICATE_VERIFY_FAILED" in result.detail
        dev.close()
    finally:
        srv.shutdown()
        srv.server_close()


def test_expect_status_and_a_request_that_cannot_be_sent(tmp_path: Path, server: int) -> None:
    dev = make_device(tmp_path, server, {
        "s200": [{"web.get": "/status", "query": {"code": "200"}, "expect_status": 200}],
        "s500": [{"web.get": "/status", "query": {"code": "500"}, "expect_status": 200}],
        "s401": [{"web.get": "/status", "query": {"code": "401"}, "expect_status": 200}],
        "s204": [{"web.get": "/status", "query": {"code": "204"}, "expect_status": 200}],
        "huge": [{"web.get": "/echo", "query": {"x": "{{input}}"}}],
    })
    assert [dev.run(p).outcome for p in ("s200", "s500", "s401", "s204")] == ["ok", "http_500", "rejected", "http_204"]
    huge = dev.run("huge", input="A" * 70000)
    assert huge.outcome == "not_sent" and "not sent" in huge.detail
    dev.close()
