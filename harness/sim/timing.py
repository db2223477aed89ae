"""The device's own delays, all multiplied by --time-scale (0 = instant, 1 = realistic)."""

from __future__ import annotations

import asyncio
import os
import sys
from dataclasses import dataclass

# bench/update_overhead.py adds up the device's own delays from these lines.
_LOG_DELAYS = bool(os.environ.get("HARNESS_SIM_LOG_DELAYS"))


@dataclass(frozen=True)
class Delays:
    scale: float = 1.0
    boot: float = 2.0
    reset_erase: float = 1.0
    failed_login: float = 0.3
    install: float = 3.0  # writing an accepted update to the inactive partition, before its boot
    button_reset_hold: float = 5.0  # the reset button held at least this long means factory reset

    async def sleep(self, seconds: float) -> None:
        # Still yields at scale 0, so a delay is always a scheduling point.
        if _LOG_DELAYS and seconds * self.scale > 0:
            print(f"device delay {seconds * self.scale:.3f} s", file=sys.stderr, flush=True)
        await asyncio.sleep(max(0.0, seconds * self.scale))  # sleep-ok: device delay
