"""MqttLink against plain sockets that are not brokers: silence is "timeout", a closed connection is
"error", a refused port is "error" (none of them is a refusal); open() turns them into lab faults;
the scope guard stops a connect before any packet."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from harness.links.mqtt import MqttLink, MqttLinkError
from harness.scope import OutOfScope, Scope
from harness.verdict import LabFault


@pytest.fixture
def silent_server():  # type: ignore[no-untyped-def]
    """Accepts TCP connections and never answers."""
    srv = socket.create_server(("127.0.0.1", 0))
    yield srv
    srv.close()


@pytest.fixture
def closing_server():  # type: ignore[no-untyped-def]
    """Accepts, reads the CONNECT, closes without a CONNACK."""
    srv = socket.create_server(("127.0.0.1", 0))
    srv.settimeout(5)

    def serve() -> None:
        try:
            conn, _ = srv.accept()
        except OSError:
            return
        with conn:
            conn.settimeout(5)
            conn.recv(1024)

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv
    srv.close()
    t.join(5)


@pytest.fixture
def refused_port():  # type: ignore[no-untyped-def]
    """A port that refuses connections: bound (so nobody else can take it meanwhile) but not
    listening, so the kernel answers a SYN with RST."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        yield int(s.getsockname()[1])


def test_silence_is_timeout_not_rejection(silent_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = silent_server.getsockname()[1]
    link = MqttLink("probe", url=f"mqtt://127.0.0.1:{port}", transcript_dir=tmp_path)
    started = time.monotonic()
    result = link.connect_attempt("admin", "admin", timeout=0.5)
    assert time.monotonic() - started < 3
    assert result.outcome == "timeout" and result.reason_code is None
    link.close()


def test_closed_before_connack_is_error(closing_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    link = MqttLink("probe", url=f"mqtt://127.0.0.1:{closing_server.getsockname()[1]}", transcript_dir=tmp_path)
    result = link.connect_attempt("admin", "admin", timeout=3)
    assert result.outcome == "error" and "before CONNACK" in result.reason and result.reason_code is None
    link.close()


def test_refused_port_is_error_and_open_is_a_lab_fault(refused_port, tmp_path) -> None:  # type: ignore[no-untyped-def]
    url = f"mqtt://127.0.0.1:{refused_port}"
    link = MqttLink("probe", url=url, transcript_dir=tmp_path, timeout=2)
    result = link.connect_attempt(None, None)
    assert result.outcome == "error" and "ConnectionRefused" in result.reason
    with pytest.raises(MqttLinkError) as err:
        link.open()
    assert isinstance(err.value, LabFault)
    link.close()


def test_open_on_silence_is_a_lab_fault_within_the_timeout(silent_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    link = MqttLink("lab", url=f"mqtt://127.0.0.1:{silent_server.getsockname()[1]}", timeout=0.5,
                    transcript_dir=tmp_path)
    started = time.monotonic()
    with pytest.raises(MqttLinkError, match="timeout"):
        link.open()
    assert time.monotonic() - started < 3
    link.close()


def test_scope_refuses_before_any_packet(silent_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    port = silent_server.getsockname()[1]
    silent_server.setblocking(False)
    outside = MqttLink("probe", url=f"mqtt://127.0.0.1:{port}", scope=Scope(["192.0.2.0/24"]),
                       transcript_dir=tmp_path)
    with pytest.raises(OutOfScope):
        outside.connect_attempt("admin", "admin")
    with pytest.raises(OutOfScope):
        outside.open()
    with pytest.raises(BlockingIOError):  # nothing reached the listener
        silent_server.accept()
    inside = MqttLink("probe", url=f"mqtt://127.0.0.1:{port}", scope=Scope(["127.0.0.0/8"]),
                      transcript_dir=tmp_path)
    assert inside.connect_attempt(None, None, timeout=0.3).outcome == "timeout"  # allowed: it went out
    conn, _ = silent_server.accept()  # ...and the listener saw it
    conn.close()
    outside.close()
    inside.close()


def test_attempt_password_never_in_transcript(silent_server, tmp_path) -> None:  # type: ignore[no-untyped-def]
    link = MqttLink("probe", url=f"mqtt://127.0.0.1:{silent_server.getsockname()[1]}", transcript_dir=tmp_path)
    link.connect_attempt("admin", "Tr1ed-Passw0rd", timeout=0.2)
    link.close()
    text = link.transcript.path.read_text()
    assert "attempt as 'admin' (with password)" in text and "Tr1ed-Passw0rd" not in text
