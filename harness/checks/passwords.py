"""5.1 password checks (TS 103 701 5.1-1, 5.1-2, 5.1-4). Pure: they judge what suites observed.

Label passwords are secrets: no reason or evidence built here contains one; the evidence
describes them (unit, length, character classes, estimated bits, rules fired). A credential from
a public dictionary that the device *accepted* is a finding and is shown in clear.

A refusal counts only when the device printed it and then proved it was alive; silence, a
timeout or a dead link is never read as "refused".
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import math
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from harness.verdict import CheckResult, Evidence, combine

OUTCOMES = ("ok", "rejected", "locked", "timeout", "error")
REFUSED = ("rejected", "locked")
RULES = ("duplicate", "counter", "derived", "dictionary", "entropy")
WITHHELD = "«withheld»"


@dataclass(frozen=True)
class Credential:
    user: str
    password: str


@dataclass
class LoginAttempt:
    user: str
    password: str = field(repr=False)
    outcome: str  # one of OUTCOMES
    alive_after: bool | None
    detail: str = ""

    @property
    def refused_alive(self) -> bool:
        """The device showed a refusal and answered right after: the only proof of 'refused'."""
        return self.outcome in REFUSED and self.alive_after is True


@dataclass
class UnitFacts:
    unit: str
    serial: str
    mac: str | None
    model: str
    password: str = field(repr=False)


# --- dictionaries ---------------------------------------------------------------------------------

def load_dictionary(path: str | Path) -> list[Credential]:
    """Credentials from a CSV file whose header starts ``username,password``; extra columns are
    ignored, an empty field is an empty value, duplicates are kept once (first occurrence)."""
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    if not rows or [c.strip().lower().lstrip("\ufeff") for c in rows[0][:2]] != ["username", "password"]:
        raise ValueError(f"{path}: expected a CSV header starting 'username,password'")
    out: dict[tuple[str, str], Credential] = {}
    for n, row in enumerate(rows[1:], 2):
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        if len(row) < 2:
            raise ValueError(f"{path}: line {n} has no password column")
        out.setdefault((row[0], row[1]), Credential(row[0], row[1]))
    return list(out.values())


def load_wordlist(path: str | Path) -> set[str]:
    """One word per line, case-folded; blank lines and ``#`` comment lines are skipped."""
    with open(path, encoding="utf-8") as fh:
        return {w.strip().casefold() for w in fh if w.strip() and not w.lstrip().startswith("#")}


# --- 5.1-1-2: public default credentials ----------------------------------------------------------

def _show(value: str) -> str:
    return value if value else "(empty)"


def _attempt_reason(a: LoginAttempt) -> str:
    if a.outcome == "timeout":
        return a.detail or "no answer (timeout)"
    if a.outcome == "error":
        return f"error: {a.detail}" if a.detail else "error"
    if a.outcome == "locked" and a.alive_after is True:
        return "the login was locked, so the password was not evaluated"
    if a.outcome in REFUSED:
        life = "did not prove it was alive" if a.alive_after is False else "was not checked for signs of life"
        return f"{a.outcome} but the device {life} afterwards" + (f" ({a.detail})" if a.detail else "")
    return f"unexpected outcome {a.outcome!r}" + (f" ({a.detail})" if a.detail else "")


