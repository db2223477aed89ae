"""`harness firmware` (harness/firmware/cli.py): keygen, build, inspect, derive; exit codes."""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

import pytest

from harness.firmware import parse_package, verify
from harness.firmware.cli import main, register
from harness.firmware.keys import load_public_key


@pytest.fixture
def lab(tmp_path: Path) -> Path:
    assert main(["keygen", str(tmp_path / "keys"), "maker"]) == 0
    assert main(["keygen", str(tmp_path / "keys"), "attacker"]) == 0
    (tmp_path / "payload.bin").write_bytes(b"firmware image " * 50)
    assert main(["build", "--payload", str(tmp_path / "payload.bin"), "--model", "SimIoT Hub H1",
                 "--version", "1.5.0", "--key", str(tmp_path / "keys" / "maker.key"),
                 "--out", str(tmp_path / "fw.simfw")]) == 0
    return tmp_path


def test_build_and_inspect(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["inspect", str(lab / "fw.simfw")]) == 0
    out = capsys.readouterr().out
    assert "header.version" in out and "1.5.0" in out and "signed" in out
    assert main(["inspect", str(lab / "fw.simfw"), "--json", "--trust", str(lab / "keys" / "maker.pub")]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["verify"] == {"valid": True, "reason": "ok", "key_id": info["header"]["key_id"]}


def test_inspect_trust_failure_exits_1(lab: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(lab / "fw.simfw"), "--trust", str(lab / "keys" / "attacker.pub")]) == 1
    assert "signature invalid" in capsys.readouterr().out


@pytest.mark.parametrize("kind, extra, reason", [
    ("flip_byte", [], "signature invalid"),
    ("strip_signature", [], "unsigned package"),
    ("foreign_signature", ["--key", "keys/attacker.key"], "signature invalid"),
    ("relabel_version", ["--version", "9.9.9"], "signature invalid"),
    ("rollback", ["--key", "keys/maker.key", "--version", "1.4.1"], "ok"),
])
def test_derive_kinds(lab: Path, kind: str, extra: list[str], reason: str) -> None:
    extra = [str(lab / e) if e.startswith("keys/") else e for e in extra]
    out = lab / f"{kind}.simfw"
    assert main(["derive", str(lab / "fw.simfw"), "--kind", kind, *extra, "--out", str(out)]) == 0
    pkg = parse_package(out.read_bytes())
    assert verify(pkg, [load_public_key(lab / "keys" / "maker.pub")]).reason == reason
    if kind == "rollback":
        assert pkg.version == "1.4.1"


def test_derive_on_unknown_format_and_offsets(lab: Path) -> None:
    blob = lab / "vendor.bin"
    blob.write_bytes(bytes(100))
    assert main(["derive", str(blob), "--kind", "flip_byte", "--offset", "0x10", "--xor", "0xff",
                 "--out", str(lab / "vendor-flip.bin")]) == 0
    assert (lab / "vendor-flip.bin").read_bytes()[16] == 0xFF
    assert main(["derive", str(blob), "--kind", "truncate", "--length", "7", "--out", str(lab / "cut.bin")]) == 0
    assert len((lab / "cut.bin").read_bytes()) == 7


@pytest.mark.parametrize("argv, message", [
    (["inspect", "missing.simfw"], "cannot read"),
    (["derive", "fw.simfw", "--kind", "rollback", "--out", "x.simfw"], "needs the manufacturer's private key"),
    (["derive", "vendor.bin", "--kind", "strip_signature", "--out", "x.bin"], "cannot derive"),
    (["derive", "fw.simfw", "--kind", "flip_byte", "--out", "fw.simfw"], "is the input file"),
    (["derive", "fw.simfw", "--kind", "flip_byte", "--key", "payload.bin", "--out", "y"], "not an unencrypted PEM"),
    (["inspect", "fw.simfw", "--format", "nope"], "unknown package format"),
    (["inspect", "vendor.bin", "--trust", "keys/maker.pub"], "no signature check"),
    (["keygen", "keys", "maker"], "never overwritten"),
    (["inspect", "fw.simfw", "--format-plugin", "no_such_mod:X"], "format plugin"),
])
def test_bad_input_is_one_line_and_exit_2(lab: Path, argv: list[str], message: str, monkeypatch: pytest.MonkeyPatch,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(lab)
    (lab / "vendor.bin").write_bytes(bytes(100))
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_usage_errors_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["derive", "x", "--kind", "nonsense", "--out", "y"]) == 2
    assert main(["firmware", "build", "--payload", "p", "--model", "m", "--version", "1", "--out", "o"]) == 2
    assert "Traceback" not in capsys.readouterr().err


def test_register_into_a_parent_cli(lab: Path) -> None:
    parser = argparse.ArgumentParser(prog="harness")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(["firmware", "inspect", str(lab / "fw.simfw")])
    assert args.func(args) == 0


def test_runs_as_a_module(lab: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "harness.firmware.cli", "inspect", str(lab / "fw.simfw"), "--json"],
                          capture_output=True, text=True, timeout=60, check=False)
    assert proc.returncode == 0 and json.loads(proc.stdout)["format"] == "simfw1"
