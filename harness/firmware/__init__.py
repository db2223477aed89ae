"""Firmware package tooling: the SIMFW1 container, signing keys, inspection, negative packages.

The harness uses this to *prepare* update tests (a valid package from the manufacturer, and the
derived packages a secure device must refuse). A device's own verifier is separate on purpose: the
simulator's lives in harness/sim/updates.py and parses the documented format on its own.
"""

from __future__ import annotations

from typing import Any

from harness.firmware.errors import FirmwareError, PackageError
from harness.firmware.formats import (
    KINDS,
    PackageFormat,
    detect_format,
    get_format,
    list_formats,
    load_plugin,
    register_format,
)
from harness.firmware.keys import generate_keypair, key_id, load_private_key, load_public_key
from harness.firmware.simfw1 import Package, VerifyResult, build_package, parse_package, verify


def inspect_package(data: bytes, *, format: str | None = None) -> dict[str, Any]:
    fmt = get_format(format) if format else detect_format(data)
    return fmt.inspect(data)


def derive(data: bytes, kind: str, *, format: str | None = None, **kw: Any) -> bytes:
    """A negative test package derived from ``data`` (see KINDS)."""
    fmt = get_format(format) if format else detect_format(data)
    if kind not in fmt.kinds:
        hint = ("; the byte-level fallback does not know where a signature or version is: "
                "add a format plugin (docs/firmware.md)") if fmt.name == "raw" else ""
        raise FirmwareError(f"format {fmt.name} cannot derive {kind!r} (it supports {', '.join(fmt.kinds)}){hint}")
    return fmt.derive(data, kind, **kw)


__all__ = [
    "KINDS", "FirmwareError", "Package", "PackageError", "PackageFormat", "VerifyResult", "build_package",
    "derive", "detect_format", "list_formats", "generate_keypair", "get_format", "inspect_package", "key_id",
    "load_plugin", "load_private_key", "load_public_key", "parse_package", "register_format", "verify",
]
