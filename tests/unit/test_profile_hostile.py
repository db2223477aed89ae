"""Hostile input files: `harness validate` refuses each one quickly, in bounded memory, with a
located `file:line: field: message` (exit 2) and never a traceback."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest

from harness.profile import ConfigError
from harness.profile.resolve import open_bench
from harness.profile.yamlpos import MAX_FILE_BYTES, parse_located

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "device_profiles" / "template-real-device.yaml"
SECONDS = 20.0  # generous on a shared 2-core machine; an unbounded parse takes minutes or never ends
MEMORY = 1 << 30  # address space of the validating process: a billion laughs needs many times more


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY, MEMORY))


def _validate(*args: str | Path) -> subprocess.CompletedProcess[str]:
    start = time.monotonic()
    out = subprocess.run([sys.executable, "-m", "harness.cli", "validate", *map(str, args)], capture_output=True,
                         text=True, timeout=60, cwd=ROOT, preexec_fn=_limit_memory)
    assert time.monotonic() - start < SECONDS, "validation took too long"
    return out


def _refused(out: subprocess.CompletedProcess[str], file: Path | str, *, line: int | None = None,
             text: str = "") -> str:
    """Exit 2, no traceback, the first message located in ``file`` (at ``line`` when given)."""
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr and "Error:" not in out.stderr, out.stderr
    first = out.stderr.splitlines()[0]
    where = re.escape(str(file)) + (f":{line}" if line else r"(:\d+)?")
    assert re.match(where + r": [^:]+: \S", first), first
    assert text in out.stderr, out.stderr
    return out.stderr


def _laughs(depth: int = 10) -> str:
    lines = ['lol0: &lol0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"lol{i}: &lol{i} [" + ", ".join([f"*lol{i - 1}"] * 9) + "]" for i in range(1, depth)]
    return "\n".join(lines) + "\n"


def _profile_text() -> str:
    return TEMPLATE.read_text(encoding="utf-8")


def _line_of(text: str, needle: str) -> int:
    return text[:text.index(needle)].count("\n") + 1


# --- the device profile ------------------------------------------------------------------------------

def test_billion_laughs_is_refused_fast_in_bounded_memory(tmp_path: Path) -> None:
    path = tmp_path / "laughs.yaml"
    path.write_text(_laughs() + _profile_text(), encoding="utf-8")
    _refused(_validate(path), path, text="aliases")


def test_recursive_alias_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "loop.yaml"
    path.write_text("loop: &loop [*loop]\n" + _profile_text(), encoding="utf-8")
    _refused(_validate(path), path, line=1, text="loop: nested deeper")


@pytest.mark.parametrize("opening, closing", [("[", "]"), ("{a: ", "}")])
def test_ten_thousand_levels_of_nesting_are_refused(tmp_path: Path, opening: str, closing: str) -> None:
    path = tmp_path / "deep.yaml"
    text = _profile_text()
    path.write_text(text + "deep: " + opening * 10_000 + "1" + closing * 10_000 + "\n", encoding="utf-8")
    _refused(_validate(path), path, line=text.count("\n") + 1, text="nested deeper than")


def test_a_20_mb_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.yaml"
    path.write_text(_profile_text() + ("# padding\n" * (2 * 1024 * 1024)), encoding="utf-8")
    assert path.stat().st_size > 20_000_000
    _refused(_validate(path), path, text="larger than")


def test_a_nul_byte_is_refused_with_its_line(tmp_path: Path) -> None:
    text = _profile_text()
    path = tmp_path / "nul.yaml"
    path.write_bytes(text.replace("model:", "mo\0del:", 1).encode())
    _refused(_validate(path), path, line=_line_of(text, "model:"), text="NUL byte")


def test_a_utf16_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "utf16.yaml"
    path.write_bytes(_profile_text().encode("utf-16"))
    _refused(_validate(path), path, line=1)


def test_invalid_utf8_is_refused_with_its_line(tmp_path: Path) -> None:
    text = _profile_text()
    path = tmp_path / "latin1.yaml"
    path.write_bytes(text.replace("model:", "model: caf\xe9 ", 1).encode("latin-1", "replace"))
    _refused(_validate(path), path, line=_line_of(text, "model:"), text="not UTF-8 text: byte 0xe9")


def test_a_lone_surrogate_escape_in_a_value_is_refused(tmp_path: Path) -> None:
    text = _profile_text()
    m = re.search(r"^(  model: ).*$", text, re.M)
    assert m
    path = tmp_path / "surrogate.yaml"
    path.write_text(text[:m.start()] + m.group(1) + '"EX\\udc80"' + text[m.end():], encoding="utf-8")
    _refused(_validate(path), path, line=_line_of(text, "  model:"), text="product.model: holds a lone surrogate")


def test_a_control_character_is_refused_with_its_line(tmp_path: Path) -> None:
    text = _profile_text()
    path = tmp_path / "control.yaml"
    path.write_text(text.replace("model:", "model: \x1b[2J", 1), encoding="utf-8")
    _refused(_validate(path), path, line=_line_of(text, "model:"), text="U+001B")


def test_a_directory_as_profile_is_refused(tmp_path: Path) -> None:
    _refused(_validate(tmp_path), tmp_path, text="directory")


# --- the lab configuration and the files it names ----------------------------------------------------

LAB = "schema_version: 1\nname: hostile bench\n"


def _lab(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "lab.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_billion_laughs_lab_is_refused(tmp_path: Path) -> None:
    lab = _lab(tmp_path, _laughs() + LAB)
    _refused(_validate(TEMPLATE, "--lab", lab, "--resolve"), lab, text="aliases")


def test_deeply_nested_lab_is_refused(tmp_path: Path) -> None:
    lab = _lab(tmp_path, LAB + "deep: " + "[" * 10_000 + "]" * 10_000 + "\n")
    _refused(_validate(TEMPLATE, "--lab", lab, "--resolve"), lab, line=3, text="nested deeper than")


def test_nul_in_lab_is_refused(tmp_path: Path) -> None:
    lab = tmp_path / "lab.yaml"
    lab.write_bytes(LAB.encode() + b"runtime: a\0b\n")
    _refused(_validate(TEMPLATE, "--lab", lab), lab, line=3, text="NUL byte")


def test_dev_zero_as_secrets_file_is_refused(tmp_path: Path) -> None:
    lab = _lab(tmp_path, LAB + "secrets:\n  file: /dev/zero\n")
    err = _refused(_validate(TEMPLATE, "--lab", lab, "--resolve"), "/dev/zero", text="not a file")
    assert f"{lab}:4: secrets.file: names this secrets file" in err


def test_a_directory_as_runtime_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "facts").mkdir()
    lab = _lab(tmp_path, LAB + "runtime: facts\n")
    err = _refused(_validate(TEMPLATE, "--lab", lab, "--resolve"), tmp_path / "facts", text="directory")
    assert f"{lab}:3: runtime: names this runtime facts file" in err


def test_an_oversized_secrets_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secrets.yaml").write_text("a: b\n" + "#" * (MAX_FILE_BYTES + 10), encoding="utf-8")
    lab = _lab(tmp_path, LAB + "secrets:\n  file: secrets.yaml\n")
    _refused(_validate(TEMPLATE, "--lab", lab, "--resolve"), tmp_path / "secrets.yaml", text="larger than")


def test_billion_laughs_secrets_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secrets.yaml").write_text(_laughs(), encoding="utf-8")
    lab = _lab(tmp_path, LAB + "secrets:\n  file: secrets.yaml\n")
    _refused(_validate(TEMPLATE, "--lab", lab, "--resolve"), tmp_path / "secrets.yaml", text="aliases")


def test_deeply_nested_json_secrets_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "secrets.json").write_text('{"a": ' + "[" * 100_000 + "]" * 100_000 + "}", encoding="utf-8")
    lab = _lab(tmp_path, LAB + "secrets:\n  file: secrets.json\n")
    _refused(_validate(TEMPLATE, "--lab", lab, "--resolve"), tmp_path / "secrets.json", text="nested")


@pytest.mark.parametrize("name, text, message", [
    ("secrets.json", '{"admin": "hunter2\\udc80"}', "lone surrogate"),
    ("secrets.yaml", 'admin: "hunter2\\udc80"\n', "lone surrogate"),
    ("secrets.yaml", "admin: 2024-13-45\n", "month must be in 1..12"),
])
def test_a_secret_that_is_no_text_is_refused_without_showing_it(tmp_path: Path, name: str, text: str,
                                                                 message: str) -> None:
    (tmp_path / name).write_text(text, encoding="utf-8")
    lab = _lab(tmp_path, LAB + f"secrets:\n  file: {name}\n")
    err = _refused(_validate(TEMPLATE, "--lab", lab, "--resolve"), tmp_path / name, text=message)
    assert "hunter2" not in err and "2024-13-45" not in err


def test_a_pipe_without_writer_as_secrets_file_does_not_hang(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "secrets.yaml")
    lab = _lab(tmp_path, LAB + "secrets:\n  file: secrets.yaml\n")
    _refused(_validate(TEMPLATE, "--lab", lab, "--resolve"), tmp_path / "secrets.yaml", text="must be a mapping")


# --- CA files the configuration names, and the parser itself -----------------------------------------

@pytest.mark.parametrize("ca, text", [("/dev/zero", "not a file"), ("folder", "directory"),
                                      ("huge.pem", "larger than"), ("empty.pem", "no PEM certificate")])
def test_a_ca_file_that_is_no_certificate_is_refused(tmp_path: Path, ca: str, text: str) -> None:
    (tmp_path / "folder").mkdir()
    (tmp_path / "huge.pem").write_bytes(b"-----BEGIN CERTIFICATE-----\n" + b"A" * (MAX_FILE_BYTES + 1))
    (tmp_path / "empty.pem").write_bytes(b"")
    bench = open_bench(TEMPLATE)
    with pytest.raises(ConfigError, match=text) as exc:
        bench.ca_file(ca if ca.startswith("/") else str(tmp_path / ca), where="links.web.ca")
    assert exc.value.issues[0].field == "links.web.ca" or text != "no PEM certificate"


def test_a_ca_file_the_broker_writes_later_is_left_alone(tmp_path: Path) -> None:
    bench = open_bench(TEMPLATE)
    assert bench.ca_file(str(tmp_path / "ca.pem"), where="links.web.ca") == str(tmp_path / "ca.pem")


@pytest.mark.parametrize("text, line, field, message", [
    ("a: 2024-13-45\n", 1, "a", "month must be in 1..12"),
    ("a:\n  b: " + "9" * 5000 + "\n", 2, "a.b", "cannot read"),
    ('"\\udc80": 1\n', 1, "(document)", "lone surrogate"),
    ("a: 1\nb: [\n", 3, "(document)", "YAML syntax error"),
])
def test_values_the_parser_cannot_build_are_located(text: str, line: int, field: str, message: str) -> None:
    with pytest.raises(ConfigError) as exc:
        parse_located(text, "x.yaml")
    first = str(exc.value.issues[0])
    assert first.startswith(f"x.yaml:{line}: {field}: ") and message in first, first


def test_a_surrogate_in_a_file_name_still_prints() -> None:
    with pytest.raises(ConfigError) as exc:
        parse_located("a: [", "bad\udcff.yaml")
    assert str(exc.value).encode("utf-8").startswith(b"bad\\udcff.yaml:")
