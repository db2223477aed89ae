"""TCP connect scan inside a network namespace this module creates (only loopback up)."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from collections.abc import Iterator
from typing import Any

import pytest
from test_net_support import listen, ns, pending_connection  # noqa: F401 - ns is a fixture

from harness.net.netns import Namespace
from harness.net.scan import scan_tcp
from harness.scope import OutOfScope, Scope

pytestmark = pytest.mark.integration

DECLARED = "127.0.0.1"
OTHER = "127.77.0.2"  # a second loopback address: works on Linux without any setup
OPEN_DECLARED = [1, 22, 1883, 8883, 34567, 45000, 65535]  # edges and the ephemeral range
OPEN_OTHER = [80, 8080]


@pytest.fixture(scope="module")
def bench(ns: Namespace) -> Iterator[dict[str, dict[int, socket.socket]]]:  # noqa: F811
    socks = {DECLARED: {p: listen(ns, DECLARED, p) for p in OPEN_DECLARED},
             OTHER: {p: listen(ns, OTHER, p) for p in OPEN_OTHER}}
    yield socks
    for group in socks.values():
        for s in group.values():
            s.close()


def test_full_scan_finds_exactly_the_declared_address_ports(ns: Namespace, bench: Any) -> None:  # noqa: F811
    with ns.entered():
        result = scan_tcp(DECLARED, scope=Scope([DECLARED]))
    print(f"\nfull scan of {DECLARED}: {result.duration_s:.2f} s, {len(result.open)} open, "
          f"{result.closed} closed, self-connects dropped: {result.self_connects}")
    assert result.complete and result.unprobed == 0 and not result.errors and not result.filtered
    assert result.open == OPEN_DECLARED
    assert result.requested == 65535 and result.closed == 65535 - len(OPEN_DECLARED)
    assert result.duration_s < 20  # seconds, not minutes (about 2 s on the 2-core CI machine)
    # Positive control: every declared listener saw the scanner; the other address saw nothing.
    for s in bench[DECLARED].values():
        peer = pending_connection(s)
        assert peer is not None and peer[0] == DECLARED
        assert pending_connection(s) is None  # exactly one connection per open port
    for s in bench[OTHER].values():
        assert pending_connection(s) is None


def test_undeclared_address_is_refused_and_sees_no_packet(ns: Namespace, bench: Any) -> None:  # noqa: F811
    with ns.entered(), pytest.raises(OutOfScope, match=OTHER):
        scan_tcp(OTHER, OPEN_OTHER, scope=Scope([DECLARED]))
    for s in bench[OTHER].values():
        assert pending_connection(s) is None
    # Both ways: declared, the same address is scanned and its listeners are contacted.
    with ns.entered():
        result = scan_tcp(OTHER, range(1, 10000), scope=Scope([OTHER]))
    assert result.open == OPEN_OTHER and result.complete
    for s in bench[OTHER].values():
        assert pending_connection(s) is not None


def test_port_rules_limit_the_scan(ns: Namespace, bench: Any) -> None:  # noqa: F811
    scope = Scope([DECLARED], ports={DECLARED: {"tcp/1-1024"}})
    with ns.entered():
        with pytest.raises(OutOfScope, match="outside the declared ports"):
            scan_tcp(DECLARED, scope=scope)
        result = scan_tcp(DECLARED, range(1, 1025), scope=scope)
    assert result.open == [1, 22] and result.complete
    for p in OPEN_DECLARED:
        pending_connection(bench[DECLARED][p])  # drain for the next test


def test_descriptors_stay_bounded_and_are_all_closed(ns: Namespace, bench: Any,  # noqa: F811
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    live: set[int] = set()
    peak = 0
    created = 0
    real_init, real_close = socket.socket.__init__, socket.socket.close

    def counting_init(self: socket.socket, family: int = -1, type: int = -1, *args: Any, **kw: Any) -> None:
        nonlocal peak, created
        real_init(self, family, type, *args, **kw)
        if self.family == socket.AF_INET and self.type == socket.SOCK_STREAM:
            created += 1
            live.add(id(self))
            peak = max(peak, len(live))

    def counting_close(self: socket.socket) -> None:
        live.discard(id(self))
        real_close(self)

    monkeypatch.setattr(socket.socket, "__init__", counting_init)
    monkeypatch.setattr(socket.socket, "close", counting_close)
    with ns.entered():
        result = scan_tcp(DECLARED, range(1, 5001), scope=Scope([DECLARED]), concurrency=16)
    monkeypatch.undo()
    assert result.complete and result.open == [1, 22, 1883]
    assert created >= 5000 and peak <= 16 and not live
    for p in (1, 22, 1883):
        pending_connection(bench[DECLARED][p])


def test_silent_port_is_filtered_not_closed(ns: Namespace) -> None:  # noqa: F811
    # A listener whose accept queue is full drops further SYNs: the connect gets no answer.
    full = listen(ns, DECLARED, 0, backlog=0)
    port = full.getsockname()[1]
    with ns.entered():
        first = socket.create_connection((DECLARED, port), timeout=2)
        result = scan_tcp(DECLARED, [port, port + 1], scope=Scope([DECLARED]), timeout=0.3)
    first.close()
    full.close()
    assert result.filtered == [port] and result.open == [] and result.closed == 1 and result.complete


def test_deadline_leaves_the_scan_incomplete(ns: Namespace) -> None:  # noqa: F811
    with ns.entered():
        t0 = time.monotonic()
        result = scan_tcp(DECLARED, scope=Scope([DECLARED]), deadline=0.05)
        elapsed = time.monotonic() - t0
    assert not result.complete and result.unprobed > 0
    assert result.closed + result.unprobed + len(result.open) == 65535
    assert elapsed < 2


def test_deadline_cut_is_not_a_filtered_port(ns: Namespace) -> None:  # noqa: F811
    full = listen(ns, DECLARED, 0, backlog=0)
    port = full.getsockname()[1]
    with ns.entered():
        first = socket.create_connection((DECLARED, port), timeout=2)
        result = scan_tcp(DECLARED, [port], scope=Scope([DECLARED]), timeout=5.0, deadline=0.2)
    first.close()
    full.close()
    assert result.filtered == [] and result.unprobed == 1 and not result.complete
    assert result.duration_s < 1.5


def test_unreachable_network_is_an_error_not_closed(ns: Namespace) -> None:  # noqa: F811
    # The namespace has no route except loopback: TEST-NET-1 is unreachable, nothing is sent.
    with ns.entered():
        result = scan_tcp("192.0.2.1", range(1, 11), scope=Scope(["192.0.2.1"]))
    assert result.closed == 0 and result.open == [] and not result.complete
    assert sorted(result.errors) == list(range(1, 11))
    assert all(e.startswith("ENETUNREACH") for e in result.errors.values())


def test_sync_wrapper_inside_a_running_loop(ns: Namespace, bench: Any) -> None:  # noqa: F811
    async def caller() -> Any:
        return scan_tcp(DECLARED, range(1, 100), scope=Scope([DECLARED]))

    with ns.entered():
        result = asyncio.run(caller())
    assert result.open == [1, 22] and result.complete
    for p in (1, 22):
        pending_connection(bench[DECLARED][p])


def test_self_connect_is_dropped() -> None:
    # One ephemeral port: a connect to that very port with nothing listening can only pick it as
    # its source port, and then the SYN meets its own socket (TCP simultaneous open).
    from harness.net.netns import availability

    if not availability()[0]:
        pytest.skip(availability()[1])
    with Namespace.create("harness-selfc") as ns1:
        ns1.run(["sysctl", "-q", "-w", "net.ipv4.ip_local_port_range=40000 40000"], timeout=10, check=True)
        with ns1.entered():
            # The defect a naive scanner has: this "open" port has no listener at all.
            naive = socket.socket()
            naive.settimeout(2)
            naive.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # no TIME_WAIT
            naive.connect((DECLARED, 40000))
            assert naive.getsockname() == naive.getpeername() == (DECLARED, 40000)
            naive.close()
            result = scan_tcp(DECLARED, [39999, 40000, 40001], scope=Scope([DECLARED]), concurrency=1)
    assert result.self_connects == [40000]
    assert result.open == [] and result.closed == 3 and result.complete