def judge_dictionary_attack(attempts: list[LoginAttempt], planned: int, phase: str, *,
                            stopped: str = "") -> CheckResult:
    """Public default credentials tried on one unit in one phase (e.g. "factory default").

    Any credential accepted → FAIL (a finding that shows user and password). Otherwise every
    planned credential must have been refused by a device that proved it was alive, else
    INCONCLUSIVE naming the first attempt that could not be judged.

    A credential answered only with "locked" was not evaluated by the device (a locked account
    refuses the right password too), so it stays untested: INCONCLUSIVE, with the lockout measured.
    ``stopped`` says why the attack ended before its last credential (time budget, a lock that
    did not end), and is named in an INCONCLUSIVE reason.
    """
    total = max(planned, len({(a.user, a.password) for a in attempts}))
    rows = [{"#": n, "user": a.user, "password": a.password, "outcome": a.outcome, "alive after": a.alive_after}
            for n, a in enumerate(attempts, 1)]
    first_lock = next((n for n, a in enumerate(attempts, 1) if a.outcome == "locked"), None)
    lock_ev = ([Evidence("measurement", f"failed attempts before lockout ({phase})",
                         {"value": first_lock - 1, "unit": "attempts"})] if first_lock else [])

    working = [(n, a) for n, a in enumerate(attempts, 1) if a.outcome == "ok"]
    if working:
        pairs = ", ".join(f"{_show(a.user)}/{_show(a.password)}" for _, a in working)
        finding = Evidence("finding", f"public default credentials accepted ({phase})", {
            "phase": phase,
            "credentials": [{"attempt": n, "user": a.user, "password": a.password, "detail": a.detail}
                            for n, a in working]})
        return CheckResult.failed(
            f"{phase}: {len(working)} public default credential(s) logged in: {pairs}",
            finding, Evidence("table", f"dictionary attack ({phase})", rows), *lock_ev)

    # Judged per credential: a retry (e.g. after waiting out a lockout) can settle an earlier attempt.
    refused = {(a.user, a.password) for a in attempts if a.outcome == "rejected" and a.alive_after is True}
    locked_only = {(a.user, a.password) for a in attempts if a.outcome == "locked" and a.alive_after is True} - refused
    first_unjudged = next(((n, a) for n, a in enumerate(attempts, 1)
                           if not a.refused_alive and (a.user, a.password) not in refused), None)
    tried = {(a.user, a.password) for a in attempts}
    summary = Evidence("table", f"dictionary attack summary ({phase})", [{
        "phase": phase, "planned": planned, "attempts": len(attempts), "credentials tried": len(tried),
        "refused by a live device": len(refused), "answered only by a lockout": len(locked_only),
        "not judged": len(tried - refused - locked_only), "not tried": max(0, total - len(tried))}])
    evidence = [summary, Evidence("table", f"dictionary attack ({phase})", rows), *lock_ev]

    if total == 0:
        return CheckResult.inconclusive(f"{phase}: no credential was planned or tried", *evidence)
    problems = []
    if first_unjudged:
        n, a = first_unjudged
        problems.append(f"attempt {n} of {total} ({_show(a.user)}/{_show(a.password)}): {_attempt_reason(a)}")
    if locked_only:
        problems.append(f"the device locked the login at attempt {first_lock} and {len(locked_only)} "
                        f"credential(s) were answered only by the lockout, so they remain untested")
    if len(refused) < total and not problems:
        problems.append(f"only {len(refused)} of {total} planned credentials were refused by a live device"
                        + (f" ({stopped})" if stopped else ""))
    elif stopped and len(refused) < total:
        problems.append(stopped)
    if problems:
        return CheckResult.inconclusive(f"{phase}: " + "; ".join(problems), *evidence)
    return CheckResult.passed(
        f"{phase}: all {total} public default credentials were refused by a device that answered after each",
        *evidence)


def judge_label_password_in_use(unit: str, accepted: bool | None, detail: str = "") -> CheckResult:
    """The unit's own label password must log in at factory default before anything is claimed
    about it (uniqueness, strength): a refused one means the profile may name the wrong secret."""
    suffix = f" ({detail})" if detail else ""
    ev = Evidence("observation", f"{unit} label password at login", {
        "unit": unit, "accepted": accepted, "detail": detail})
    if accepted is True:
        return CheckResult.passed(f"unit {unit}: the label password logs in{suffix}", ev)
    if accepted is False:
        return CheckResult.inconclusive(
            f"unit {unit}: the device refused its own declared label password{suffix}; check the profile's "
            f"secret before judging uniqueness", ev)
    return CheckResult.inconclusive(f"unit {unit}: could not tell whether the label password logs in{suffix}", ev)


