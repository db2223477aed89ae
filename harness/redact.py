"""Secret redaction for everything the harness writes.

Every secret value the profile or lab configuration resolves is registered here; transcripts,
results records and attachments pass through ``Redactor.redact`` before they reach disk. A
credential that a check *found working* on a device is a finding, not a secret: the check
declassifies it so the evidence can show it.
"""

from __future__ import annotations

import re
import threading

MASK = "«redacted»"
# Very short values (e.g. a 1-char PIN) would shred every transcript if masked as substrings;
# they are still masked where they appear as a whole token.
_MIN_SUBSTRING_LEN = 4


class Redactor:
    def __init__(self) -> None:
        self._secrets: dict[str, str] = {}  # value -> reference name (for the mask label)
        self._declassified: set[str] = set()
        self._lock = threading.Lock()
        self._pattern: re.Pattern[str] | None = None
        self._none_live = False

    def add(self, value: str, name: str = "secret") -> None:
        if not value:
            return
        with self._lock:
            if value not in self._secrets:
                self._secrets[value] = name
                self._pattern = None
                self._none_live = False

    def declassify(self, value: str) -> None:
        """A credential the device accepted from a public dictionary is a finding, not a secret."""
        with self._lock:
            self._declassified.add(value)
            self._pattern = None
            self._none_live = False

    def secrets(self) -> list[str]:
        with self._lock:
            return [v for v in self._secrets if v not in self._declassified]

    def _compiled(self) -> re.Pattern[str] | None:
        if self._none_live:
            return None  # the common case on a flood with no secrets: no lock, no rebuild
        with self._lock:
            if self._pattern is None:
                live = [v for v in self._secrets if v not in self._declassified]
                if not live:
                    self._none_live = True
                    return None
                # Longest first so that a secret containing another is masked whole.
                parts = []
                for v in sorted(live, key=len, reverse=True):
                    esc = re.escape(v)
                    parts.append(esc if len(v) >= _MIN_SUBSTRING_LEN else rf"(?<!\w){esc}(?!\w)")
                self._pattern = re.compile("|".join(parts))
            return self._pattern

    def redact(self, text: str) -> str:
        pattern = self._compiled()
        if pattern is None or not text:
            return text
        return pattern.sub(MASK, text)

    def redact_bytes(self, data: bytes, encoding: str = "utf-8") -> bytes:
        return self.redact(data.decode(encoding, errors="replace")).encode(encoding)


# One redactor per process: secrets are resolved once per process from the profile and lab
# configuration, and every writer in that process uses it.
REDACTOR = Redactor()
