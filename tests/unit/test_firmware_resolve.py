"""updates.format names a built-in, the described container, or a plugin the lab declares."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.firmware import FirmwareError
from harness.firmware.formats import format_problems, resolve_format

PLUGIN = '''
class VendorFormat:
    name = "vendorfw"
    kinds = ("flip_byte",)

    def detect(self, data):
        return data.startswith(b"VND")

    def inspect(self, data):
        return {"format": self.name, "header": {"version": data[3:8].decode()}}

    def derive(self, data, kind, **kw):
        return data[:-1] + bytes([data[-1] ^ 1])
'''
CONTAINER = {"archive": "zip", "manifest": "m.json", "payload": ["fw.bin"]}


def test_builtin_and_container() -> None:
    assert resolve_format(None) is None  # detected per file
    fmt = resolve_format("simfw1")
    assert fmt is not None and fmt.name == "simfw1"
    fmt = resolve_format("container", container=CONTAINER)
    assert fmt is not None and fmt.name == "container"
    fmt = resolve_format(None, container=CONTAINER)  # a description alone is enough
    assert fmt is not None and fmt.name == "container"
    with pytest.raises(FirmwareError, match="describes no container"):
        resolve_format("container")
    assert format_problems("simfw1") == [] and format_problems("container", container=CONTAINER) == []


def test_lab_declared_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.firmware import formats
    monkeypatch.setattr(formats, "_REGISTRY", list(formats.list_formats()[:-1]))  # registrations stay here
    (tmp_path / "lab_vendorfw.py").write_text(PLUGIN)
    monkeypatch.syspath_prepend(str(tmp_path))
    fmt = resolve_format("vendorfw", plugins={"vendorfw": "lab_vendorfw:VendorFormat"})
    assert fmt is not None and fmt.inspect(b"VND1.2.0xx")["header"]["version"] == "1.2.0"
    assert format_problems("vendorfw", plugins={"vendorfw": "lab_vendorfw:VendorFormat"}) == []


def test_problems_are_named_not_raised() -> None:
    [problem] = format_problems("nosuchfw")
    assert "nosuchfw" in problem and "firmware_formats" in problem
    [problem] = format_problems("x", plugins={"x": "no_such_module_here:Fmt"})
    assert "no_such_module_here" in problem
    [problem] = format_problems("y", plugins={"y": "no-such-entry-point"})
    assert "entry point" in problem
    [problem] = format_problems("container", container={"archive": "rar", "manifest": "m", "payload": ["p"]})
    assert "updates.container.archive" in problem
