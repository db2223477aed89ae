"""A unit's non-volatile memory: one JSON file per unit, written atomically, mode 0600 (it holds
passwords)."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from harness.sim.catalog import FIRMWARE

FORMAT = 1


def empty_user_data() -> dict:
    return {"wifi": {"ssid": "", "psk": ""}}


@dataclass
class FlashState:
    serial: str
    label_scheme: str  # what the label was made with: a different scheme means a different product
    label: str
    password: str
    user_data: dict = field(default_factory=empty_user_data)
    format: int = FORMAT
    firmware: str = FIRMWARE  # the installed version: an update writes it, nothing else changes it
    serial_override: str | None = None  # a rewritten identity (only where behaviour identity_writable)
    image_modified: bool = False  # a byte of the installed image was changed outside an update (fw-patch)


class Flash:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> FlashState | None:
        """The stored state, or None when the unit is blank (no file, unreadable or another format)."""
        try:
            raw = json.loads(self.path.read_text())
            state = FlashState(**raw)
        except (OSError, ValueError, TypeError):
            return None
        return state if state.format == FORMAT else None

    def save(self, state: FlashState) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as fh:
            json.dump(asdict(state), fh, indent=2)
        os.replace(tmp, self.path)
