"""The device's own delays, all multiplied by --time-scale (0 = instant, 1 = realistic)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from dataclasses import dataclass

# bench/update_overhead.py puts the device's own delays on the run's timeline from these lines.
_LOG_DELAYS = bool(os.environ.get("HARNESS_SIM_LOG_DELAYS"))


def log_delay(started: float, elapsed: float) -> None:
    """One delay of the device as it really elapsed (a power cut ends a boot early): wall-clock
    start and length, so that overlapping delays are counted once."""
    if _LOG_DELAYS and elapsed > 0:
        print(f"device delay {elapsed:.3f} s from {started:.3f}", file=sys.stderr, flush=True)


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
        started = time.time()
        try:
            await asyncio.sleep(max(0.0, seconds * self.scale))  # sleep-ok: device delay
        finally:
            log_delay(started, time.time() - started)
