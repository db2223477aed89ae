"""The plugin interface for package formats, and the registry that picks one for a file.

A format plugin knows where a package keeps its version and signature, so it can derive the
negative test packages that keep everything else intact. A lab with a vendor format writes one
small class and loads it with ``--format-plugin module:attr`` (or the entry point group
``iot_harness.firmware_formats``), or declares it in the lab configuration (``firmware_formats``);
a tar/zip container with a manifest and a detached signature needs no code at all (``container``,
described in the profile); without either, the byte-level fallback still flips and truncates.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
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
    "tamper_manifest": "a field added to a signed manifest, the old signature kept (container format)",
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


BUILTIN_FORMATS = ("simfw1", "container", "raw")


def _load_declared(name: str, plugins: Mapping[str, str]) -> None:
    """Load the plugin the lab declares for ``name``: ``module:attr``, or an entry point name."""
    target = plugins[name]
    if ":" in target:
        load_plugin(target)
        return
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name == target:
            obj = ep.load()
            register_format(obj() if isinstance(obj, type) else obj)
            return
    raise FirmwareError(f"firmware format {name!r}: no entry point {target!r} in group {ENTRY_POINT_GROUP}")


def resolve_format(name: str | None, *, container: Any = None,
                   plugins: Mapping[str, str] | None = None) -> PackageFormat | None:
    """The format ``updates.format`` names: ``container`` (described by ``container``, a
    ContainerSpec or its dict), a built-in, a plugin the lab configuration declares under that name
    (``firmware_formats``), or an installed one. None: no name, detect per file."""
    if name == "container" or (name is None and container is not None):
        if container is None:
            raise FirmwareError("updates.format is 'container' but updates.container describes no container")
        from pydantic import ValidationError

        from harness.firmware.container import ContainerFormat
        spec = container.model_dump() if hasattr(container, "model_dump") else dict(container)
        try:
            return ContainerFormat(spec)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise FirmwareError(f"updates.container.{where}: {first['msg']}") from None
    if name is None:
        return None
    if plugins and name in plugins:
        _load_declared(name, plugins)
    return get_format(name)


def format_problems(name: str | None, *, container: Any = None,
                    plugins: Mapping[str, str] | None = None) -> list[str]:
    """Why ``updates.format`` cannot be used (for ``harness validate``); empty when it can."""
    try:
        resolve_format(name, container=container, plugins=plugins)
    except FirmwareError as exc:
        hint = "" if plugins and name in plugins else (
            f" — a built-in ({', '.join(BUILTIN_FORMATS)}), a plugin declared in the lab configuration's "
            "firmware_formats, or an installed entry point")
        return [f"updates.format: {exc}{hint}"]
    except Exception as exc:  # noqa: BLE001 - a plugin's import may fail any way: say so, don't crash validate
        return [f"updates.format {name!r}: the plugin could not be loaded: {type(exc).__name__}: {exc}"]
    return []
