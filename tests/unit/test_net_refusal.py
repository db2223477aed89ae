"""Out-of-scope probes are refused before any socket is created (so before any packet can leave).

Every socket the process makes goes through ``socket.socket.__init__`` (asyncio's self-pipe
socketpair included); it is replaced by a counter that refuses, so a probe that got past the scope
would fail loudly here rather than send anything.
"""

from __future__ import annotations

import socket
from typing import Any

import pytest

from harness.net import grab_banner, probe_udp, scan_tcp, scan_tcp_async
from harness.scope import OutOfScope, Scope

DECLARED = Scope(["127.0.0.1"])
RESTRICTED = Scope(["127.0.0.1"], ports={"127.0.0.1": {"tcp/1-1024", "udp/53"}})


@pytest.fixture
def sockets(monkeypatch: pytest.MonkeyPatch) -> list[tuple[Any, ...]]:
    made: list[tuple[Any, ...]] = []

    def refuse(self: socket.socket, *args: Any, **kwargs: Any) -> None:
        made.append(args)
        raise AssertionError(f"a socket was created: {args}")

    monkeypatch.setattr(socket.socket, "__init__", refuse)
    return made


def test_scan_of_undeclared_address(sockets: list[tuple[Any, ...]]) -> None:
    with pytest.raises(OutOfScope, match="127.77.0.2"):
        scan_tcp("127.77.0.2", scope=DECLARED)
    assert sockets == []


def test_async_scan_of_undeclared_address(sockets: list[tuple[Any, ...]]) -> None:
    with pytest.raises(OutOfScope):
        # The coroutine raises at its first step; drive it without an event loop (which would
        # create a socket pair of its own).
        scan_tcp_async("127.77.0.2", scope=DECLARED).send(None)
    assert sockets == []


def test_scan_with_one_undeclared_port(sockets: list[tuple[Any, ...]]) -> None:
    with pytest.raises(OutOfScope, match="1 of 2 ports"):
        scan_tcp("127.0.0.1", [80, 8080], scope=RESTRICTED)
    with pytest.raises(OutOfScope, match="64511 of 65535 ports"):
        scan_tcp("127.0.0.1", scope=RESTRICTED)
    assert sockets == []


def test_udp_and_banner_of_undeclared_targets(sockets: list[tuple[Any, ...]]) -> None:
    with pytest.raises(OutOfScope):
        probe_udp("127.77.0.2", 53, b"x", scope=DECLARED)
    with pytest.raises(OutOfScope):
        probe_udp("127.0.0.1", 54, b"x", scope=RESTRICTED)
    with pytest.raises(OutOfScope):
        grab_banner("127.77.0.2", 22, scope=DECLARED)
    with pytest.raises(OutOfScope):
        grab_banner("127.0.0.1", 2222, scope=RESTRICTED)
    assert sockets == []


def test_the_counter_does_see_sockets(sockets: list[tuple[Any, ...]]) -> None:
    # The other half of the proof: a declared target does reach socket creation.
    with pytest.raises(AssertionError, match="a socket was created"):
        probe_udp("127.0.0.1", 53, b"x", scope=RESTRICTED)
    assert len(sockets) == 1
