"""Device text printed to a terminal (run summary, reasons, errors) cannot act on the terminal: its
control and escape sequences are shown, not obeyed."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness import cli
from harness.report import summary_lines
from harness.report._text import terminal_safe
from harness.report.model import build_report_model

try:
    from test_report_support import fake_catalogue, record, write_run
except ImportError:  # tests/unit became a package
    from tests.unit.test_report_support import fake_catalogue, record, write_run

HOSTILE = "login banner \x1b]0;pwned\x07\x1b[2J end"
SHOWN = r"login banner \x1b]0;pwned\x07\x1b[2J end"


def _unsafe(text: str) -> list[str]:
    return [c for c in text if ord(c) < 0x20 or 0x7F <= ord(c) <= 0x9F or 0x202A <= ord(c) <= 0x202E]


@pytest.mark.parametrize(("raw", "shown"), [
    (HOSTILE, SHOWN),
    ("a\tb\r\nc", r"a\x09b\x0d\x0ac"),
    ("csi \x9b2J del \x7f", r"csi \x9b2J del \x7f"),
    ("name \u202egnp.exe", r"name \u202egnp.exe"),
    ("lone \ud800 surrogate", r"lone \ud800 surrogate"),
    ("plain text, spaces  and é ü 中 stay", "plain text, spaces  and é ü 中 stay"),
])
def test_terminal_safe_shows_controls(raw: str, shown: str) -> None:
    assert terminal_safe(raw) == shown


def test_terminal_safe_is_idempotent_and_keeps_backslashes() -> None:
    assert terminal_safe(terminal_safe(HOSTILE)) == SHOWN
    assert terminal_safe(r"C:\path\x1b") == r"C:\path\x1b"
    assert terminal_safe(42) == "42"


def test_terminal_safe_can_keep_lines() -> None:
    assert terminal_safe("one\x1b[2J\ntwo\r", keep_newlines=True) == "one\\x1b[2J\ntwo\\x0d"


def test_summary_shows_a_hostile_reason_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run", [record("5.6-1-2", "FAIL", reason=HOSTILE, unit="U1")])
    lines = summary_lines(build_report_model(run, fake_catalogue()))
    line = next(line for line in lines if line.lstrip().startswith("5.6-1"))
    assert SHOWN in line
    assert not [bad for line in lines for bad in _unsafe(line)]


def test_harness_report_prints_a_hostile_reason_escaped(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    run = write_run(tmp_path / "run", [record("5.6-1-2", "FAIL", reason=HOSTILE, unit="U1")])
    cli.main(["report", str(run), "--no-allure"])
    out = capsys.readouterr().out
    assert SHOWN in out
    assert not _unsafe(out.replace("\n", ""))


def test_error_messages_are_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    cli._error("simulator ended:\n" + HOSTILE)
    err = capsys.readouterr().err
    assert err == f"harness: simulator ended:\n{SHOWN}\n"
