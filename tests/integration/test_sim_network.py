"""The simulator's per-unit network services (v2): addresses, HTTPS admin API, SSH, telnet, the
debug shell and CoAP, each shown both ways (compliant refuses / its defect allows)."""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import ssl
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from test_sim_support import LOGIN_PROMPT, PROMPT, SimProcess

pytestmark = pytest.mark.integration
TIMEOUT = 5.0


# -- clients -------------------------------------------------------------------------------------------
def unit_address(sim: SimProcess, uid: str = "U1") -> str:
    return sim.runtime["units"][uid]["address"]


def verifying_context(sim: SimProcess, seclevel0: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=sim.runtime["https"]["ca"])
    if seclevel0:  # to talk to a legacy unit at all (RSA-1024)
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    return ctx


def legacy_client(max_version: ssl.TLSVersion, ciphers: str) -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.maximum_version = max_version
    ctx.set_ciphers(ciphers)
    return ctx


def handshake(address: str, ctx: ssl.SSLContext, port: int = 8443) -> tuple[str, str, bytes]:
    """(protocol, cipher, DER certificate) or an ssl.SSLError."""
    with socket.create_connection((address, port), timeout=TIMEOUT) as raw, \
            ctx.wrap_socket(raw, server_hostname=address) as tls:
        cipher = tls.cipher()
        assert cipher is not None
        return str(tls.version()), cipher[0], tls.getpeercert(binary_form=True) or b""


def api(sim: SimProcess, method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None,
        uid: str = "U1", seclevel0: bool = False) -> tuple[int, dict[str, str], Any]:
    conn = http.client.HTTPSConnection(unit_address(sim, uid), 8443, timeout=TIMEOUT,
                                       context=verifying_context(sim, seclevel0))
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    try:
        conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, json.loads(raw) if raw.strip() else None
    finally:
        conn.close()


def token(sim: SimProcess, uid: str = "U1", seclevel0: bool = False) -> str:
    status, _, body = api(sim, "POST", "/api/login", {"user": "admin", "password": sim.label(uid)}, uid=uid,
                          seclevel0=seclevel0)
    assert status == 200, body
    return body["token"]


def refused(address: str, port: int) -> bool:
    try:
        socket.create_connection((address, port), timeout=TIMEOUT).close()
    except ConnectionRefusedError:
        return True
    return False


def ssh(address: str, username: str, password: str, **algs: Any) -> Any:
    return asyncssh.connect(address, 2222, username=username, password=password, known_hosts=None,
                            client_keys=None, agent_path=None, connect_timeout=TIMEOUT, **algs)


def ssh_run(address: str, password: str, command: str, **algs: Any) -> tuple[str, str]:
    """(stdout, host key algorithm) of one command; the client offers only `algs`."""
    async def go() -> tuple[str, str]:
        async with ssh(address, "admin", password, **algs) as conn:
            result = await conn.run(command, timeout=TIMEOUT)
            key = conn.get_server_host_key()
            assert key is not None
            return str(result.stdout), key.get_algorithm()
    return asyncio.run(go())


def ssh_refused(address: str, password: str, **algs: Any) -> type[Exception]:
    async def go() -> None:
        async with ssh(address, "admin", password, **algs):
            pass
    with pytest.raises((asyncssh.Error, OSError)) as info:
        asyncio.run(go())
    return info.type


class Telnet:
    """A raw socket; the simulator's telnetd answers option negotiation, we only read."""

    def __init__(self, address: str, port: int = 2323) -> None:
        self.sock = socket.create_connection((address, port), timeout=TIMEOUT)
        self.buffer = b""

    def expect(self, needle: bytes) -> bytes:
        while needle not in self.buffer:
            data = self.sock.recv(4096)
            if not data:
                raise AssertionError(f"closed before {needle!r}; got {self.buffer!r}")
            self.buffer += data
        seen, _, self.buffer = self.buffer.partition(needle)
        return seen + needle

    def send(self, line: str) -> None:
        self.sock.sendall(line.encode() + b"\r\n")

    def closed(self) -> bool:
        while True:
            data = self.sock.recv(4096)
            if not data:
                return True
            self.buffer += data

    def close(self) -> None:
        self.sock.close()


def coap_get(address: str, path: str) -> bytes:
    options, last = b"", 0
    for segment in path.strip("/").split("/"):
        seg = segment.encode()
        options += bytes([((11 - last) << 4) | len(seg)]) + seg
        last = 11
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.settimeout(TIMEOUT)
        s.sendto(bytes([0x41, 0x01, 0xBE, 0xEF, 0x7A]) + options, (address, 5683))
        return s.recvfrom(2048)[0]