def judge_unique_per_device(unit_id: str, password: str, other_units: dict[str, str]) -> CheckResult:
    """5.1-1: this unit's label password is shared with no other unit of the model."""
    others = {u: p for u, p in other_units.items() if u != unit_id}
    if not password:
        return CheckResult.failed(f"unit {unit_id}'s label password is empty",
                                  Evidence("finding", "empty label password", {"unit": unit_id}))
    if not others:
        return CheckResult.inconclusive(
            f"unit {unit_id}: no other unit's label password is known, uniqueness cannot be judged",
            Evidence("observation", "label password uniqueness", {"unit": unit_id, "compared with": []}))
    sharing = sorted(u for u, p in others.items() if p == password)
    if sharing:
        return CheckResult.failed(
            f"unit {unit_id} has the same label password as unit(s) {', '.join(sharing)}",
            Evidence("finding", "shared label password (value withheld)",
                     {"unit": unit_id, "shared with": sharing, "compared with": sorted(others)}))
    return CheckResult.passed(
        f"unit {unit_id}'s label password differs from those of the {len(others)} other unit(s)",
        Evidence("observation", "label password uniqueness", {"unit": unit_id, "compared with": sorted(others)}))


# --- 5.1-2: resistance to automated attacks on the product class ----------------------------------

_CLASS_SIZES = {"lower": 26, "upper": 26, "digit": 10, "symbol": 33, "other": 100}


def char_classes(p: str) -> list[str]:
    present = set()
    for ch in p:
        if "a" <= ch <= "z":
            present.add("lower")
        elif "A" <= ch <= "Z":
            present.add("upper")
        elif "0" <= ch <= "9":
            present.add("digit")
        elif " " <= ch <= "~":
            present.add("symbol")
        else:
            present.add("other")
    return [c for c in _CLASS_SIZES if c in present]


def estimated_bits(p: str) -> float:
    """length × log2(size of the character classes present): an upper bound for a random
    password, so a low value is a certain weakness while a high one proves nothing alone."""
    size = sum(_CLASS_SIZES[c] for c in char_classes(p))
    return len(p) * math.log2(size) if size > 1 else 0.0


def _norm(s: str) -> str:
    return re.sub(r"[^0-9a-z]", "", s.casefold())


def _natural(s: str) -> list[tuple[int, int | str]]:
    return [(0, int(t)) if t.isdigit() else (1, t) for t in re.findall(r"\d+|\D+", s)]


def _identifier_forms(kind: str, value: str) -> list[tuple[str, str]]:
    """(normalised string, description) the password is compared against: the identifier and,
    for a MAC, its neighbours (devices often derive from the WAN/Wi-Fi MAC next to the label's)."""
    n = _norm(value)
    forms = [(n, f"{kind}")] if n else []
    if kind == "mac" and re.fullmatch(r"[0-9a-f]{12}", n):
        base = int(n, 16)
        for off in (-2, -1, 1, 2):
            v = base + off
            if 0 <= v < 1 << 48:
                forms.append((f"{v:012x}", f"mac{off:+d}"))
    return forms


def _hash_inputs(kind: str, value: str) -> list[tuple[bytes, str]]:
    n = _norm(value)
    inputs = {value: "as given", value.lower(): "lower case", value.upper(): "upper case",
              n: "normalised", n.upper(): "normalised upper case"}
    out = [(s.encode(), how) for s, how in inputs.items() if s]
    if kind == "mac" and re.fullmatch(r"[0-9a-f]{12}", n):
        pairs = [n[i:i + 2] for i in range(0, 12, 2)]
        for sep in (":", "-"):
            out.append((sep.join(pairs).encode(), f"'{sep}'-separated lower case"))
            out.append((sep.join(pairs).upper().encode(), f"'{sep}'-separated upper case"))
        out.append((bytes.fromhex(n), "raw bytes"))
    seen: set[bytes] = set()
    return [(b, how) for b, how in out if not (b in seen or seen.add(b))]


