"""5.1 password checks. Pure: they judge what suites observed.

Label passwords are secrets: no reason or evidence here ever contains one. A public default
credential the device *accepted* is a finding and is shown.
"""

from __future__ import annotations

import csv
import hashlib
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from harness.verdict import CheckResult, Evidence, combine

REFUSED = ("rejected", "locked")


@dataclass(frozen=True)
class Credential:
    user: str
    password: str


@dataclass
class LoginAttempt:
    user: str
    password: str
    outcome: str  # ok | rejected | locked | timeout | error
    alive_after: bool | None
    detail: str = ""


@dataclass
class UnitFacts:
    unit: str
    serial: str
    mac: str | None
    model: str
    password: str


def load_dictionary(path: str | Path) -> list[Credential]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows or [c.strip().lower() for c in rows[0][:2]] != ["username", "password"]:
        raise ValueError(f"{path}: expected a CSV header 'username,password'")
    return [Credential(r[0], r[1] if len(r) > 1 else "") for r in rows[1:] if r]


def load_wordlist(path: str | Path) -> set[str]:
    with open(path, encoding="utf-8") as fh:
        return {line.strip().lower() for line in fh if line.strip() and not line.startswith("#")}


def judge_dictionary_attack(attempts: list[LoginAttempt], planned: int, phase: str) -> CheckResult:
    working = [a for a in attempts if a.outcome == "ok"]
    if working:
        return CheckResult.failed(
            f"{phase}: {len(working)} public default credential(s) logged in",
            Evidence("finding", f"working default credentials ({phase})",
                     [{"user": a.user, "password": a.password} for a in working]))
    for n, a in enumerate(attempts, 1):
        if a.outcome not in REFUSED or a.alive_after is not True:
            why = a.detail or a.outcome
            if a.outcome in REFUSED:
                why = f"refused but the device showed no sign of life afterwards ({why})"
            return CheckResult.inconclusive(f"{phase}: attempt {n} of {planned} ({a.user}/{a.password}) "
                                            f"could not be judged: {why}")
    if len(attempts) < planned:
        return CheckResult.inconclusive(f"{phase}: only {len(attempts)} of {planned} credentials were tried")
    locked = next((n for n, a in enumerate(attempts, 1) if a.outcome == "locked"), None)
    ev = [Evidence("table", f"dictionary attack ({phase})",
                   [{"tried": len(attempts), "refused with proof of life": len(attempts)}])]
    if locked:
        ev.append(Evidence("measurement", "attempts until lockout", {"value": locked, "unit": "attempts"}))
    return CheckResult.passed(f"{phase}: all {len(attempts)} public default credentials were refused by a live device", *ev)


def judge_label_password_in_use(unit: str, accepted: bool | None, detail: str = "") -> CheckResult:
    if accepted is True:
        return CheckResult.passed(f"{unit}: the label password logs in",
                                  Evidence("observation", f"{unit} label password", "accepted"))
    if accepted is False:
        # The profile may name the wrong secret; uniqueness cannot be claimed for a password the
        # device does not use, so this is not a PASS — nor a device FAIL on its own.
        return CheckResult.inconclusive(f"{unit}: the device refused the declared label password ({detail})")
    return CheckResult.inconclusive(f"{unit}: could not tell whether the label password works ({detail})")


def judge_unique_per_device(unit_id: str, password: str, other_units: dict[str, str]) -> CheckResult:
    sharing = sorted(u for u, p in other_units.items() if p == password)
    if sharing:
        return CheckResult.failed(f"{unit_id} has the same label password as {', '.join(sharing)}",
                                  Evidence("finding", "shared label password", {"units": [unit_id, *sharing]}))
    return CheckResult.passed(f"{unit_id}'s label password differs from the {len(other_units)} other unit(s)",
                              Evidence("observation", "label password uniqueness",
                                       {"unit": unit_id, "compared with": sorted(other_units)}))


# --- 5.1-2: resistance to automated attacks on the product class ------------------------------

def _norm(s: str) -> str:
    return re.sub(r"[^0-9a-z]", "", s.lower())


def _classes(p: str) -> list[str]:
    out = []
    for name, rx in (("lower", "[a-z]"), ("upper", "[A-Z]"), ("digit", "[0-9]"), ("symbol", "[^A-Za-z0-9]")):
        if re.search(rx, p):
            out.append(name)
    return out


def estimated_bits(p: str) -> float:
    size = {"lower": 26, "upper": 26, "digit": 10, "symbol": 33}
    charset = sum(size[c] for c in _classes(p)) or 1
    return round(len(p) * math.log2(charset), 1)