# -- fixtures ------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def compliant(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    with SimProcess(tmp_path_factory.mktemp("net-compliant"), units=2) as s:
        yield s


@pytest.fixture(scope="module")
def weak(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    defects = ("weak_tls", "status_discloses_version", "config_without_auth", "legacy_ssh", "telnet_enabled",
               "debug_shell")
    with SimProcess(tmp_path_factory.mktemp("net-defects"), units=1, defects=defects) as s:
        yield s


# -- addresses -----------------------------------------------------------------------------------------
def test_each_unit_has_its_own_address_and_services(compliant: SimProcess) -> None:
    units = compliant.runtime["units"]
    a1, a2 = units["U1"]["address"], units["U2"]["address"]
    assert a1.startswith("127.77.") and a1.endswith(".1") and a2 == a1[:-1] + "2"
    for unit in units.values():
        assert unit["services"] == {"https": 8443, "ssh": 2222, "coap": "udp/5683"}
    # The API on each address is that unit's: its serial, its own label password.
    for uid in ("U1", "U2"):
        status, _, body = api(compliant, "GET", "/api/status", token=token(compliant, uid), uid=uid)
        assert status == 200 and body["serial"] == units[uid]["serial"]
    status, _, _ = api(compliant, "POST", "/api/login", {"user": "admin", "password": compliant.label("U2")})
    assert status == 401  # U2's password is not U1's


def test_compliant_has_no_telnet_nor_debug_port(compliant: SimProcess) -> None:
    address = unit_address(compliant)
    assert refused(address, 2323) and refused(address, 4444)


def test_coap_answers_a_probe(compliant: SimProcess) -> None:
    reply = coap_get(unit_address(compliant), ".well-known/core")
    assert reply[0] >> 4 == 0x6 and reply[1] == 0x45 and reply[2:4] == b"\xbe\xef"  # ACK, 2.05, same message id
    assert reply[4:5] == b"\x7a" and b"</sensors/temperature>" in reply
    assert coap_get(unit_address(compliant), "nothing/here")[1] == 0x84  # 4.04


# -- HTTPS admin API -----------------------------------------------------------------------------------
def test_compliant_tls_is_modern_and_verifies_for_the_unit_address(compliant: SimProcess) -> None:
    address = unit_address(compliant)
    version, cipher, der = handshake(address, verifying_context(compliant))
    assert version in ("TLSv1.2", "TLSv1.3")
    cert = x509.load_der_x509_certificate(der)
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey)
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert [str(ip) for ip in san.get_values_for_type(x509.IPAddress)] == [address]
    for max_version, ciphers in ((ssl.TLSVersion.TLSv1, "DEFAULT:@SECLEVEL=0"),
                                 (ssl.TLSVersion.TLSv1_1, "DEFAULT:@SECLEVEL=0"),
                                 (ssl.TLSVersion.TLSv1_2, "AES128-SHA:AES256-SHA:@SECLEVEL=0"),  # RSA kex, CBC
                                 (ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-SHA:@SECLEVEL=0")):  # CBC
        with pytest.raises(ssl.SSLError):
            handshake(address, legacy_client(max_version, ciphers))
    version, cipher, _ = handshake(address, legacy_client(ssl.TLSVersion.TLSv1_2, "ECDHE-ECDSA-AES128-GCM-SHA256"))
    assert (version, cipher) == ("TLSv1.2", "ECDHE-ECDSA-AES128-GCM-SHA256")


def test_weak_tls_accepts_tls10_cbc_and_has_an_rsa1024_key(weak: SimProcess) -> None:
    address = unit_address(weak)
    version, cipher, der = handshake(address, legacy_client(ssl.TLSVersion.TLSv1, "AES128-SHA:@SECLEVEL=0"))
    assert (version, cipher) == ("TLSv1", "AES128-SHA")
    key = x509.load_der_x509_certificate(der).public_key()
    assert isinstance(key, rsa.RSAPublicKey) and key.key_size == 1024
    with pytest.raises(ssl.SSLError, match="key too weak|too small|CERTIFICATE_VERIFY_FAILED"):
        handshake(address, verifying_context(weak))  # a default client refuses the 1024-bit key
    assert handshake(address, verifying_context(weak, seclevel0=True))[0] in ("TLSv1.2", "TLSv1.3")


def test_compliant_api_needs_a_token(compliant: SimProcess) -> None:
    for method, path, body in (("GET", "/api/status", None), ("GET", "/api/config", None),
                               ("POST", "/api/config", {"wifi": {"ssid": "Evil", "psk": "evilpsk"}})):
        status, headers, answer = api(compliant, method, path, body)
        assert status == 401 and headers["www-authenticate"].startswith("Bearer"), (method, path, answer)
        status, _, _ = api(compliant, method, path, body, token="not-a-token")
        assert status == 401
    status, headers, body = api(compliant, "POST", "/api/login", {"user": "admin", "password": "wrong"})
    assert status == 401 and body == {"error": "invalid credentials"} and "retry-after" not in headers
    assert api(compliant, "POST", "/api/login", {"user": "admin"})[0] == 400
    tok = token(compliant)
    status, _, body = api(compliant, "GET", "/api/status", token=tok)
    assert status == 200 and body["firmware"] == "1.4.2" and body["serial"] == "SIM-C-0001"
    assert api(compliant, "POST", "/api/config", {"wifi": {"ssid": "ApiNet", "psk": "api-psk-1"}}, token=tok)[0] == 200
    status, _, body = api(compliant, "GET", "/api/config", token=tok)
    assert status == 200 and body["wifi"] == {"ssid": "ApiNet", "psk": "set"}
    assert "api-psk-1" not in json.dumps(body)
    assert api(compliant, "GET", "/nope")[0] == 404 and api(compliant, "GET", "/api/login")[0] == 405
    with compliant.console("U1") as con:  # the API and the console see the same unit
        con.attention()
        con.login(compliant.label("U1"))
        assert "ssid=ApiNet" in con.run("wifi show")
        con.send("exit")
        con.expect(LOGIN_PROMPT)


def test_defects_open_status_and_config(weak: SimProcess) -> None:
    status, _, body = api(weak, "GET", "/api/status", seclevel0=True)
    assert status == 200
    assert {k: body[k] for k in ("firmware", "serial", "build", "kernel")} == {
        "firmware": "1.4.2", "serial": "SIM-C-0001", "build": "20240611-3f9c2e1", "kernel": "5.15.0-simiot"}
    assert api(weak, "POST", "/api/config", {"wifi": {"ssid": "Evil", "psk": "evilpsk"}}, seclevel0=True)[0] == 200
    status, _, body = api(weak, "GET", "/api/config", seclevel0=True)
    assert status == 200 and body["wifi"]["ssid"] == "Evil"


# -- SSH -----------------------------------------------------------------------------------------------
MODERN = {"kex_algs": ["curve25519-sha256"], "server_host_key_algs": ["ssh-ed25519"],
          "encryption_algs": ["chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com"],
          "mac_algs": ["hmac-sha2-256-etm@openssh.com"]}
LEGACY = {"kex_algs": ["diffie-hellman-group14-sha1", "diffie-hellman-group1-sha1"],
          "server_host_key_algs": ["ssh-rsa"], "encryption_algs": ["aes128-cbc", "3des-cbc"],
          "mac_algs": ["hmac-sha1", "hmac-md5"]}


NO_SHARED_ALGORITHM = (asyncssh.KeyExchangeFailed, asyncssh.ConnectionLost)  # either side may hang up first


def test_compliant_ssh_is_modern_and_checks_the_password(compliant: SimProcess) -> None:
    address = unit_address(compliant)
    assert issubclass(ssh_refused(address, compliant.label("U1"), **LEGACY), NO_SHARED_ALGORITHM)
    assert issubclass(ssh_refused(address, "wrong-password"), asyncssh.PermissionDenied)
    assert ssh_run(address, compliant.label("U1"), "version", **MODERN) == ("model SimIoT Hub H1 rev B\nfirmware 1.4.2\n", "ssh-ed25519")
    key_file = compliant.run_dir / "flash" / "U1.ssh_host_key"  # the unit's own, kept with its flash
    assert key_file.stat().st_mode & 0o777 == 0o600


def test_ssh_interactive_shell_is_the_console_shell(compliant: SimProcess) -> None:
    async def session(address: str, password: str) -> str:
        async with ssh(address, "admin", password) as conn:
            proc = await conn.create_process(term_type="vt100")
            seen = await asyncio.wait_for(proc.stdout.readuntil(PROMPT), TIMEOUT)
            proc.stdin.write("wifi show\n")
            seen += await asyncio.wait_for(proc.stdout.readuntil(PROMPT), TIMEOUT)
            proc.stdin.write("exit\n")
            seen += await asyncio.wait_for(proc.stdout.read(), TIMEOUT)
            await asyncio.wait_for(proc.wait_closed(), TIMEOUT)
            return seen

    assert issubclass(ssh_refused(unit_address(compliant, "U1"), compliant.label("U2")), asyncssh.PermissionDenied)
    seen = asyncio.run(session(unit_address(compliant, "U2"), compliant.label("U2")))
    assert seen.startswith(f"Welcome to SimIoT Hub\r\n{PROMPT}") and "wifi show\r\nssid=" in seen
    assert seen.endswith("logout\r\n")


def test_legacy_ssh_offers_only_legacy_algorithms(weak: SimProcess) -> None:
    address = unit_address(weak)
    assert issubclass(ssh_refused(address, weak.label("U1"), **MODERN), NO_SHARED_ALGORITHM)
    assert issubclass(ssh_refused(address, weak.label("U1"), **{**LEGACY, "server_host_key_algs": ["rsa-sha2-256"]}),
                      NO_SHARED_ALGORITHM)
    assert ssh_run(address, weak.label("U1"), "version", **LEGACY) == ("model SimIoT Hub H1 rev B\nfirmware 1.4.2\n", "ssh-rsa")
    for kex in ("diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1"):
        for mac in ("hmac-sha1", "hmac-md5"):
            assert ssh_run(address, weak.label("U1"), "version", **{**LEGACY, "kex_algs": [kex], "mac_algs": [mac]})


# -- telnet and the debug shell ------------------------------------------------------------------------
def test_telnet_login_and_shell(weak: SimProcess) -> None:
    t = Telnet(unit_address(weak))
    try:
        opening = t.expect(LOGIN_PROMPT.encode())
        assert opening.startswith(b"\xff\xfb\x01\xff\xfb\x03")  # IAC WILL ECHO, IAC WILL SGA
        t.sock.sendall(b"\xff\xfd\x01\xff\xfd\x18")  # DO ECHO (ack), DO TERMINAL-TYPE (not offered)
        t.send("admin")
        seen = t.expect(b"Password: ")
        assert seen == b"\xff\xfc\x18admin\r\nPassword: "  # WONT TERMINAL-TYPE; the name echoed by the unit
        t.send("wrong")
        assert t.expect(LOGIN_PROMPT.encode()) == b"\r\nLogin incorrect\r\n" + LOGIN_PROMPT.encode()
        t.send("admin")
        t.expect(b"Password: ")
        t.send(weak.label("U1"))
        t.expect(PROMPT.encode())
        t.send("version")
        assert b"firmware 1.4.2\r\n" in t.expect(PROMPT.encode())
        t.send("exit")
        t.expect(b"logout\r\n")
        assert t.closed()
    finally:
        t.close()


def test_debug_shell_is_root_without_login(weak: SimProcess) -> None:
    assert weak.runtime["units"]["U1"]["services"] == {"https": 8443, "ssh": 2222, "telnet": 2323, "debug": 4444,
                                                      "coap": "udp/5683"}
    t = Telnet(unit_address(weak), 4444)
    try:
        t.expect(b"# ")
        t.sock.sendall(b"id\n")
        assert t.expect(b"# ") == b"uid=0(root) gid=0(root) groups=0(root)\n# "
        t.sock.sendall(b"cat /etc/passwd\n")
        assert b"root:x:0:0" in t.expect(b"# ")
        t.sock.sendall(b"exit\n")
        assert t.closed()
    finally:
        t.close()


def test_sessions_end_when_the_unit_reboots(weak: SimProcess) -> None:
    t = Telnet(unit_address(weak), 4444)
    try:
        t.expect(b"# ")
        with weak.console("U1") as con:
            con.attention()
            con.login(weak.label("U1"))
            con.send("reboot")
            con.expect(LOGIN_PROMPT)
        assert t.closed()
    finally:
        t.close()
    t = Telnet(unit_address(weak), 4444)  # and come back after the boot
    try:
        assert t.expect(b"# ").endswith(b"# ")
    finally:
        t.close()


def test_legacy_persona_has_every_network_defect(tmp_path: Path) -> None:
    with SimProcess(tmp_path, persona="legacy", units=1) as sim:
        address = unit_address(sim)
        assert sim.runtime["units"]["U1"]["services"]["telnet"] == 2323
        assert handshake(address, legacy_client(ssl.TLSVersion.TLSv1, "AES128-SHA:@SECLEVEL=0"))[0] == "TLSv1"
        assert api(sim, "GET", "/api/status", seclevel0=True)[0] == 200
        assert api(sim, "GET", "/api/config", seclevel0=True)[0] == 200
        assert ssh_run(address, "admin", "version", **LEGACY)[1] == "ssh-rsa"
        t = Telnet(address, 4444)
        try:
            t.expect(b"# ")
        finally:
            t.close()