def _derived_match(p: str, f: UnitFacts) -> dict[str, str] | None:
    """How the normalised password equals or contains a transform of a unit identifier."""
    if len(p) < 4:
        return None
    idents = [("serial", f.serial), ("model", f.model)] + ([("mac", f.mac)] if f.mac else [])
    for kind, value in idents:
        if not value:
            continue
        for form, name in _identifier_forms(kind, value):
            for s, how in ((form, name), (form[::-1], f"{name} reversed")):
                if len(s) < 4:
                    continue
                if p == s:
                    return {"source": kind, "transform": f"whole normalised {how}", "match": "equal"}
                if len(p) < len(s) and p == s[-len(p):]:
                    return {"source": kind, "transform": f"last {len(p)} characters of normalised {how}",
                            "match": "equal"}
                if len(p) < len(s) and p == s[:len(p)]:
                    return {"source": kind, "transform": f"first {len(p)} characters of normalised {how}",
                            "match": "equal"}
                hit = _contained_affix(p, s)
                if hit:
                    return {"source": kind, "transform": f"{hit} of normalised {how}", "match": "contains"}
        for data, how in _hash_inputs(kind, value):
            for algo in ("md5", "sha1", "sha256"):
                h = hashlib.new(algo, data).hexdigest()
                hit = _contained_affix(p, h)
                if hit:
                    equal = p == h[:len(p)] or p == h[-len(p):]
                    return {"source": kind, "transform": f"{hit} of unkeyed {algo} hex of the {how} {kind}",
                            "match": "equal" if equal else "contains"}
    return None


def _contained_affix(p: str, s: str, minimum: int = 6) -> str | None:
    """The longest prefix or suffix (≥ minimum chars) of s that p contains, described."""
    if len(s) < minimum:
        return None
    best = None
    if s[:minimum] in p:
        k = max(k for k in range(minimum, min(len(s), len(p)) + 1) if s[:k] in p)
        best = (k, "first")
    if s[-minimum:] in p:
        k = max(k for k in range(minimum, min(len(s), len(p)) + 1) if s[-k:] in p)
        if best is None or k > best[0]:
            best = (k, "last")
    if best is None:
        return None
    k, side = best
    return "whole" if k == len(s) else f"{side} {k} characters"


_LEET = {"0": "o", "3": "e", "4": "a", "5": "s", "@": "a", "$": "s"}


def _unleet(s: str, limit: int = 16) -> list[str]:
    base = "".join(_LEET.get(c, c) for c in s)
    ones = [i for i, c in enumerate(base) if c == "1"]
    if not ones:
        return [base] if base != s else []
    out = []
    # '1' stands for 'i' or 'l': all combinations for a few, the two uniform ones beyond that.
    combos = (itertools.product("il", repeat=len(ones)) if 2 ** len(ones) <= limit
              else [("i",) * len(ones), ("l",) * len(ones)])
    for combo in combos:
        chars = list(base)
        for i, c in zip(ones, combo, strict=True):
            chars[i] = c
        out.append("".join(chars))
    return out


def _dictionary_match(password: str, words: set[str]) -> str | None:
    """The transform under which the password is a dictionary word (the word is not returned)."""
    low = password.casefold()
    if not low:
        return None
    stripped = re.sub(r"^[^a-z]+|[^a-z]+$", "", low)
    candidates: list[tuple[str, str]] = [(low, "case-folded")]
    candidates += [(c, "leet reversed") for c in _unleet(low)]
    if stripped != low and len(stripped) >= 4:
        candidates.append((stripped, "leading/trailing digits and symbols stripped"))
        candidates += [(c, "stripped and leet reversed") for c in _unleet(stripped)]
    for c in _unleet(low):
        cs = re.sub(r"^[^a-z]+|[^a-z]+$", "", c)
        if cs != c and len(cs) >= 4:
            candidates.append((cs, "leet reversed and stripped"))
    for cand, how in candidates:
        if cand in words:
            return how
    return None


