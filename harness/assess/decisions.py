"""Assessor decisions: the file an assessor writes, the records they become, and how a report
applies them.

A decision judges one test case (on one unit, or on every unit when it names none) for one profile
(its sha256) and one firmware. It is appended to the run's results log as a ``decision`` record;
the report model applies the newest decision of each (test case, unit):

- STALE (shown, not applied) when its profile sha256 or firmware differs from the run's;
- REJECTED (shown, not applied) when it would change a recorded verdict other than PENDING_REVIEW
  without ``overrides:`` naming exactly that verdict (a FAIL or an INCONCLUSIVE never turns into
  something else silently);
- APPLIED otherwise: the case takes the decision's verdict, and keeps what the runners had said
  (``automated_verdict``) and who decided when (``decision``).

The schema of the decisions file is documented in docs/assessment.md and docs/decisions.schema.json.
"""

from __future__ import annotations

import hashlib
import re
import uuid
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any

import yaml

FILE_SCHEMA = "harness-decisions/1"
RECORD_KIND = "decision"
DECISION_VERDICTS = ("PASS", "FAIL", "NOT_APPLICABLE")
OVERRIDABLE = ("PASS", "FAIL", "NOT_APPLICABLE", "INCONCLUSIVE")
PENDING = "PENDING_REVIEW"
PROVISION_ID = re.compile(r"^(\d+(?:\.\d+)?)-\d+[A-Z]?$")

APPLIED = "applied"
STALE = "stale"
REJECTED = "rejected"
SUPERSEDED = "superseded"

_DECISION_KEYS = {"test_case", "provision", "unit", "verdict", "assessor", "date", "rationale", "evidence", "overrides",
                  "profile_sha256", "firmware"}
_FILE_KEYS = {"schema", "assessor", "date", "profile_sha256", "firmware", "decisions"}


class DecisionsError(ValueError):
    """A decisions file that cannot be used; the message lists every problem."""

    def __init__(self, issues: list[str]) -> None:
        self.issues = issues
        super().__init__("\n".join(issues))


@dataclass
class EvidenceRef:
    ref: str  # what the assessor read: a file (path relative to the decisions file), a URL, a document id
    sha256: str = ""


@dataclass
class Decision:
    test_case: str
    verdict: str
    assessor: str
    date: str
    rationale: str
    profile_sha256: str
    firmware: str
    unit: str | None = None
    overrides: str = ""
    evidence: list[EvidenceRef] = field(default_factory=list)
    # Instead of a test case: a provision no test case assesses (one new in a later edition).
    provision: str = ""

    def to_record(self, *, source: str) -> dict[str, Any]:
        """The results-log record of this decision (``ResultsLog.write_decision`` adds kind and schema)."""
        from harness.results import now_iso
        return {"id": uuid.uuid4().hex, "recorded": now_iso(), "source": source, **asdict(self)}


def _str(value: Any) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return "" if value is None else str(value).strip()


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


def _evidence(raw: Any, where: str, base: Path | None, issues: list[str]) -> list[EvidenceRef]:
    out: list[EvidenceRef] = []
    if raw is None:
        return out
    if not isinstance(raw, list):
        issues.append(f"{where}: evidence must be a list of {{ref, sha256}}")
        return out
    for i, item in enumerate(raw):
        at = f"{where}.evidence[{i}]"
        if isinstance(item, str):
            item = {"ref": item}
        if not isinstance(item, dict) or not _str(item.get("ref")):
            issues.append(f"{at}: needs ref (what was read)")
            continue
        ref, digest = _str(item["ref"]), _str(item.get("sha256")).lower()
        unknown = set(item) - {"ref", "sha256"}
        if unknown:
            issues.append(f"{at}: unknown key(s) {sorted(unknown)}")
        # Relative to the decisions file first, then to the working directory (a lab's checkout).
        path = base / ref if base is not None and (base / ref).is_file() else Path(ref)
        if path.is_file():
            actual = sha256_of(path)
            if digest and digest != actual:
                issues.append(f"{at}: {ref} has sha256 {actual}, the decision says {digest}: the evidence "
                              "changed since the decision was made")
                continue
            digest = actual
        elif not digest:
            issues.append(f"{at}: {ref} is not a file here, so give the sha256 of what was read")
            continue
        elif len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest):
            issues.append(f"{at}: sha256 must be 64 hex digits")
            continue
        out.append(EvidenceRef(ref=ref, sha256=digest))
    return out


