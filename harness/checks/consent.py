"""6-2 and 6-3: personal data whose processing rests on consent leaves the unit only while the
user's consent stands — not before it was given (6-2-2), not after it was withdrawn (6-3-2).

The facts are windows of what the unit sent (its messages as the broker received them) and the
data items declared in IXIT 21-PersData with ``consent: true``, recognised by their keywords (a
keyword matches a whole word of the topic or the payload, case-insensitively; in a JSON payload
only a key whose value holds data, so that an acknowledgement such as ``{"Owner": "saved"}`` is
not taken for the owner's name). Each test case
carries its own positive control: consent-based data must be seen while consent stands, otherwise
the watch could not have recognised it and its absence proves nothing."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field

from harness.verdict import CheckResult, Evidence


@dataclass
class ConsentItem:
    """An IXIT 21-PersData entry whose processing rests on consent."""

    data: str
    keywords: list[str] = field(default_factory=list)

    def words(self) -> list[str]:
        return [k for k in (self.keywords or [self.data]) if k.strip()]


@dataclass
class SentMessage:
    """One message the unit sent, as the broker (or a capture) saw it."""

    t: float  # seconds after the window opened
    transport: str  # tls | plain
    topic: str
    payload: str


@dataclass
class Window:
    """What the unit sent during one declared watch period."""

    label: str  # "after a factory reset, before consent"
    seconds: float
    messages: list[SentMessage] = field(default_factory=list)


# What a device answers about a setting rather than the data itself: ``{"Owner": "saved"}`` names
# the owner profile but carries no owner name.
_STATUS_VALUE = re.compile(r"(?:ok|okay|saved|stored|set|updated|changed|done|given|withdrawn|accepted|rejected|"
                           r"refused|deleted|erased|cleared|removed|reset|on|off|true|false|yes|no|none|null|nil|"
                           r"n/?a|unknown|enabled|disabled|success|succeeded|failed|failure|pending|"
                           r"(?:error|usage|invalid)\b.*)", re.I | re.S)


def _word(word: str) -> re.Pattern[str]:
    return re.compile(rf"(?<![A-Za-z0-9_]){re.escape(word)}(?![A-Za-z0-9_])", re.I)


def _carries_data(value: object) -> bool:
    """A JSON value that holds data, not an empty field or a status word."""
    if value is None or isinstance(value, bool):
        return False
    if isinstance(value, str):
        return bool(value.strip()) and _STATUS_VALUE.fullmatch(value.strip()) is None
    if isinstance(value, dict | list):
        return any(_carries_data(v) for v in (value.values() if isinstance(value, dict) else value))
    return True  # a number


def _json_names(node: object, pattern: re.Pattern[str], depth: int = 0) -> bool:
    """A key naming the item with a value that holds data, or a string value that is the keyword
    itself (``"type": "usage"``) — not prose around it (a help text, an error message)."""
    if depth > 20:
        return False
    if isinstance(node, dict):
        for key, value in node.items():
            if pattern.search(str(key)) and _carries_data(value):
                return True
            if _json_names(value, pattern, depth + 1):
                return True
        return False
    if isinstance(node, list):
        return any(_json_names(v, pattern, depth + 1) for v in node)
    return isinstance(node, str) and pattern.fullmatch(node.strip()) is not None


def names_data(topic: str, payload: str, words: list[str]) -> bool:
    """True when a message carries the data a keyword names. A JSON payload counts through its
    keys (with a value holding data) or the topic (with a payload holding data); other text
    counts on any whole-word occurrence."""
    patterns = [_word(w) for w in words if w.strip()]
    try:
        doc = json.loads(payload) if payload.strip()[:1] in ("{", "[") else None
    except ValueError:
        doc = None
    if doc is None:
        return any(p.search(f"{topic}\n{payload}") for p in patterns)
    return any((p.search(topic) and _carries_data(doc)) or _json_names(doc, p) for p in patterns)


def carried(message: SentMessage, items: list[ConsentItem]) -> list[str]:
    """The data items a message carries (their names, never their values)."""
    return [item.data for item in items if names_data(message.topic, message.payload, item.words())]


def _rows(window: Window, items: list[ConsentItem]) -> list[dict[str, object]]:
    by_topic: dict[str, dict[str, object]] = {}
    for m in window.messages:
        row = by_topic.setdefault(m.topic, {"window": window.label, "topic": m.topic, "transport": m.transport,
                                            "messages": 0, "first at (s)": round(m.t, 2), "consent-based data": ""})
        row["messages"] = int(row["messages"]) + 1  # type: ignore[call-overload]
        found = set(filter(None, str(row["consent-based data"]).split(", "))) | set(carried(m, items))
        row["consent-based data"] = ", ".join(sorted(found))
    return list(by_topic.values())


def _consent_based(window: Window, items: list[ConsentItem]) -> dict[str, set[str]]:
    """topic -> data items seen there."""
    out: dict[str, set[str]] = {}
    for m in window.messages:
        found = carried(m, items)
        if found:
            out.setdefault(m.topic, set()).update(found)
    return out


def _name(found: dict[str, set[str]]) -> str:
    return "; ".join(f"{', '.join(sorted(items))} on {topic}" for topic, items in sorted(found.items()))


def _evidence(items: list[ConsentItem], *windows: Window) -> list[Evidence]:
    rows = [r for w in windows for r in _rows(w, items)]
    return [Evidence("table", "consent-based data items (IXIT 21-PersData)",
                     [{"data": i.data, "keywords": ", ".join(i.words())} for i in items]),
            Evidence("table", "what the unit sent, by window", rows),
            Evidence("observation", "watch windows", {w.label: {"seconds": round(w.seconds, 2),
                                                                "messages": len(w.messages)} for w in windows})]


def _no_items(items: list[ConsentItem]) -> CheckResult | None:
    if not items:
        return CheckResult.inconclusive("the profile declares no IXIT 21-PersData entry whose processing rests on "
                                        "consent (consent: true, with keywords), so consent-based data cannot be "
                                        "recognised in the unit's traffic")
    return None


def judge_consent_before_processing(items: list[ConsentItem], before: Window, after: Window, *,
                                   consent_given: bool, connected: bool) -> CheckResult:
    """6-2-2: after a factory reset and before consent, no consent-based data leaves the unit;
    once consent is given (positive control) it does.

    ``consent_given``: the unit acknowledged the consent (it answered, so it was connected and
    alive right after the first window); ``connected``: the unit was on the watched broker during
    the first window (the broker logged its connection)."""
    missing = _no_items(items)
    if missing is not None:
        return missing
    evidence = _evidence(items, before, after)
    early = _consent_based(before, items)
    if early and connected:
        return CheckResult.failed(f"consent-based data left the unit before the user consented ({before.label}, "
                                  f"within {before.seconds:.1f} s): {_name(early)}", *evidence)
    if not connected:
        return CheckResult.inconclusive("the unit was not shown connected to the watched broker after the factory "
                                        "reset, so its silence before consent proves nothing", *evidence)
    if not consent_given:
        return CheckResult.inconclusive("the unit did not acknowledge the consent (give_consent), so it was not "
                                        "shown alive after the window and the positive control could not run",
                                        *evidence)
    late = _consent_based(after, items)
    if not late:
        return CheckResult.inconclusive(f"after consent no consent-based data was seen within {after.seconds:.1f} s, "
                                        f"so the watch cannot tell that it would have recognised such data before "
                                        f"consent (check the keywords of IXIT 21-PersData and consent_window)",
                                        *evidence)
    return CheckResult.passed(f"{before.label}: {len(before.messages)} message(s) of the unit on the watched broker in "
                              f"{before.seconds:.1f} s, none consent-based; after consent: {_name(late)}", *evidence)


def judge_consent_withdrawal(items: list[ConsentItem], given: Window, withdrawn: Window, *,
                             withdrawal_acknowledged: bool, alive_after: bool) -> CheckResult:
    """6-3-2: once consent is withdrawn, no more consent-based data leaves the unit within the
    declared window. ``alive_after``: a message of the unit came through the same broker after the
    window (silence while the unit or the broker was down must not PASS)."""
    missing = _no_items(items)
    if missing is not None:
        return missing
    evidence = _evidence(items, given, withdrawn)
    before = _consent_based(given, items)
    if not before:
        return CheckResult.inconclusive(f"while consent stood no consent-based data was seen within "
                                        f"{given.seconds:.1f} s, so the watch cannot tell whether it stops after the "
                                        f"withdrawal (check the keywords of IXIT 21-PersData and consent_window)",
                                        *evidence)
    if not withdrawal_acknowledged:
        return CheckResult.inconclusive("the unit did not acknowledge the withdrawal of consent (withdraw_consent), "
                                        "so what followed cannot be judged", *evidence)
    after = _consent_based(withdrawn, items)
    if after:
        return CheckResult.failed(f"consent-based data still left the unit after consent was withdrawn "
                                  f"({withdrawn.label}): {_name(after)}", *evidence)
    if not alive_after:
        return CheckResult.inconclusive("no message of the unit came through the watched broker after the window, "
                                        "so the unit or the broker may have been down and its silence proves "
                                        "nothing", *evidence)
    return CheckResult.passed(f"while consent stood: {_name(before)}; {withdrawn.label}: {len(withdrawn.messages)} "
                              f"message(s) of the unit on the watched broker in {withdrawn.seconds:.1f} s, none "
                              f"consent-based", *evidence)