def _counter_findings(units: list[UnitFacts]) -> list[dict]:
    """Incremental counters across units ordered by serial number."""
    ordered = sorted(units, key=lambda f: (_natural(f.serial), f.unit))
    found: list[dict] = []
    split = {f.unit: re.split(r"(\d+)", f.password) for f in ordered}
    by_runs: dict[int, list[UnitFacts]] = {}
    for f in ordered:
        by_runs.setdefault(len(split[f.unit]) // 2, []).append(f)
    for runs, group in by_runs.items():
        if runs == 0 or len(group) < 2:
            continue
        texts_same = len({tuple(split[f.unit][0::2]) for f in group}) == 1
        for i in range(runs):
            nums = [split[f.unit][2 * i + 1] for f in group]
            values = [int(n) for n in nums]
            width = min(len(n) for n in nums)
            diffs = [b - a for a, b in itertools.pairwise(values)]
            if any(d == 0 for d in diffs) or len({d > 0 for d in diffs}) != 1:
                continue
            # "Small" relative to the digits available, so random PINs rarely look like counters.
            small = max(1, min(1000, 10 ** (width - 2)))
            if max(abs(d) for d in diffs) > small:
                continue
            constant = len(set(diffs)) == 1
            if texts_same:
                kind = "passwords differ only in a number that increments with the serial number"
            elif constant and len(group) >= 3 and width >= 3:
                kind = "a number in the passwords steps by a constant with the serial number"
            else:
                continue
            found.append({"rule": "counter", "units": [f.unit for f in group], "kind": kind,
                          "digit run": f"{i + 1} of {runs}", "steps": diffs})
    found += _serial_sequence_findings(ordered)
    return found


def _serial_sequence_findings(ordered: list[UnitFacts]) -> list[dict]:
    found = []
    offsets: dict[int, list[tuple[str, int]]] = {}
    for f in ordered:
        # The last number in a serial is its sequence part (earlier ones are often a year or a batch).
        serial_nums = [int(n) for n in re.findall(r"\d{3,}", f.serial)][-1:]
        pw_nums = [int(n) for n in re.findall(r"\d{3,}", f.password)]
        if not serial_nums or not pw_nums:
            continue
        if serial_nums[0] in pw_nums:
            found.append({"rule": "counter", "units": [f.unit], "kind": "the password contains the serial number's digits"})
        for i, n in enumerate(pw_nums):
            offsets.setdefault(i, []).append((f.unit, n - serial_nums[0]))
    for i, pairs in offsets.items():
        if len(pairs) >= 2 and len({off for _, off in pairs}) == 1 and pairs[0][1] != 0:
            found.append({"rule": "counter", "units": [u for u, _ in pairs],
                          "kind": "a number in the passwords is the serial number plus a constant",
                          "digit run": str(i + 1)})
    return found


def _shared_affixes(passwords: list[str]) -> tuple[int, int]:
    """Lengths of the prefix and suffix all passwords share, counted only when sharing that many
    characters by chance is unlikely (below 1 in 10,000 for random passwords of these classes)."""
    if len(set(passwords)) < 2:
        return 0, 0  # identical passwords: the duplicate rule speaks for them
    shortest = min(len(p) for p in passwords)
    pre = 0
    while pre < shortest and len({p[pre] for p in passwords}) == 1:
        pre += 1
    suf = 0
    while suf < shortest - pre and len({p[-1 - suf] for p in passwords}) == 1:
        suf += 1
    pool = sum(_CLASS_SIZES[c] for c in char_classes("".join(passwords)))
    per_char = (len(passwords) - 1) * math.log2(max(pool, 2))

    def meaningful(k: int) -> int:
        return k if k * per_char >= math.log2(10_000) else 0

    return meaningful(pre), meaningful(suf)


def analyse_label_passwords(units: list[UnitFacts], dictionary: Iterable[str], min_bits: float = 40.0) -> CheckResult:
    """5.1-2: the label passwords of a device class resist automated attacks.

    Rules (ids in the evidence): duplicate, counter, derived (from MAC, serial or model), dictionary,
    entropy. Any rule fires → FAIL. The cross-unit rules (duplicate, counter) need at least two
    units: with fewer, a clean result is INCONCLUSIVE, never PASS.
    """
    if not units:
        return CheckResult.inconclusive("no label password was available to analyse")
    words = {w.casefold() for w in dictionary if w}
    fired: dict[str, set[str]] = {r: set() for r in RULES}
    details: list[dict] = []
    cross_unit = len(units) >= 2

    if cross_unit:
        groups: dict[str, list[str]] = {}
        for f in units:
            groups.setdefault(f.password, []).append(f.unit)
        for shared in (g for g in groups.values() if len(g) > 1):
            fired["duplicate"].update(shared)
            details.append({"rule": "duplicate", "units": sorted(shared), "kind": "the same password on several units"})
        counters = _counter_findings(units)
    else:
        counters = _serial_sequence_findings(units)
    for c in counters:
        fired["counter"].update(c["units"])
    details += counters

    # A prefix or suffix every unit shares is known to an attacker who has one unit: only the
    # rest of the password counts towards its entropy.
    pre, suf = _shared_affixes([f.password for f in units]) if cross_unit else (0, 0)
    rows = []
    for f in units:
        match = _derived_match(_norm(f.password), f)
        if match:
            fired["derived"].add(f.unit)
            details.append({"rule": "derived", "units": [f.unit], **match})
        how = _dictionary_match(f.password, words)
        if how:
            fired["dictionary"].add(f.unit)
            details.append({"rule": "dictionary", "units": [f.unit], "transform": how})
        bits = estimated_bits(f.password[pre:len(f.password) - suf])
        if bits < min_bits:
            fired["entropy"].add(f.unit)
            shared = f" (after removing {pre + suf} characters all units share)" if pre + suf else ""
            details.append({"rule": "entropy", "units": [f.unit],
                            "kind": f"estimated {bits:.1f} bits < {min_bits:g}{shared}"})
        rows.append({"unit": f.unit, "length": len(f.password), "classes": "+".join(char_classes(f.password)) or "none",
                     "estimated bits": round(bits, 1), "shared prefix/suffix length": pre + suf,
                     "rules fired": [r for r in RULES if f.unit in fired[r]]})

    evidence = [Evidence("table", "label password analysis (values withheld)", rows)]
    if details:
        evidence.append(Evidence("table", "rules fired", details))
    evidence.append(Evidence("observation", "analysis parameters", {
        "units": len(units), "dictionary words": len(words), "minimum estimated bits": min_bits,
        "cross-unit rules judged": cross_unit}))
    limit = ""
    if not cross_unit:
        limit = (f"only {len(units)} unit: the duplicate and counter rules need at least 2 units "
                 f"and were not judged across units")
        evidence.append(Evidence("text", "limits", limit))

    hit = {r: sorted(us) for r, us in fired.items() if us}
    if hit:
        desc = "; ".join(f"{r} ({', '.join(us)})" for r, us in hit.items())
        return CheckResult.failed(f"label passwords are guessable by an automated attack on the product class: "
                                  f"{desc}" + (f" ({limit})" if limit else ""), *evidence)
    if not cross_unit:
        return CheckResult.inconclusive(f"no per-unit rule fired, but {limit}", *evidence)
    return CheckResult.passed(
        f"the label passwords of {len(units)} units show no duplicate, counter, derivation from identifiers "
        f"or dictionary word, and each has at least {min_bits:g} estimated bits", *evidence)


# --- 5.1-4-2: the user can change the password ----------------------------------------------------

# Device messages that blame the harness's input, not the mechanism (wrong current password,
# new password outside the device's policy, a typo in the retyped value).
_INPUT_WRONG = re.compile(
    r"(current|old|existing) password (is )?(wrong|incorrect|invalid)|authentication (failure|failed)"
    r"|do(es)? not match|mismatch|too (short|long|simple|weak)|complexity|policy|must (contain|be|have|include)"
    r"|not allowed|invalid (character|input|argument|parameter)|harness", re.I)


def _scrub(text: str, secrets: list[str]) -> str:
    for s in sorted({s for s in secrets if s}, key=len, reverse=True):
        text = (text.replace(s, WITHHELD) if len(s) >= 4
                else re.sub(rf"(?<!\w){re.escape(s)}(?!\w)", WITHHELD, text))
    return text


def judge_password_change(changed_outcome: str, new_login: LoginAttempt | None, old_login: LoginAttempt | None,
                          *, change_detail: str = "") -> CheckResult:
    """5.1-4-2: the documented change procedure works: the device reports success, the new
    password logs in and the old one is refused by a device that answered right after."""
    secrets = [a.password for a in (new_login, old_login) if a is not None]

    def login_row(a: LoginAttempt | None) -> dict | None:
        return None if a is None else {"outcome": a.outcome, "alive after": a.alive_after,
                                       "detail": _scrub(a.detail, secrets)}

    ev = Evidence("table", "password change", [{
        "change procedure": changed_outcome, "change detail": _scrub(change_detail, secrets),
        "login with the new password": login_row(new_login), "login with the old password": login_row(old_login)}])
    detail = f" ({_scrub(change_detail, secrets)})" if change_detail else ""

    if changed_outcome == "rejected":
        if new_login is not None and new_login.outcome == "ok":
            return CheckResult.inconclusive("the device reported the change as rejected, yet the new password "
                                            "logs in: the outcome is contradictory", ev)
        if _INPUT_WRONG.search(change_detail or ""):
            return CheckResult.inconclusive(f"the device refused the harness's input to the change procedure{detail}; "
                                            f"the mechanism itself was not judged", ev)
        return CheckResult.failed(f"the device rejected the documented password change{detail}", ev)
    if changed_outcome != "ok":
        return CheckResult.inconclusive(f"the change-password procedure ended {changed_outcome!r}{detail}", ev)

    parts: list[CheckResult] = []
    if old_login is not None and old_login.outcome == "ok":
        parts.append(CheckResult.failed("the device reported success but the old password still logs in"))
    elif old_login is None:
        parts.append(CheckResult.inconclusive("the old password was not tried after the change"))
    elif old_login.outcome == "locked":
        parts.append(CheckResult.inconclusive("the old password met a lockout, which does not show it was revoked"))
    elif not old_login.refused_alive:
        parts.append(CheckResult.inconclusive(
            f"the refusal of the old password could not be judged: {_scrub(_attempt_reason(old_login), secrets)}"))

    if new_login is None:
        parts.append(CheckResult.inconclusive("the new password was not tried after the change"))
    elif new_login.outcome == "rejected" and new_login.alive_after is True:
        parts.append(CheckResult.failed("the device reported success but the new password is refused"))
    elif new_login.outcome != "ok":
        parts.append(CheckResult.inconclusive(
            f"the login with the new password could not be judged: {_scrub(_attempt_reason(new_login), secrets)}"))

    if not parts:
        return CheckResult.passed("the device changed the password: the new one logs in and the old one is "
                                  "refused by a live device", ev)
    result = combine(parts)
    result.evidence.append(ev)
    return result
