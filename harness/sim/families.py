"""Simulated device families: the reference hub (personas `compliant`, `legacy`) and devices built
unlike it (a BusyBox-style camera, a Tasmota-style plug). Each family has its own command line
behind `harness sim --persona NAME`; this table routes the persona to it."""

from __future__ import annotations

import importlib
from collections.abc import Callable

# persona → "module:function" taking argv and returning an exit status. Personas not listed here
# belong to the reference hub (harness.sim.cli).
FAMILIES: dict[str, str] = {
    "camera": "harness.sim.camera.cli:main",
    "plug": "harness.sim.plug.cli:main",
}


def persona_of(argv: list[str]) -> str | None:
    for i, arg in enumerate(argv):
        if arg == "--persona" and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith("--persona="):
            return arg.split("=", 1)[1]
    return None


def entry_for(argv: list[str]) -> Callable[[list[str]], int] | None:
    target = FAMILIES.get(persona_of(argv) or "")
    if target is None:
        return None
    module, _, func = target.partition(":")
    return getattr(importlib.import_module(module), func)  # type: ignore[no-any-return]
