"""Secret redaction for everything the harness writes.

Every secret value the profile or lab configuration resolves is registered here; transcripts,
results records, attachments and reports pass through the redactor before they reach disk. A
credential that a check *found working* on a device is a finding, not a secret: the check
declassifies it so the evidence can show it.

A secret is masked in the forms a writer can give it, not only as typed: JSON-escaped (with and
without ``ensure_ascii``), ``repr``-escaped, HTML/XML-escaped and with control characters made
visible the way the reports show them. Structured values are redacted before they are serialised
(``redact_obj``: every string, dict key and value), and the serialised text is redacted again.
"""

from __future__ import annotations

import html
import json
import re
import threading
from typing import Any

MASK = "«redacted»"
# Very short values (e.g. a 1-char PIN) would shred every transcript if masked as substrings;
# they are still masked where they appear as a whole token.
_MIN_SUBSTRING_LEN = 4
# The characters the report writers (``clean``) and the terminal summary (``terminal_safe``) spell
# as visible escapes.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff\ufffe\uffff]")
_TERMINAL_UNSAFE = re.compile(r"[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
                              r"\ud800-\udfff]")


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def written_forms(value: str) -> set[str]:
    """The ways a writer of this harness can spell ``value`` on disk or on a terminal."""
    forms = {value}
    for ascii_only in (True, False):
        try:
            forms.add(json.dumps(value, ensure_ascii=ascii_only)[1:-1])
        except (UnicodeEncodeError, ValueError):
            pass
    forms.add(repr(value)[1:-1])
    forms.add(value.encode("unicode_escape").decode("ascii"))
    forms.add(value.encode("ascii", "backslashreplace").decode("ascii"))
    visible = _UNPRINTABLE.sub(_visible, value)
    terminal = _TERMINAL_UNSAFE.sub(_visible, value)
    forms.update((visible, terminal))
    for form in (value, visible, terminal):
        forms.add(html.escape(form, quote=True))
        forms.add(html.escape(form, quote=False))
        forms.add(form.replace("\n", "&#10;").replace("\r", "&#13;").replace("\t", "&#09;"))
        forms.add(html.escape(form, quote=True).replace("\n", "&#10;").replace("\r", "&#13;")
                  .replace("\t", "&#09;"))
    return {f for f in forms if f}


def _trie_regex(words: list[str]) -> str:
    """One regex matching any of ``words``, longest first (a secret containing another is masked
    whole), branching only where the words differ."""
    trie: dict[str, Any] = {}
    for word in words:
        node = trie
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _emit(trie)


def _emit(node: dict[str, Any]) -> str:
    out = []
    # Runs of single-child nodes are written iteratively: a PEM key is thousands of characters.
    while len(node) == 1 and "" not in node:
        (ch, node), = node.items()
        out.append(re.escape(ch))
    branches = [re.escape(ch) + _emit(child) for ch, child in node.items() if ch]
    if branches:
        group = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        if "" in node:
            group = f"(?:{group})?"  # greedy: the longer secret is tried first
        out.append(group)
    return "".join(out)


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
                forms = {f for v in live for f in written_forms(v)}
                # A declassified finding stays readable even where it is one spelling of a secret.
                forms -= {f for v in self._declassified for f in written_forms(v)}
                if not forms:
                    self._none_live = True
                    return None
                # Long forms as one trie (hundreds of session tokens must not cost hundreds of
                # tries per character of a console flood); short ones only as whole tokens.
                parts = [_trie_regex([v for v in forms if len(v) >= _MIN_SUBSTRING_LEN])]
                parts += [rf"(?<!\w){re.escape(v)}(?!\w)"
                          for v in sorted(forms, key=len, reverse=True) if len(v) < _MIN_SUBSTRING_LEN]
                self._pattern = re.compile("|".join(p for p in parts if p))
            return self._pattern

    def redact(self, text: str) -> str:
        pattern = self._compiled()
        if pattern is None or not text:
            return text
        return pattern.sub(MASK, text)

    def redact_bytes(self, data: bytes, encoding: str = "utf-8") -> bytes:
        return self.redact(data.decode(encoding, errors="replace")).encode(encoding)

    def redact_obj(self, obj: Any) -> Any:
        """``obj`` with every string in it redacted (dict keys too), before it is serialised:
        after ``json.dumps`` a secret with a quote or a backslash no longer reads as itself."""
        if self._compiled() is None:
            return obj
        return self._walk(obj, 0)

    def _walk(self, obj: Any, depth: int) -> Any:
        if depth > 200:  # records are shallow; a cycle or a hostile nesting is cut, not followed
            return MASK
        if isinstance(obj, str):
            return self.redact(obj)
        if isinstance(obj, dict):
            return {self._walk(k, depth + 1) if isinstance(k, str) else k: self._walk(v, depth + 1)
                    for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return [self._walk(v, depth + 1) for v in obj]
        if isinstance(obj, (set, frozenset)):
            return sorted((self._walk(v, depth + 1) for v in obj), key=str)
        if isinstance(obj, bytes):
            return self.redact_bytes(obj)
        return obj


# One redactor per process: secrets are resolved once per process from the profile and lab
# configuration, and every writer in that process uses it.
REDACTOR = Redactor()
