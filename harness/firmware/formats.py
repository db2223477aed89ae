"""The plugin interface for package formats, and the registry that picks one for a file.

A format plugin knows where a package keeps its version and signature, so it can derive the
negative test packages that keep everything else intact. A lab with a vendor format writes one
small class and loads it with ``--format-plugin module:attr`` (or the entry point group
``iot_harness.firmware_formats``); without one, the byte-level fallback still flips and truncates.
"""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any, Protocol, runtime_checkable

from harness.firmware.errors import FirmwareError

ENTRY_POINT_GROUP = "iot_harness.firmware_formats"

# What each derivation is for (shown by the CLI; the plugins say which they support).
KINDS: dict[str, str] = {
    "flip_byte": "one payload byte changed; the package still parses, only the signature can tell",
    "strip_signature": "the signature removed, everything else unchanged",
    "foreign_signature": "re-signed with a key the manufacturer does not own",
    "relabel_version": "the header's version changed; not re-signed unless a key is given",
    "rollback": "an older version, properly signed with the manufacturer's key, which it needs",
    "truncate": "the file cut short: a malformed package",
}


@runtime_checkable
class PackageFormat(Protocol):
    name: str
    kinds: tuple[str, ...]  # the derivations this format supports

    def detect(self, data: bytes) -> bool: ...

    def inspect(self, data: bytes) -> dict[str, Any]: ...

    def derive(self, data: bytes, kind: str, **kw: Any) -> bytes: ...


_REGISTRY: list[PackageFormat] = []
_fallback: PackageFormat | None = None
_entry_points_loaded = False


def register_format(fmt: PackageFormat, *, fallback: bool = False) -> PackageFormat:
    """Add a format; a later registration is asked first, the fallback last."""
    global _fallback
    if not isinstance(fmt, PackageFormat):
        raise FirmwareError(f"{fmt!r} does not implement PackageFormat (name, kinds, detect, inspect, derive)")
    if fallback:
        _fallback = fmt
        return fmt
    for i, existing in enumerate(_REGISTRY):
        if existing.name == fmt.name:
            del _REGISTRY[i]
            break
    _REGISTRY.insert(0, fmt)
    return fmt


def _load_entry_points() -> None:
    global _entry_points_loaded
    if _entry_points_loaded:
        return
    _entry_points_loaded = True
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        obj = ep.load()
        register_format(obj() if isinstance(obj, type) else obj)


def load_plugin(spec: str) -> PackageFormat:
    """Load and register ``module:attr`` (a class or an instance)."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise FirmwareError(f"format plugin {spec!r}: write it as module:attr")
    try:
        obj = getattr(importlib.import_module(module_name), attr)
    except (ImportError, AttributeError) as exc:
        raise FirmwareError(f"format plugin {spec!r}: {exc}") from exc
    return register_format(obj() if isinstance(obj, type) else obj)


def list_formats() -> list[PackageFormat]:
    _ensure_builtin()
    _load_entry_points()
    return [*_REGISTRY, *([_fallback] if _fallback else [])]


def get_format(name: str) -> PackageFormat:
    for fmt in list_formats():
        if fmt.name == name:
            return fmt
    raise FirmwareError(f"unknown package format {name!r} (known: {', '.join(f.name for f in list_formats())})")


def detect_format(data: bytes) -> PackageFormat:
    """The first format that recognises the bytes; the byte-level fallback otherwise."""
    for fmt in list_formats():
        if fmt.detect(data):
            return fmt
    raise FirmwareError("no package format recognises these bytes and no fallback is registered")


def _ensure_builtin() -> None:
    if _fallback is None:
        # Imported here: the built-in plugins import this module for the protocol.
        from harness.firmware.raw import RawFormat
        from harness.firmware.simfw1_format import Simfw1Format
        register_format(RawFormat(), fallback=True)
        if not any(f.name == Simfw1Format.name for f in _REGISTRY):
            _REGISTRY.append(Simfw1Format())
