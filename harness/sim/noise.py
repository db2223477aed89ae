"""The noisy_console robustness switch: what a real console adds around the same content (ANSI
colour, mixed line endings, unsolicited kernel log lines). Wording never resembles anything a
profile matches (no 'error', 'login', 'password', 'firmware', 'Rebooting', ...)."""

from __future__ import annotations

import random
import time

COLOURS = ("\x1b[1;32m", "\x1b[0;36m", "\x1b[1;33m", "\x1b[0;35m")
RESET = "\x1b[0m"
ENDINGS = ("\r\n", "\n", "\r")
KERNEL = ("wlan0: rx timeout", "wlan0: beacon loss", "mmc0: tuning execution", "thermal zone0: trip point")
P_KERNEL_BETWEEN = 0.3
P_KERNEL_BEFORE_PROMPT = 0.3
P_COLOUR_LINE = 0.5


class Noise:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.started = time.monotonic()

    def kernel_line(self) -> str:
        t = 12.0 + time.monotonic() - self.started
        return f"[{t:12.6f}] {self.rng.choice(KERNEL)}\r\n"

    def _colour(self, text: str) -> str:
        return f"{self.rng.choice(COLOURS)}{text}{RESET}" if text else text

    def apply(self, text: str) -> str:
        """Transform one output chunk (a message, possibly ending in a prompt); echo is left alone."""
        lines = text.split("\r\n")
        tail = lines.pop()  # after the last line break: a prompt, or ''
        if tail and self.rng.random() < P_KERNEL_BEFORE_PROMPT:
            lines.append(self.kernel_line().removesuffix("\r\n"))
        out = []
        for line in lines:
            shown = self._colour(line) if self.rng.random() < P_COLOUR_LINE else line
            out.append(shown + self.rng.choice(ENDINGS))
        result = "".join(out) + self._colour(tail)
        if self.rng.random() < P_KERNEL_BETWEEN:
            result = self.kernel_line() + result
        return result
