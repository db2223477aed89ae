"""Pure parts of the simulator's v2 services, without a process: the lockout policy, the telnet
command filter, the CoAP responder and MQTT broker URLs (no I/O, milliseconds)."""

from __future__ import annotations

import pytest

from harness.sim.coap import answer
from harness.sim.lockout import CAP, THRESHOLD, Lockout, shown_seconds
from harness.sim.mqtt import parse_url
from harness.sim.telnetd import DO, DONT, IAC, SB, SE, WILL, WONT, IacFilter


def test_lockout_periods_grow_and_are_capped() -> None:
    lock = Lockout(enabled=True)
    now = 0.0
    assert [lock.failure(now) for _ in range(THRESHOLD - 1)] == [None] * (THRESHOLD - 1)
    periods = []
    for _ in range(7):
        period = lock.failure(now)
        assert period is not None and lock.remaining(now) == period
        periods.append(period)
        now += period  # wait it out, then fail again
        assert lock.remaining(now) == 0
    assert periods == [30, 60, 120, 240, 480, CAP, CAP]
    lock.success()
    assert lock.failure(now) is None and lock.remaining(now) == 0


def test_lockout_scales_and_can_be_off() -> None:
    lock = Lockout(enabled=True, scale=0.0)
    for _ in range(THRESHOLD - 1):
        lock.failure(0.0)
    assert lock.failure(0.0) == 0.0 and lock.remaining(0.0) == 0.0  # announced, never in force
    off = Lockout(enabled=False)
    assert all(off.failure(0.0) is None for _ in range(50)) and off.remaining(0.0) == 0
    assert [shown_seconds(x) for x in (0.0, 0.01, 0.6, 1.0, 1.2)] == [0, 1, 1, 1, 2]


def test_iac_filter_strips_commands_and_refuses_once() -> None:
    f = IacFilter()
    data, replies = f(bytes([IAC, DO, 1, IAC, DO, 24, ord("a"), IAC, WILL, 31, IAC, WILL, 32, IAC, IAC]))
    assert data == b"a\xff" and replies == bytes([IAC, WONT, 24, IAC, DONT, 32])  # ECHO and NAWS are ours
    assert f(bytes([IAC, DO, 24])) == (b"", b"")  # asked again: no loop
    # split across reads, with a subnegotiation (window size) in the middle
    assert f(bytes([ord("x"), IAC])) == (b"x", b"")
    assert f(bytes([SB, 31, 0, 80, 0, 24, IAC, SE, ord("y"), ord("\r"), 0])) == (b"y\r\x00", b"")


def test_coap_answers() -> None:
    ping = bytes([0x40, 0x00, 0x12, 0x34])
    assert answer(ping) == bytes([0x70, 0x00, 0x12, 0x34])  # RST, same message id
    get_core = bytes([0x42, 0x01, 0x00, 0x07, 0xAA, 0xBB, 0xBB]) + b".well-known" + bytes([0x04]) + b"core"
    reply = answer(get_core)
    assert reply is not None and reply[:6] == bytes([0x62, 0x45, 0x00, 0x07, 0xAA, 0xBB])
    assert reply[6:8] == bytes([0xC1, 40]) and reply[8] == 0xFF  # Content-Format: link-format
    post = bytes([0x40, 0x02, 0x00, 0x08, 0xB4]) + b"core"
    assert answer(post) is not None and answer(post)[1] == 0x85  # type: ignore[index]
    non = answer(bytes([0x50, 0x01, 0x00, 0x09, 0xB4]) + b"none")
    assert non is not None and non[0] >> 4 == 0x5 and non[1] == 0x84  # NON answered with NON, 4.04
    for junk in (b"", b"\x00\x01\x02\x03", bytes([0x80, 0x01, 0, 0]), bytes([0x4F, 0x01, 0, 0]),
                 bytes([0x60, 0x45, 0, 0]), bytes([0x50, 0x45, 0, 0])):
        assert answer(junk) is None  # not CoAP v1, bad token length, an ACK, a NON response: silence
    assert answer(bytes([0x40, 0x01, 0, 1, 0xBF])) == bytes([0x70, 0x00, 0, 1])  # malformed CON: RST
    assert answer(b"GET / HTTP/1.0\r\n\r\n") == bytes([0x70, 0x00]) + b"T "  # reads as a CON with a response code


@pytest.mark.parametrize(("url", "expected"), [
    ("mqtts://localhost", ("mqtts", "localhost", 8883)),
    ("mqtt://127.0.0.1:18831", ("mqtt", "127.0.0.1", 18831)),
    ("mqtts://broker.lab:9999/", ("mqtts", "broker.lab", 9999)),
])
def test_broker_urls(url: str, expected: tuple[str, str, int]) -> None:
    b = parse_url(url)
    assert (b.scheme, b.host, b.port) == expected and b.tls == (expected[0] == "mqtts")


@pytest.mark.parametrize("url", ["http://x", "mqtts://", "mqtts://h:99999", "mqtts://h/topic", "localhost:1883"])
def test_bad_broker_urls(url: str) -> None:
    with pytest.raises(ValueError, match="bad broker url"):
        parse_url(url)
