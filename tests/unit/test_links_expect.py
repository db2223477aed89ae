"""The incremental console matcher: chunk borders, floods, escape sequences, line endings."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.links.expect import Expecter, StreamCleaner

PROMPT = {"ok": re.compile(r"simiot> ")}


def _feed_chunks(exp: Expecter, cleaner: StreamCleaner, data: bytes, cuts: list[int]) -> list[str]:
    found = []
    pos = 0
    for cut in sorted(set(c for c in cuts if 0 < c < len(data))) + [len(data)]:
        exp.feed(cleaner.feed(data[pos:cut]))
        pos = cut
        while (m := exp.search(PROMPT)) is not None:
            found.append(m.text)
    return found


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(min_value=1, max_value=200), max_size=30))
def test_no_match_lost_at_any_chunk_border(cuts: list[int]) -> None:
    data = b"boot log\r\n\x1b[32msimiot> \x1b[0m" + b"x" * 50 + b"simiot> " + "caf\u00e9 simiot> ".encode()
    found = _feed_chunks(Expecter(max_buffer=8192, max_match=256), StreamCleaner(), data, cuts)
    assert found == ["simiot> "] * 3


def test_flood_keeps_memory_bounded_and_still_matches() -> None:
    exp = Expecter(max_buffer=8192, max_match=256)
    cleaner = StreamCleaner()
    for _ in range(2000):
        exp.feed(cleaner.feed(b"[ 12.345678] wlan0: rx timeout, flood flood flood\r\n" * 4))
        assert exp.search(PROMPT) is None
        assert len(exp.buffer) <= 8192
    exp.feed(cleaner.feed(b"simiot> "))
    assert exp.search(PROMPT) is not None
    assert exp.discarded > 0


def test_scan_cost_is_linear() -> None:
    """Each read scans at most the new data plus max_match characters."""
    exp = Expecter(max_buffer=1 << 20, max_match=64)
    calls = []
    pattern = re.compile("NEVER")
    real_search = pattern.search

    class Spy:
        def search(self, s: str, pos: int = 0):  # noqa: ANN201
            calls.append(len(s) - pos)
            return real_search(s, pos)

    for _ in range(500):
        exp.feed("y" * 100)
        exp.search({"ok": Spy()})  # type: ignore[dict-item]
    assert max(calls) <= 100 + 64


def test_earliest_of_several_outcomes_wins() -> None:
    exp = Expecter()
    exp.feed("Password: \nLogin incorrect\nsimiot login: ")
    m = exp.search({"ok": re.compile("simiot> "), "rejected": re.compile("Login incorrect"),
                    "prompt": re.compile("login: ")})
    assert m is not None and m.name == "rejected"
    m = exp.search({"prompt": re.compile("login: ")})
    assert m is not None and m.name == "prompt"


def test_named_groups_are_captured() -> None:
    exp = Expecter()
    exp.feed("wifi show\nssid=HomeNet\npsk=set\n")
    m = exp.search({"ok": re.compile(r"ssid=(?P<ssid>\S*)")})
    assert m and m.groups == {"ssid": "HomeNet"}


@pytest.mark.parametrize("raw,clean", [
    (b"a\r\nb\nc\rd", "a\nb\nc\nd"),
    (b"\x1b[1;31mred\x1b[0m", "red"),
    (b"\x1b]0;title\x07text", "text"),
])
def test_cleaner(raw: bytes, clean: str) -> None:
    assert StreamCleaner().feed(raw) == clean


def test_cleaner_holds_split_escape_and_crlf() -> None:
    c = StreamCleaner()
    assert c.feed(b"abc\x1b[3") == "abc"
    assert c.feed(b"2mdef\r") == "def\n"
    assert c.feed(b"\nghi") == "ghi"
    assert c.feed("é".encode()[:1]) == ""
    assert c.feed("é".encode()[1:]) == "é"