def parse_decisions(doc: Any, *, where: str = "decisions", base: Path | None = None,
                    test_cases: Iterable[str] | None = None) -> list[Decision]:
    """Check a decisions document (the parsed YAML) and return its decisions; every problem at once."""
    issues: list[str] = []
    if not isinstance(doc, dict):
        raise DecisionsError([f"{where}: a decisions file is a mapping with a `decisions:` list"])
    schema = doc.get("schema", FILE_SCHEMA)
    if schema != FILE_SCHEMA:
        issues.append(f"{where}: schema {schema!r} is not {FILE_SCHEMA!r}")
    unknown = set(doc) - _FILE_KEYS
    if unknown:
        issues.append(f"{where}: unknown key(s) {sorted(unknown)}")
    raw = doc.get("decisions")
    if not isinstance(raw, list) or not raw:
        issues.append(f"{where}: decisions must be a non-empty list")
        raw = []
    known = set(test_cases) if test_cases is not None else None
    defaults = {k: doc.get(k) for k in ("assessor", "date", "profile_sha256", "firmware")}
    out: list[Decision] = []
    seen: dict[tuple[str, str | None], int] = {}
    for i, entry in enumerate(raw):
        at = f"{where}: decisions[{i}]"
        if not isinstance(entry, dict):
            issues.append(f"{at}: must be a mapping")
            continue
        tid = _str(entry.get("test_case"))
        pid = _str(entry.get("provision"))
        at = f"{at} ({tid or pid or '?'})"
        before = len(issues)
        unknown = set(entry) - _DECISION_KEYS
        if unknown:
            issues.append(f"{at}: unknown key(s) {sorted(unknown)}")
        if tid and pid:
            issues.append(f"{at}: name a test_case or a provision, not both")
        elif not tid and not pid:
            issues.append(f"{at}: needs test_case (a TS 103 701 id such as 5.1-1-1), or provision for one "
                          "that no test case assesses")
        elif tid and known is not None and tid not in known:
            issues.append(f"{at}: {tid} is not a test case of the catalogue")
        elif pid and not PROVISION_ID.match(pid):
            issues.append(f"{at}: {pid!r} is not an EN 303 645 provision id (e.g. 6-6, 5.3-4B)")
        value = {k: _str(entry.get(k) if entry.get(k) is not None else defaults.get(k))
                 for k in ("assessor", "date", "profile_sha256", "firmware")}
        verdict = _str(entry.get("verdict")).upper()
        if verdict not in DECISION_VERDICTS:
            issues.append(f"{at}: verdict must be one of {', '.join(DECISION_VERDICTS)}")
        for key in ("assessor", "date", "profile_sha256", "firmware"):
            if not value[key]:
                issues.append(f"{at}: needs {key} (here or at the top of the file)")
        if value["date"]:
            try:
                date.fromisoformat(value["date"][:10])
            except ValueError:
                issues.append(f"{at}: date {value['date']!r} is not an ISO date (YYYY-MM-DD)")
        sha = value["profile_sha256"].lower()
        if sha and (len(sha) != 64 or any(c not in "0123456789abcdef" for c in sha)):
            issues.append(f"{at}: profile_sha256 must be 64 hex digits (harness assess RUN_DIR --template prints it)")
        rationale = _str(entry.get("rationale"))
        if not rationale:
            issues.append(f"{at}: needs a rationale (why this verdict)")
        overrides = _str(entry.get("overrides")).upper()
        if overrides and overrides not in OVERRIDABLE:
            issues.append(f"{at}: overrides must name the recorded verdict it replaces ({', '.join(OVERRIDABLE)})")
        unit = entry.get("unit")
        unit = None if unit in (None, "", "profile") else _str(unit)
        if pid and (unit or overrides):
            issues.append(f"{at}: a provision decision has no unit and overrides nothing")
        evidence = _evidence(entry.get("evidence"), at, base, issues)
        key = (tid or f"provision {pid}", unit)
        if (tid or pid) and key in seen:
            issues.append(f"{at}: a second decision for {key[0]} [{unit or 'profile'}] "
                          f"(first at decisions[{seen[key]}])")
        seen.setdefault(key, i)
        if len(issues) == before:
            out.append(Decision(test_case=tid, verdict=verdict, assessor=value["assessor"], date=value["date"],
                                rationale=rationale, profile_sha256=sha, firmware=value["firmware"], unit=unit,
                                overrides=overrides, evidence=evidence, provision=pid))
    if issues:
        raise DecisionsError(issues)
    return out


def load_decisions_file(path: str | Path, test_cases: Iterable[str] | None = None) -> list[Decision]:
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise DecisionsError([f"{path}: {exc.strerror or exc}"]) from None
    except yaml.YAMLError as exc:
        raise DecisionsError([f"{path}: not valid YAML: {exc}"]) from None
    return parse_decisions(doc, where=str(path), base=path.parent, test_cases=test_cases)


# --- applying decisions to a run's latest records (used by harness.report.model) ------------------

@dataclass
class Judgement:
    """What a decision did to one run: its status and, when applied, the verdict it replaced."""

    status: str
    reason: str = ""
    replaced: list[str] = field(default_factory=list)


def stale_reason(rec: dict[str, Any], profile_sha256: str, firmware: str) -> str:
    """Why a decision does not belong to this run ("" when it does)."""
    why = []
    made = str(rec.get("profile_sha256") or "")
    if not profile_sha256:
        why.append("the run names no profile sha256")
    elif made != profile_sha256:
        why.append(f"made for profile sha256 {made[:12] or '(none)'}…, the run's profile is {profile_sha256[:12]}…")
    fw = str(rec.get("firmware") or "")
    if fw != str(firmware or ""):
        why.append(f"made for firmware {fw or '(none)'}, the run's is {firmware or '(unknown)'}")
    return "; ".join(why)


def override_problem(current: str, rec: dict[str, Any]) -> str:
    """Why a decision may not replace a recorded verdict ("" when it may)."""
    verdict = str(rec.get("verdict") or "")
    if current in ("", PENDING) or current == verdict:
        return ""
    overrides = str(rec.get("overrides") or "").upper()
    if overrides != current:
        said = f"overrides: {overrides}" if overrides else "no overrides:"
        return (f"the recorded verdict is {current} and the decision says {said}; a decision replaces a "
                f"recorded verdict only with overrides: {current} and a rationale")
    if not str(rec.get("rationale") or "").strip():
        return f"overriding {current} needs a rationale"
    return ""