def _derived_strings(facts: UnitFacts) -> set[str]:
    idents = [facts.serial, facts.model] + ([facts.mac] if facts.mac else [])
    out: set[str] = set()
    for ident in idents:
        forms = {ident, ident.lower(), ident.upper(), _norm(ident), _norm(ident).upper()}
        for f in list(forms):
            for algo in ("md5", "sha1", "sha256"):
                forms.add(hashlib.new(algo, f.encode()).hexdigest())
        for f in forms:
            n = _norm(f)
            for cand in (n, n[::-1]):
                if len(cand) >= 4:
                    out.add(cand)
                for k in range(4, len(cand)):
                    out.add(cand[-k:])
                    out.add(cand[:k])
    return out


def _is_derived(facts: UnitFacts) -> bool:
    p = _norm(facts.password)
    if len(p) < 4:
        return False
    derived = _derived_strings(facts)
    if p in derived:
        return True
    return any(len(d) >= 6 and d in p for d in derived)


_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "@": "a", "$": "s"})


def _in_dictionary(p: str, words: set[str]) -> bool:
    low = p.lower()
    stripped = re.sub(r"[^a-z]+$", "", low)
    return any(c and c in words for c in (low, stripped, low.translate(_LEET), stripped.translate(_LEET)))


def _counter_units(facts: list[UnitFacts]) -> set[str]:
    """Passwords that differ only in a number that steps by a constant across units."""
    ordered = sorted(facts, key=lambda f: f.serial)
    shapes: dict[str, list[tuple[int, str]]] = {}
    for f in ordered:
        m = re.fullmatch(r"(.*?)(\d+)(\D*)", f.password)
        if m:
            shapes.setdefault(m.group(1) + "#" + m.group(3), []).append((int(m.group(2)), f.unit))
    flagged: set[str] = set()
    for group in shapes.values():
        if len(group) < 2:
            continue
        steps = {b[0] - a[0] for a, b in zip(group, group[1:], strict=False)}
        if len(steps) == 1 and 0 < abs(next(iter(steps))) <= 1000:
            flagged.update(u for _, u in group)
    return flagged


def analyse_label_passwords(units: list[UnitFacts], dictionary: set[str], min_bits: float = 40.0) -> CheckResult:
    rules: dict[str, set[str]] = {r: set() for r in ("duplicate", "counter", "derived", "dictionary", "entropy")}
    counts = Counter(f.password for f in units)
    notes = []
    if len(units) >= 2:
        for f in units:
            if counts[f.password] > 1:
                rules["duplicate"].add(f.unit)
        rules["counter"] = _counter_units(units)
    else:
        notes.append(f"only {len(units)} unit(s): duplicate and counter rules need at least 2")
    rows = []
    for f in units:
        if _is_derived(f):
            rules["derived"].add(f.unit)
        if _in_dictionary(f.password, dictionary):
            rules["dictionary"].add(f.unit)
        bits = estimated_bits(f.password)
        if bits < min_bits:
            rules["entropy"].add(f.unit)
        rows.append({"unit": f.unit, "length": len(f.password), "classes": "+".join(_classes(f.password)),
                     "estimated bits": bits, "rules fired": [r for r, us in rules.items() if f.unit in us]})
    ev = [Evidence("table", "label password analysis (values withheld)", rows)]
    if notes:
        ev.append(Evidence("text", "limits", "; ".join(notes)))
    fired = {r: sorted(us) for r, us in rules.items() if us}
    if fired:
        desc = "; ".join(f"{r}: {', '.join(us)}" for r, us in fired.items())
        return CheckResult.failed(f"label passwords are guessable across the product class ({desc})", *ev)
    extra = f" ({notes[0]})" if notes else ""
    return CheckResult.passed(f"{len(units)} label passwords: unique, no counters, not derived from "
                              f"identifiers, not dictionary words, ≥ {min_bits:g} bits{extra}", *ev)


def judge_password_change(changed_outcome: str, new_login: LoginAttempt | None,
                          old_login: LoginAttempt | None) -> CheckResult:
    if changed_outcome == "timeout":
        return CheckResult.inconclusive("the change-password procedure got no answer")
    if changed_outcome != "ok":
        return CheckResult.failed(f"the device refused the documented password change ({changed_outcome})")
    parts = []
    if new_login is None or new_login.outcome not in ("ok", *REFUSED) or (
            new_login.outcome in REFUSED and not new_login.alive_after):
        parts.append(CheckResult.inconclusive("could not judge a login with the new password"))
    elif new_login.outcome != "ok":
        parts.append(CheckResult.failed("the device reported success but the new password is refused"))
    if old_login is not None and old_login.outcome == "ok":
        parts.append(CheckResult.failed("the device reported success but the old password still logs in"))
    elif old_login is None or old_login.outcome not in REFUSED or not old_login.alive_after:
        parts.append(CheckResult.inconclusive("could not show that the old password is refused by a live device"))
    ev = Evidence("table", "password change", [{"change": changed_outcome,
                                                 "new password login": new_login.outcome if new_login else None,
                                                 "old password login": old_login.outcome if old_login else None}])
    if not parts:
        return CheckResult.passed("the password changed: the new one logs in, the old one is refused", ev)
    result = combine(parts)
    result.evidence.append(ev)
    return result
