"""Telnet console (harness.links.telnet) against a tiny asyncio telnet login server started here.

The server opens with option negotiations (DO TTYPE, WILL ECHO, WILL SGA, a subnegotiation, a
repeated DO) before its login prompt, as busybox telnetd and friends do. The link must refuse
them all, once each, show only the text, keep the password out of its transcript, and behave
like the serial console (same methods, same Match and ExpectTimeout).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from harness.links.base import LinkError
from harness.links.serial import ExpectTimeout, SerialLink
from harness.links.telnet import DO, DONT, IAC, SB, SE, WILL, WONT, IacFilter, TelnetLink
from harness.scope import OutOfScope, Scope

pytestmark = pytest.mark.integration
PASSWORD = "Tr0ub4dor&3-telnet"
PROMPTS = {"login": r"login: $", "password": r"Password: $", "shell": r"# $"}
TTYPE, ECHO, SGA = 24, 1, 3
OPENING = (bytes((IAC, DO, TTYPE, IAC, WILL, ECHO, IAC, WILL, SGA, IAC, SB, TTYPE, 1, IAC, IAC, IAC, SE,
                  IAC, DO, TTYPE))
           + b"\r\nSimIoT telnet console\r\n\r\n")


class TelnetServer:
    """Login server: admin/PASSWORD gets a '# ' shell; three wrong passwords close the session."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.received = bytearray()  # everything clients sent, raw
        self.server = asyncio.run_coroutine_threadsafe(
            asyncio.start_server(self.session, "127.0.0.1", 0), self.loop).result(10)
        self.port = self.server.sockets[0].getsockname()[1]

    async def readline(self, reader: asyncio.StreamReader) -> str:
        line = bytearray()
        while len(line) < 1024:
            byte = await asyncio.wait_for(reader.read(1), 10)
            if not byte:
                raise ConnectionError("client went away")
            self.received += byte
            if byte[0] == IAC:  # the client's answers: IAC verb option
                self.received += await asyncio.wait_for(reader.readexactly(2), 10)
                continue
            if byte == b"\n":
                return line.decode("utf-8", "replace").rstrip("\r")
            line += byte
        return line.decode()

    async def session(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            writer.write(OPENING)
            for _attempt in range(3):
                writer.write(b"login: ")
                user = await self.readline(reader)
                writer.write(b"Password: ")
                password = await self.readline(reader)
                if user == "admin" and password == PASSWORD:
                    writer.write(b"\r\nWelcome\r\n# ")
                    while (command := await self.readline(reader)) != "exit":
                        writer.write(command.removeprefix("echo ").encode() + b"\r\n# ")
                    break
                writer.write(b"\r\nLogin incorrect\r\n")
            await writer.drain()
        except (ConnectionError, TimeoutError):
            pass
        finally:
            writer.close()

    def stop(self) -> None:
        # Finish every session inside the loop: a coroutine left suspended would be finalised by
        # the garbage collector at some random later moment, running its cleanup code then.
        async def shutdown() -> None:
            self.server.close()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


@pytest.fixture(scope="module")
def server() -> Iterator[TelnetServer]:
    srv = TelnetServer()
    yield srv
    srv.stop()


@pytest.fixture
def link(server: TelnetServer, tmp_path) -> Iterator[TelnetLink]:
    server.received.clear()
    telnet = TelnetLink("console", host="127.0.0.1", port=server.port, prompts=PROMPTS, timeout=5,
                        transcript_dir=tmp_path, scope=Scope(["127.0.0.0/8"]))
    with telnet:
        yield telnet


def login(link: TelnetLink, password: str) -> Any:
    link.expect("login")
    link.send("admin")
    link.expect("password")
    link.send(password, secret=True)
    return link.expect_any({"ok": "shell", "rejected": r"Login incorrect"})


def test_same_methods_as_the_serial_console():
    for name in ("open", "close", "send", "write", "expect_any", "expect", "drain"):
        assert callable(getattr(TelnetLink, name)) and hasattr(SerialLink, name)
    assert TelnetLink.kind == "telnet"


def test_login_refuses_every_option_and_keeps_the_password_out(link, server):
    match = login(link, PASSWORD)
    assert match.name == "ok"
    link.send("echo hello")
    assert link.expect(r"^hello$").text == "hello"
    link.expect("shell")
    link.send("exit")
    link.close()
    raw = bytes(server.received)
    for answer in ((IAC, WONT, TTYPE), (IAC, DONT, ECHO), (IAC, DONT, SGA)):
        assert raw.count(bytes(answer)) == 1, answer  # once each, although DO TTYPE came twice
    assert bytes((IAC, DO)) not in raw and bytes((IAC, WILL)) not in raw  # we never ask for anything
    transcript = link.transcript.path.read_text(encoding="utf-8")
    assert PASSWORD not in transcript and "«secret input»" in transcript
    assert "SimIoT telnet console" in transcript and "\ufffd" not in transcript  # no IAC residue
    assert "telnet options refused: DO 24, WILL 1, WILL 3, DO 24" in transcript


def test_refusal_then_proof_of_life(link):
    assert login(link, "not-the-password").name == "rejected"
    link.expect("login")  # the device answered right after its refusal


def test_device_closing_the_session_opens_a_new_one(link):
    # A telnet server ends the session after failed logins; what comes next (a login prompt) is
    # awaited on a new session, as a person at a terminal would reconnect.
    for _ in range(3):
        assert login(link, "wrong").name == "rejected"
    link.expect("login", timeout=5)
    assert "ended the session" in link.transcript.read_since(0)


def test_silence_is_an_expect_timeout(link):
    link.expect("login")
    with pytest.raises(ExpectTimeout):
        link.expect("password", timeout=0.5)  # nothing sent, nothing comes


def test_scope_is_checked_before_connecting(server, tmp_path):
    with pytest.raises(OutOfScope):
        TelnetLink("c", host="127.0.0.1", port=server.port, scope=Scope(["10.0.0.0/8"]),
                   transcript_dir=tmp_path).open()
    with pytest.raises(OutOfScope, match="outside the declared ports"):
        TelnetLink("c", host="127.0.0.1", port=server.port, transcript_dir=tmp_path,
                   scope=Scope(["127.0.0.0/8"], ports={"127.0.0.1": {"tcp/23"}})).open()
    with pytest.raises(OutOfScope):  # no scope given: loopback only
        TelnetLink("c", host="192.0.2.1", port=23, transcript_dir=tmp_path).open()


def test_closed_port_is_a_link_error(tmp_path):
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        with pytest.raises(LinkError, match="cannot connect"):
            TelnetLink("c", host="127.0.0.1", port=sock.getsockname()[1], timeout=2, transcript_dir=tmp_path).open()


# --- the IAC filter, byte by byte -----------------------------------------------------------------

def test_iac_filter_across_chunk_borders():
    replies: list[bytes] = []
    iac = IacFilter(replies.append)
    stream = b"ab" + bytes((IAC, DO, TTYPE)) + b"c" + bytes((IAC, IAC)) + b"d" + bytes(
        (IAC, SB, TTYPE, 1, IAC, IAC, 7, IAC, SE)) + b"e\r\x00f" + bytes((IAC, WONT, ECHO, IAC, DONT, SGA))
    out = b"".join(iac.feed(stream[i:i + 1]) for i in range(len(stream)))  # worst case: 1 byte reads
    assert out == b"abc\xffde\rf"
    assert replies == [bytes((IAC, WONT, TTYPE))]  # DONT/WONT are never answered


def test_iac_filter_answers_each_request_once():
    replies: list[bytes] = []
    iac = IacFilter(replies.append)
    iac.feed(bytes((IAC, WILL, ECHO, IAC, WILL, ECHO, IAC, DO, ECHO)))
    assert replies == [bytes((IAC, DONT, ECHO)), bytes((IAC, WONT, ECHO))]


def test_outgoing_0xff_is_escaped(server, tmp_path):
    server.received.clear()
    with TelnetLink("c", host="127.0.0.1", port=server.port, encoding="latin-1", timeout=5,
                    transcript_dir=tmp_path) as telnet:
        telnet.expect(r"login: $")
        telnet.send("\xff")
        telnet.expect(r"Password: $")
    assert b"\xff\xff\r\n" in bytes(server.received)


def test_server_that_closes_at_once_is_a_link_error(tmp_path):
    import socket
    import threading

    srv = socket.create_server(("127.0.0.1", 0))
    port = srv.getsockname()[1]

    def serve() -> None:
        for _ in range(2):  # bounded: the link must give up after the first silent close
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            conn.close()

    threading.Thread(target=serve, daemon=True).start()
    link = TelnetLink("c", host="127.0.0.1", port=port, transcript_dir=tmp_path, timeout=3).open()
    try:
        with pytest.raises(LinkError, match="without a word"):
            link.expect("anything", timeout=3)
    finally:
        link.close()
        srv.close()
