"""UDP service probes inside a namespace this module creates: answered, closed, silent."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import pytest
from test_net_support import SERVE_TIMEOUT, listen, ns  # noqa: F401 - ns is a fixture

from harness.net import ProbeError, probe_udp
from harness.net.netns import Namespace
from harness.scope import Scope

pytestmark = pytest.mark.integration

ADDRESS = "127.0.0.1"
SCOPE = Scope([ADDRESS])


class UdpServer:
    """Answer datagrams in a thread: ``drop_first`` ignores the first one (a lost datagram)."""

    def __init__(self, sock: socket.socket, *, drop_first: bool = False, count: int = 4) -> None:
        self.sock = sock
        self.drop_first = drop_first
        self.received: list[bytes] = []
        self.stopping = threading.Event()
        sock.settimeout(SERVE_TIMEOUT)
        self.thread = threading.Thread(target=self._run, args=(count,), daemon=True)
        self.thread.start()

    @property
    def port(self) -> int:
        return self.sock.getsockname()[1]

    def _run(self, count: int) -> None:
        for _ in range(count):
            try:
                data, peer = self.sock.recvfrom(65535)
            except OSError:
                return
            if self.stopping.is_set():
                return
            self.received.append(data)
            if self.drop_first and len(self.received) == 1:
                continue
            self.sock.sendto(b"echo:" + data, peer)

    def close(self) -> None:
        self.stopping.set()
        try:  # wakes the thread's recvfrom (close() alone does not); ENOTCONN is expected
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        self.thread.join(SERVE_TIMEOUT)


@pytest.fixture
def echo(ns: Namespace) -> Iterator[UdpServer]:  # noqa: F811
    server = UdpServer(listen(ns, ADDRESS, kind=socket.SOCK_DGRAM))
    yield server
    server.close()


def test_echo_service_answers(ns: Namespace, echo: UdpServer) -> None:  # noqa: F811
    with ns.entered():
        result = probe_udp(ADDRESS, echo.port, b"status?", scope=SCOPE, timeout=1.0)
    assert result.state == "answered" and result.reply == b"echo:status?" and result.attempts == 1
    assert echo.received == [b"status?"]


def test_lost_first_datagram_is_retried(ns: Namespace) -> None:  # noqa: F811
    server = UdpServer(listen(ns, ADDRESS, kind=socket.SOCK_DGRAM), drop_first=True)
    try:
        with ns.entered():
            result = probe_udp(ADDRESS, server.port, b"ping", scope=SCOPE, timeout=0.3, attempts=2)
            once = probe_udp(ADDRESS, server.port, b"ping", scope=SCOPE, timeout=0.3, attempts=1)
    finally:
        server.close()
    assert result.state == "answered" and result.attempts == 2
    assert once.state == "answered"  # the server drops only its very first datagram


def test_port_with_nothing_is_closed(ns: Namespace) -> None:  # noqa: F811
    # Bind, note the port, release it: nothing listens there now, inside this namespace.
    probe = listen(ns, ADDRESS, kind=socket.SOCK_DGRAM)
    port = probe.getsockname()[1]
    probe.close()
    with ns.entered():
        result = probe_udp(ADDRESS, port, b"x", scope=SCOPE, timeout=1.0)
    assert result.state == "closed" and result.reply is None and result.attempts == 1


def test_service_that_never_answers_is_silent_not_closed(ns: Namespace) -> None:  # noqa: F811
    mute = listen(ns, ADDRESS, kind=socket.SOCK_DGRAM)  # bound, never reads: no reply, no ICMP
    try:
        with ns.entered():
            result = probe_udp(ADDRESS, mute.getsockname()[1], b"hello", scope=SCOPE, timeout=0.2, attempts=3)
        mute.setblocking(False)
        got = [mute.recv(100) for _ in range(3)]
    finally:
        mute.close()
    assert result.state == "silent" and result.attempts == 3 and result.rtt_s is None
    assert got == [b"hello"] * 3


def test_unreachable_network_is_a_lab_fault(ns: Namespace) -> None:  # noqa: F811
    with ns.entered(), pytest.raises(ProbeError, match="192.0.2.1"):
        probe_udp("192.0.2.1", 53, b"x", scope=Scope(["192.0.2.1"]))
