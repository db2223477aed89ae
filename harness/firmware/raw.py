"""Byte-level fallback for packages whose format the harness does not know.

Without knowing where the signature or the version lives, only two derivations are honest: change
one byte, and cut the file short. Which byte matters is the lab's call (``offset``); the default is
the middle of the file, far from headers and trailers that a device might not cover.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from typing import Any

from harness.firmware.errors import FirmwareError

# A few well-known leading bytes, so `inspect` can say what an unknown package looks like.
_MAGICS: tuple[tuple[bytes, str], ...] = (
    (b"\x1f\x8b", "gzip"),
    (b"PK\x03\x04", "zip"),
    (b"\x7fELF", "ELF"),
    (b"\x27\x05\x19\x56", "U-Boot legacy image (uImage)"),
    (b"\xd0\x0d\xfe\xed", "flattened device tree / FIT image"),
    (b"hsqs", "squashfs (little-endian)"),
    (b"sqsh", "squashfs (big-endian)"),
    (b"HDR0", "TRX (Broadcom)"),
    (b"\xfd7zXZ\x00", "xz"),
    (b"BZh", "bzip2"),
    (b"\x28\xb5\x2f\xfd", "zstd"),
    (b"ANDROID!", "Android boot image"),
)


def guess_container(data: bytes) -> str | None:
    for magic, name in _MAGICS:
        if data.startswith(magic):
            return name
    return None


def entropy_bits_per_byte(data: bytes) -> float:
    """Shannon entropy; near 8 means compressed or encrypted (flipping a byte there breaks more)."""
    if not data:
        return 0.0
    n = len(data)
    return -sum(c / n * math.log2(c / n) for c in Counter(data).values())


def flip(data: bytes, offset: int, xor: int = 0x01) -> bytes:
    if not data:
        raise FirmwareError("cannot flip a byte of an empty file")
    if not 0 <= offset < len(data):
        raise FirmwareError(f"offset {offset} outside 0..{len(data) - 1}")
    if not 1 <= xor <= 0xFF:
        raise FirmwareError(f"xor mask {xor} must be 1..255 (0 would change nothing)")
    out = bytearray(data)
    out[offset] ^= xor
    return bytes(out)


def truncate(data: bytes, length: int | None = None) -> bytes:
    length = len(data) // 2 if length is None else length
    if not 0 <= length < len(data):
        raise FirmwareError(f"length {length}: a truncation keeps 0..{len(data) - 1} of {len(data)} bytes")
    return data[:length]


class RawFormat:
    name = "raw"
    kinds = ("flip_byte", "truncate")

    def detect(self, data: bytes) -> bool:
        return True

    def inspect(self, data: bytes) -> dict[str, Any]:
        return {
            "format": self.name,
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
            "looks_like": guess_container(data),
            "entropy_bits_per_byte": round(entropy_bits_per_byte(data), 3),
            "head_hex": data[:32].hex(),
        }

    def derive(self, data: bytes, kind: str, **kw: Any) -> bytes:
        if kind == "flip_byte":
            offset = kw.get("offset")
            return flip(data, len(data) // 2 if offset is None else int(offset), int(kw.get("xor") or 0x01))
        if kind == "truncate":
            length = kw.get("length")
            return truncate(data, None if length is None else int(length))
        raise FirmwareError(f"kind {kind!r} needs a format that knows where the signature and version are; "
                            f"the byte-level format supports {', '.join(self.kinds)} "
                            f"(add a format plugin, see docs/firmware.md)")
