"""A telnet server that ends the session after a failed login (a FIN or a reset, with or without
"Login incorrect") is the device refusing; the link is back on a new session for the proof of life."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from fake_telnetd import FakeTelnetd  # tests/unit is on sys.path (rootdir import mode)

from harness.links.serial import ExpectTimeout
from harness.links.telnet import TelnetLink
from harness.scope import Scope

PROMPTS = {"login": r"login: $", "password": r"Password: $", "shell": r"# $"}
GOOD = "s3cret-telnet"


class ResettingServer(FakeTelnetd):
    """login/password; a wrong password ends the connection at once: by RST (``reset``) or by FIN,
    saying "Login incorrect" first only when ``say`` is true."""

    def __init__(self, *, reset: bool, say: bool) -> None:
        self.reset, self.say = reset, say
        super().__init__()

    def session(self, conn: socket.socket) -> None:
        conn.sendall(b"camera login: ")
        if self.line(conn) is None:
            return
        conn.sendall(b"Password: ")
        password = self.line(conn)
        if password == GOOD:
            conn.sendall(b"\r\n# ")
            self.line(conn)
            return
        if self.say:
            conn.sendall(b"\r\nLogin incorrect\r\n")
        if self.reset:
            self.reset_on_close(conn)


def _server(reset: bool, say: bool) -> Iterator[ResettingServer]:
    srv = ResettingServer(reset=reset, say=say)
    yield srv
    srv.stop()


@pytest.fixture(params=[(True, False), (False, False), (True, True)], ids=["rst-silent", "fin-silent", "rst-said"])
def server(request) -> Iterator[ResettingServer]:  # type: ignore[no-untyped-def]
    yield from _server(*request.param)


def _link(server: ResettingServer, tmp_path, **kw) -> TelnetLink:  # type: ignore[no-untyped-def]
    return TelnetLink("telnet", host="127.0.0.1", port=server.port, prompts=PROMPTS, timeout=5,
                      transcript_dir=tmp_path, scope=Scope(["127.0.0.0/8"]), **kw)


def _login(link: TelnetLink, password: str) -> str:
    link.expect("login")
    link.send("root")
    link.expect("password")
    link.send(password, secret=True)
    return link.expect_any({"ok": "shell", "rejected": "Login incorrect"}).name


def test_session_ended_after_a_failed_login_is_a_refusal_then_alive(server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    with _link(server, tmp_path) as link:
        assert _login(link, "wrong") == "rejected"
        # Proof of life on the new session the link opened: the login prompt again.
        assert link.expect("login", timeout=5).text == "login: "
        assert server.sessions == 2
        link.send("root")
        link.expect("password")
        link.send(GOOD, secret=True)
        assert link.expect_any({"ok": "shell", "rejected": "Login incorrect"}).name == "ok"
    if not server.say:
        assert link.sessions_ended == 1


def test_closed_outcome_off_keeps_waiting_across_the_reconnect(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for srv in _server(reset=True, say=False):
        with _link(srv, tmp_path, closed_outcome="") as link:
            with pytest.raises(ExpectTimeout):
                _login_with_timeout(link)


def _login_with_timeout(link: TelnetLink) -> str:
    link.expect("login")
    link.send("root")
    link.expect("password")
    link.send("wrong", secret=True)
    return link.expect_any({"ok": "shell", "rejected": "Login incorrect"}, timeout=0.8).name


def test_an_expect_without_a_refusal_outcome_is_not_turned_into_one(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for srv in _server(reset=True, say=False):
        with _link(srv, tmp_path) as link:
            link.expect("login")
            link.send("root")
            link.expect("password")
            link.send("wrong", secret=True)
            # Waiting for the shell only: the session ends, a new one shows its login prompt.
            with pytest.raises(ExpectTimeout):
                link.expect("shell", timeout=0.8)
            assert link.sessions_ended == 1


def test_input_into_an_ended_session_is_not_resent(tmp_path) -> None:  # type: ignore[no-untyped-def]
    for srv in _server(reset=True, say=False):
        with _link(srv, tmp_path) as link:
            assert _login(link, "wrong") == "rejected"
            link.expect("login")
            link._drop_socket()  # what a dead peer looks like to a write: reconnect, do not resend
            link._sock = socket.create_connection(("127.0.0.1", srv.port))
            link._sock.shutdown(socket.SHUT_RDWR)
            link.send("root")
            assert link.sessions_ended >= 1
            assert link.expect("login", timeout=5).text == "login: "


class PausingServer:
    """Hangs up after a wrong password and accepts no connection for ``pause_s`` after that (an
    inetd-started telnetd restarting)."""

    def __init__(self, pause_s: float) -> None:
        self.pause_s = pause_s
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.sessions = 0
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            self.sock.settimeout(0.2)
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.sessions += 1
            conn.settimeout(10)
            with conn:
                conn.sendall(b"camera login: ")
                if FakeTelnetd.line(conn) is None:
                    continue
                conn.sendall(b"Password: ")
                FakeTelnetd.line(conn)
            self.sock.close()  # nobody answers for a while
            self._stop.wait(self.pause_s)
            if self._stop.is_set():
                return
            self.sock = socket.create_server(("127.0.0.1", self.port))

    def stop(self) -> None:
        self._stop.set()
        self.sock.close()
        self.thread.join(5)


def test_a_telnetd_that_pauses_after_hanging_up_is_waited_for(tmp_path) -> None:  # type: ignore[no-untyped-def]
    srv = PausingServer(pause_s=0.6)
    try:
        with TelnetLink("telnet", host="127.0.0.1", port=srv.port, prompts=PROMPTS, timeout=5,
                        transcript_dir=tmp_path, scope=Scope(["127.0.0.0/8"])) as link:
            assert _login(link, "wrong") == "rejected"
            assert link.expect("login", timeout=5).text == "login: "  # the proof of life, once it is back
            assert srv.sessions == 2
    finally:
        srv.stop()


def test_a_telnetd_that_never_comes_back_is_a_lab_fault_after_the_refusal(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from harness.links.base import LinkError

    srv = PausingServer(pause_s=30)
    try:
        with TelnetLink("telnet", host="127.0.0.1", port=srv.port, prompts=PROMPTS, timeout=0.8,
                        transcript_dir=tmp_path, scope=Scope(["127.0.0.0/8"])) as link:
            assert _login(link, "wrong") == "rejected"  # the device did refuse
            with pytest.raises(LinkError, match="accepted no new one"):
                link.send("")  # the proof of life cannot even connect: a lab fault, not a PASS
    finally:
        srv.stop()
