"""The report model: everything a report shows, computed from the results log and the catalogue.

Nothing here reads the device profile, the lab file or the live device: a report must be
rebuildable by a certifier from the run directory alone, and two builds from the same log give the
same model.

Provision verdict rule: the worst verdict over the latest record of every (test case, unit) of the
provision (``harness.verdict.worst``). ``NOT_ASSESSED`` is added for what the harness has no record
for. A provision whose present records would make it PASS (or NOT_APPLICABLE on an applicable
provision) but that lacks a record for one of its catalogue test cases, or for a unit that a per-unit
test case ran on elsewhere, is NOT_ASSESSED as well: a run killed half-way must not read as
conformant, and a PSTI deemed-compliance statement must not rest on a test that never ran.

Assessor decisions (``decision`` records, ``harness.assess.decisions``) are applied to the latest
records before the fold: applied, stale, rejected or superseded, each shown in ``decisions``. Every
provision carries a readable ``state`` ("automated PASS; awaiting assessor: 5.1-1-1"); the fold rule
is documented in docs/assessment.md.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from harness.redact import REDACTOR
from harness.report._text import natural_key
from harness.results import reconcile
from harness.verdict import Verdict, worst

NOT_ASSESSED = "NOT_ASSESSED"
OTHER_GROUP = "other"
DEFAULT_EDITION = "v2.1.1"
REPORT_SCHEMA = "conformance-report/1"

# Display order, worst first. NOT_ASSESSED sits with the verdicts that need a person.
VERDICT_ORDER = [
    Verdict.FAIL.value,
    Verdict.INCONCLUSIVE.value,
    Verdict.PENDING_REVIEW.value,
    NOT_ASSESSED,
    Verdict.PASS.value,
    Verdict.NOT_APPLICABLE.value,
]

APPLICABLE = "applicable"
NOT_APPLICABLE_TEXT = "not applicable"
UNKNOWN = "unknown"

PSTI_SUPPORTS = "supports"
PSTI_DOES_NOT_SUPPORT = "does_not_support"
PSTI_CANNOT_YET = "cannot_yet_support"
PSTI_NO_ROUTE = "no_route"


@dataclass
class EvidenceItem:
    kind: str
    name: str
    data: Any = None


@dataclass
class AttachmentRef:
    name: str
    path: str
    sha256: str = ""
    mime: str = ""


@dataclass
class SupersededRecord:
    """An earlier record of the same (test case, unit) that a rerun replaced."""

    record_id: str
    verdict: str
    reason: str
    finished: str


@dataclass
class DecisionRef:
    """The assessor decision that stands for a case (see ``harness.assess.decisions``)."""

    decision_id: str
    assessor: str
    date: str
    verdict: str
    rationale: str
    overrides: str = ""  # the recorded verdict the decision explicitly overrode, "" when none
    evidence: list[dict[str, str]] = field(default_factory=list)  # [{ref, sha256}]
    recorded: str = ""  # when it was appended to the results log


@dataclass
class DecisionResult:
    """One decision of the results log and what became of it in this report."""

    decision_id: str
    test_case: str
    unit: str | None
    verdict: str
    assessor: str
    date: str
    rationale: str
    overrides: str = ""
    evidence: list[dict[str, str]] = field(default_factory=list)
    profile_sha256: str = ""
    firmware: str = ""
    recorded: str = ""
    source: str = ""  # the decisions file, or "interactive"
    status: str = ""  # applied / stale / rejected / superseded
    status_reason: str = ""  # why it is stale, rejected or superseded
    replaced: list[str] = field(default_factory=list)  # "<label>: <verdict before>" where it was applied
    provision: str = ""  # set instead of test_case: a provision no test case assesses

    @property
    def unit_label(self) -> str:
        return unit_label(self.unit)

    @property
    def subject(self) -> str:
        """What it decides: "5.1-1-1 [profile]", or "provision 6-6"."""
        return f"provision {self.provision}" if self.provision and not self.test_case else \
            f"{self.test_case} [{self.unit_label}]"


@dataclass
class CaseResult:
    test_case: str
    provision: str
    unit: str | None
    verdict: str
    reason: str
    title: str = ""
    kind: str = ""  # "conceptual" / "functional" from the catalogue, "" when unknown
    evidence: list[EvidenceItem] = field(default_factory=list)
    attachments: list[AttachmentRef] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    runner: str = ""
    name: str = ""
    started: str = ""
    finished: str = ""
    duration_s: float = 0.0
    record_id: str = ""
    superseded: list[SupersededRecord] = field(default_factory=list)
    question: str = ""  # the assessor's question ("" when the record carries none)
    ixit: list[str] = field(default_factory=list)  # IXIT documents the test case reads (catalogue)
    automated_verdict: str = ""  # what the runners recorded before a decision; "" when only the assessor judged
    decision: DecisionRef | None = None  # the applied assessor decision

    @property
    def unit_label(self) -> str:
        return unit_label(self.unit)

    @property
    def label(self) -> str:
        return f"{self.test_case} [{self.unit_label}]"


@dataclass
class ProvisionResult:
    id: str
    clause: str
    group: str  # the clause, or "other" for an id the catalogue does not know
    known: bool  # in the catalogue
    status: str = ""  # M / R / MC / RC, "" when unknown
    mandatory: bool | None = None  # None: unknown (exit_code treats it as mandatory)
    conditional: bool | None = None
    conditions: list[int] = field(default_factory=list)
    summary: str = ""
    applicability: str = UNKNOWN
    applicability_reason: str = ""
    verdict: str = NOT_ASSESSED
    test_cases: list[str] = field(default_factory=list)
    results: list[str] = field(default_factory=list)  # CaseResult.label of each latest record
    missing: list[str] = field(default_factory=list)  # "<test case> [<unit>]" without a record
    reasons: list[str] = field(default_factory=list)
    psti: list[int] = field(default_factory=list)
    unassessed: str = ""  # why the catalogue has no test case for it (a provision an assessor judges)
    state: str = ""  # one readable line, e.g. "automated PASS; awaiting assessor: 5.1-1-1"
    awaiting: list[str] = field(default_factory=list)  # test cases PENDING_REVIEW ("5.1-1-1", "5.1-1-2 [U1]")
    automated: str = ""  # worst verdict of the records no assessor decided, "" when none
    decided_by: list[str] = field(default_factory=list)  # "5.1-1-1: PASS by <assessor> on <date>"


@dataclass
class PstiResult:
    number: int
    title: str
    provisions: list[str]
    verdicts: dict[str, str]
    deemed_compliance: bool
    outcome: str  # supports / does_not_support / cannot_yet_support / no_route
    statement: str
    note: str = ""


@dataclass
class RunInfo:
    run_id: str = ""
    run_ids: list[str] = field(default_factory=list)
    harness_version: str = ""
    harness_versions: list[str] = field(default_factory=list)
    profile_path: str = ""
    profile_sha256: str = ""
    profile_schema_version: Any = None
    product: dict[str, Any] = field(default_factory=dict)
    lab: dict[str, Any] = field(default_factory=dict)
    units: list[str] = field(default_factory=list)
    runners: list[str] = field(default_factory=list)
    argv: list[list[str]] = field(default_factory=list)
    first_time: str = ""
    last_time: str = ""
    results_sha256: str = ""
    segments: list[str] = field(default_factory=list)
    torn_segments: list[str] = field(default_factory=list)
    record_counts: dict[str, int] = field(default_factory=dict)
    catalogue: str = ""  # edition the provisions come from, "" when no catalogue was available
    catalogue_reference: str = ""  # e.g. "ETSI EN 303 645 V3.1.3"
    assessed_via: str = ""  # the edition the TS 103 701 test cases assess, when it is not the report's
    warnings: list[str] = field(default_factory=list)
    corrupt_lines: list[str] = field(default_factory=list)  # "<segment>:<line>" unreadable mid-segment
    unattributed_corrupt_lines: int = 0  # of those, the ones no test case could be named for
    # The labgrid place that served each unit (``<run>/farm/places.json`` of ``harness run --place``):
    # unit -> {place, reservation, console, power, address, resources}; empty on a local bench.
    places: dict[str, dict[str, Any]] = field(default_factory=dict)


@dataclass
class ReportModel:
    run: RunInfo
    provisions: list[ProvisionResult]
    cases: list[CaseResult]
    psti: list[PstiResult]
    counts: dict[str, int]  # provision verdicts
    case_counts: dict[str, int]  # latest (test case, unit) verdicts
    clauses: dict[str, str]  # clause -> title, in display order
    run_dir: str = ""  # where it was built from; not part of the serialised report
    decisions: list[DecisionResult] = field(default_factory=list)  # every assessor decision in the log
    test_case_counts: dict[str, int] = field(default_factory=dict)  # per test case, units folded (worst)

    @property
    def warnings(self) -> list[str]:
        """The run's warnings (``run.warnings``)."""
        return self.run.warnings

    def provision(self, provision_id: str) -> ProvisionResult | None:
        for p in self.provisions:
            if p.id == provision_id:
                return p
        return None

    def cases_of(self, provision_id: str) -> list[CaseResult]:
        return [c for c in self.cases if c.provision == provision_id]

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("run_dir")
        out["schema"] = REPORT_SCHEMA
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any], run_dir: str = "") -> ReportModel:
        return cls(
            run=RunInfo(**data["run"]),
            provisions=[ProvisionResult(**p) for p in data["provisions"]],
            cases=[_case_from_dict(c) for c in data["cases"]],
            psti=[PstiResult(**{**p, "verdicts": dict(p["verdicts"])}) for p in data["psti"]],
            counts=dict(data["counts"]),
            case_counts=dict(data["case_counts"]),
            clauses=dict(data["clauses"]),
            run_dir=run_dir,
            decisions=[DecisionResult(**d) for d in data.get("decisions", [])],
            test_case_counts=dict(data.get("test_case_counts", {})),
        )


def _case_from_dict(c: dict[str, Any]) -> CaseResult:
    return CaseResult(**{
        **c,
        "evidence": [EvidenceItem(**e) for e in c.get("evidence", [])],
        "attachments": [AttachmentRef(**a) for a in c.get("attachments", [])],
        "superseded": [SupersededRecord(**s) for s in c.get("superseded", [])],
        "decision": DecisionRef(**c["decision"]) if c.get("decision") else None,
    })


def unit_label(unit: str | None) -> str:
    return "profile" if unit is None else str(unit)


def clause_of(provision_id: str) -> str:
    """'5.1-1' -> '5.1', '4-1' -> '4'; an id without a dash has no clause."""
    head, sep, _ = provision_id.partition("-")
    return head if sep and head else OTHER_GROUP


def results_sha256(run_dir: str | Path) -> tuple[str, list[str], list[str]]:
    """SHA-256 over the sorted segment files' bytes, concatenated; with the names and torn ones."""
    folder = Path(run_dir) / "results"
    h = hashlib.sha256()
    names: list[str] = []
    torn: list[str] = []
    if folder.is_dir():
        for seg in sorted(folder.glob("segment-*.jsonl")):
            data = seg.read_bytes()
            h.update(data)
            names.append(seg.name)
            if data and not data.endswith(b"\n"):
                torn.append(seg.name)
    return h.hexdigest(), names, torn


@dataclass
class CorruptLine:
    """A complete line (newline-terminated) of a segment that does not parse: not a torn last line
    of a killed writer but damage inside the log. What it was about is read off its text if it can."""

    segment: str
    line: int
    test_case: str | None = None
    unit: str | None = None
    unit_known: bool = False
    finished: str = ""

    @property
    def where(self) -> str:
        return f"{self.segment}:{self.line}"


_RECORD_KIND = re.compile(r'"record"\s*:\s*"test_case"')
_TEST_CASE = re.compile(r'"test_case"\s*:\s*"((?:[^"\\]|\\.)*)"')
_UNIT = re.compile(r'"unit"\s*:\s*(null|"((?:[^"\\]|\\.)*)")')
_FINISHED = re.compile(r'"finished"\s*:\s*"([^"\\]*)"')


def _json_str(escaped: str) -> str | None:
    try:
        value = json.loads(f'"{escaped}"')
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, str) else None


def _corrupt_line(segment: str, number: int, text: str) -> CorruptLine:
    bad = CorruptLine(segment=segment, line=number)
    # A plan record names test cases too ("cases": [...]): only a test case record is attributed.
    if not _RECORD_KIND.search(text):
        return bad
    tc = _TEST_CASE.search(text)
    unit = _UNIT.search(text)
    if tc and unit:
        bad.test_case = _json_str(tc.group(1))
        bad.unit = None if unit.group(1) == "null" else _json_str(unit.group(2) or "")
        bad.unit_known = bad.test_case is not None and (unit.group(1) == "null" or bad.unit is not None)
    finished = _FINISHED.search(text)
    bad.finished = finished.group(1) if finished else ""
    return bad


def _all_records(run_dir: Path, warnings: list[str], corrupt: list[CorruptLine] | None = None) -> list[Any]:
    """Every readable record of every segment. The last piece of a segment is empty, or the torn
    line of a killed writer: skipped either way. A complete line that does not parse goes into
    ``corrupt`` (segment and line number) so the model can say what it may have hidden."""
    out: list[Any] = []
    undecodable = False
    folder = run_dir / "results"
    if not folder.is_dir():
        return out
    for seg in sorted(folder.glob("segment-*.jsonl")):
        for number, raw in enumerate(seg.read_bytes().split(b"\n")[:-1], start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                # A writer killed inside a multi-byte character, or damage: shown with replacement.
                undecodable = True
                text = raw.decode("utf-8", errors="replace")
            if not text.strip():
                continue
            try:
                out.append(json.loads(text))
            except json.JSONDecodeError:
                if corrupt is not None:
                    corrupt.append(_corrupt_line(seg.name, number, text))
    if undecodable:
        warnings.append("a segment holds bytes that are not UTF-8; they are shown as \ufffd")
    return out


def _apply_corrupt(cases: list[CaseResult], corrupt: list[CorruptLine], info: RunInfo,
                   warnings: list[str]) -> list[CaseResult]:
    """A readable verdict must not stand over an unreadable later record of the same test case
    (a corrupt superseding FAIL would let the older PASS stand): that case becomes INCONCLUSIVE.
    A corrupt line that names no test case is a run-level warning and makes the exit code 3."""
    info.corrupt_lines = [c.where for c in corrupt]
    by_key = {(c.test_case, c.unit): c for c in cases}
    added: list[CaseResult] = []
    for bad in corrupt:
        if bad.test_case is None or not bad.unit_known:
            info.unattributed_corrupt_lines += 1
            warnings.append(f"unreadable line {bad.where} in the results log names no test case; "
                            "a record it held is missing from this report")
            continue
        key = (bad.test_case, bad.unit)
        label = f"{bad.test_case} [{unit_label(bad.unit)}]"
        warnings.append(f"unreadable line {bad.where} in the results log is a record of {label}")
        case = by_key.get(key)
        why = f"a later record of this test case is unreadable (results {bad.where})"
        if case is None:
            case = CaseResult(test_case=bad.test_case, provision=bad.test_case.rsplit("-", 1)[0],
                              unit=bad.unit, verdict=Verdict.INCONCLUSIVE.value,
                              reason=f"the only record of this test case is unreadable (results {bad.where})",
                              record_id=f"unreadable-{bad.where}")
            by_key[key] = case
            added.append(case)
            continue
        if bad.finished and case.finished and _time_key(bad.finished) < _time_key(case.finished):
            continue  # an older record than the one that stands: a rerun replaced it anyway
        if case.verdict != Verdict.INCONCLUSIVE.value or not case.reason.startswith("a later record"):
            case.superseded.append(SupersededRecord(record_id=case.record_id, verdict=case.verdict,
                                                    reason=case.reason, finished=case.finished))
            case.reason = f"{why}; the earlier {case.verdict} does not stand"
            case.verdict = Verdict.INCONCLUSIVE.value
    return cases + added


def _load_default_catalogue(warnings: list[str]) -> Any:
    try:
        from harness.standard import load_catalogue
    except ImportError as exc:
        warnings.append(f"catalogue unavailable ({exc}); provisions are shown as the log names them")
        return None
    try:
        return load_catalogue(DEFAULT_EDITION)
    except Exception as exc:  # a broken catalogue must not stop the report of a finished run
        warnings.append(f"catalogue {DEFAULT_EDITION} failed to load: {exc}")
        return None


def _verdict_of(rec: dict[str, Any], warnings: list[str]) -> str:
    raw = rec.get("verdict")
    try:
        return Verdict(raw).value
    except ValueError:
        # An unknown word is a harness fault: the device was not judged.
        warnings.append(f"record {rec.get('id', '?')} has unknown verdict {raw!r}; shown as INCONCLUSIVE")
        return Verdict.INCONCLUSIVE.value


def _time_key(value: str) -> tuple[int, Any]:
    try:
        return (0, datetime.fromisoformat(value).timestamp())
    except (TypeError, ValueError):
        return (1, value)


def _as_evidence(item: Any) -> EvidenceItem:
    if isinstance(item, dict) and "kind" in item:
        return EvidenceItem(kind=str(item.get("kind")), name=str(item.get("name", "")), data=item.get("data"))
    return EvidenceItem(kind="unknown", name="", data=item)


def _as_attachment(item: Any) -> AttachmentRef | None:
    if isinstance(item, dict) and item.get("path"):
        return AttachmentRef(name=str(item.get("name", "")), path=str(item["path"]),
                             sha256=str(item.get("sha256", "")), mime=str(item.get("mime", "")))
    return None


def _unique(items: list[Any]) -> list[Any]:
    return list(dict.fromkeys(i for i in items if i not in (None, "")))


class _Sessions:
    """Merge of every session record of the run (one per writer process)."""

    def __init__(self, sessions: list[dict[str, Any]], warnings: list[str]) -> None:
        self.sessions = sorted(sessions, key=lambda s: _time_key(str(s.get("time", ""))))
        self.warnings = warnings

    def run_info(self) -> RunInfo:
        info = RunInfo()
        ss = self.sessions
        info.run_ids = _unique([s.get("run_id") for s in ss])
        info.run_id = info.run_ids[0] if info.run_ids else ""
        if len(info.run_ids) > 1:
            self.warnings.append(f"session records name several run ids: {', '.join(info.run_ids)}")
        info.harness_versions = _unique([s.get("harness_version") for s in ss])
        info.harness_version = ", ".join(info.harness_versions)
        profiles = [s.get("profile") for s in ss if isinstance(s.get("profile"), dict)]
        if profiles:
            first = profiles[0]
            info.profile_path = str(first.get("path", ""))
            info.profile_sha256 = str(first.get("sha256", ""))
            info.profile_schema_version = first.get("schema_version")
            info.product = dict(first.get("product") or {})
            shas = _unique([p.get("sha256") for p in profiles])
            if len(shas) > 1:
                self.warnings.append(f"writers used different profiles: sha256 {', '.join(shas)}")
        labs = [s.get("lab") for s in ss if isinstance(s.get("lab"), dict)]
        if labs:
            info.lab = dict(labs[0])
            shas = _unique([lab.get("sha256") for lab in labs])
            if len(shas) > 1:
                self.warnings.append(f"writers used different lab configs: sha256 {', '.join(shas)}")
        info.units = sorted((str(u) for u in _unique([u for s in ss for u in (s.get("units") or [])])),
                            key=_unit_key)
        info.runners = _unique([s.get("runner") for s in ss])
        argvs: list[list[str]] = []
        for s in ss:
            argv = s.get("argv")
            if isinstance(argv, list) and [str(a) for a in argv] not in argvs:
                argvs.append([str(a) for a in argv])
        info.argv = argvs
        return info

    def applicability(self, key: str = "applicability", edition: str | None = None) -> dict[str, dict[str, Any]]:
        """Applicability per provision from the session records' ``key``; with ``edition``, only from
        sessions that computed it for that report edition (``report_applicability``)."""
        merged: dict[str, dict[str, Any]] = {}
        for s in self.sessions:
            if edition is not None and str(s.get("report_edition") or "").lower() != edition.lower():
                continue
            app = s.get(key)
            if not isinstance(app, dict):
                continue
            for pid, entry in app.items():
                if not isinstance(entry, dict):
                    continue
                old = merged.get(pid)
                if old is not None and old.get("applicable") != entry.get("applicable"):
                    self.warnings.append(f"writers disagree on whether {pid} applies; the latest is shown")
                merged[pid] = entry
        return merged


def _applicability(entry: dict[str, Any] | None) -> tuple[str, str]:
    if not entry or not isinstance(entry.get("applicable"), bool):
        return UNKNOWN, str((entry or {}).get("reason", ""))
    return (APPLICABLE if entry["applicable"] else NOT_APPLICABLE_TEXT), str(entry.get("reason", ""))


def _provision_verdict(prov: ProvisionResult, cases: list[CaseResult]) -> None:
    """Fill verdict, results and reasons of one provision from its latest records."""
    prov.results = [c.label for c in cases]
    if not cases and prov.unassessed:
        # No test case assesses it (a provision newer than the test specification): the assessor does.
        prov.verdict = Verdict.PENDING_REVIEW.value
        prov.reasons = [f"awaiting assessor: {prov.unassessed}"]
        return
    if not cases:
        prov.verdict = NOT_ASSESSED
        prov.reasons = ["the harness has no record for this provision; an assessor must judge it"]
        return
    verdict = worst(*(Verdict(c.verdict) for c in cases)).value
    reasons = [f"{c.label}: {c.reason}" for c in cases if c.verdict == verdict]
    # A profile that says the provision does not apply covers test cases that were not run.
    excused = prov.applicability == NOT_APPLICABLE_TEXT and verdict == Verdict.NOT_APPLICABLE.value
    if prov.missing and not excused and verdict in (Verdict.PASS.value, Verdict.NOT_APPLICABLE.value):
        verdict = NOT_ASSESSED
        reasons = [f"no record for {', '.join(prov.missing)}; an assessor must judge it"]
    prov.verdict = verdict
    prov.reasons = list(dict.fromkeys(reasons))


def _short_label(c: CaseResult) -> str:
    """"5.1-1-1" for a profile-level case, "5.1-1-2 [U1]" for a unit's."""
    return c.test_case if c.unit is None else c.label


def _provision_state(prov: ProvisionResult, cases: list[CaseResult]) -> None:
    """The readable line of a provision: what the runners found, what assessors decided, what is
    still open (awaiting the assessor, or without any record)."""
    pending = Verdict.PENDING_REVIEW.value
    # What the runners judged, before any decision (a decision may confirm or override it).
    automated = [c.verdict if c.decision is None else c.automated_verdict for c in cases
                 if (c.verdict if c.decision is None else c.automated_verdict) not in ("", pending)]
    decided = [c for c in cases if c.decision is not None]
    prov.awaiting = [_short_label(c) for c in cases if c.verdict == pending]
    prov.automated = worst(*(Verdict(v) for v in automated)).value if automated else ""
    prov.decided_by = [f"{_short_label(c)}: {c.verdict} by {c.decision.assessor} on {c.decision.date}"
                       + (f" (overrode {c.decision.overrides})" if c.decision.overrides else "")
                       for c in decided if c.decision is not None]
    if prov.verdict == Verdict.NOT_APPLICABLE.value and prov.applicability == NOT_APPLICABLE_TEXT:
        prov.state = f"not applicable: {prov.applicability_reason}".rstrip(": ")
        return
    parts: list[str] = []
    if prov.automated:
        parts.append(f"automated {prov.automated}")
    if decided:
        verdict = worst(*(Verdict(c.verdict) for c in decided)).value
        names = ", ".join(dict.fromkeys(c.decision.assessor for c in decided if c.decision is not None))
        labels = ", ".join(_short_label(c) + (f" overriding {c.decision.overrides}"
                                              if c.decision is not None and c.decision.overrides else "")
                           for c in decided)
        parts.append(f"assessor {verdict} ({names}: {labels})")
    if prov.awaiting:
        parts.append(f"awaiting assessor: {', '.join(prov.awaiting)}")
    if prov.missing:
        parts.append(f"no record: {', '.join(prov.missing)}")
    if not parts and prov.unassessed:
        parts.append(f"awaiting assessor: {prov.unassessed}")
    prov.state = "; ".join(parts) or "no record: the harness has no record for this provision"


def _question_of(evidence: Any) -> str:
    for e in evidence if isinstance(evidence, list) else []:
        if isinstance(e, dict) and e.get("kind") == "question" and isinstance(e.get("data"), str):
            return e["data"]
    return ""


def _per_test_case(cases: list[CaseResult]) -> list[str]:
    by_tc: dict[str, list[Verdict]] = {}
    for c in cases:
        by_tc.setdefault(c.test_case, []).append(Verdict(c.verdict))
    return [worst(*vs).value for vs in by_tc.values()]


def _decision_result(rec: dict[str, Any]) -> DecisionResult:
    unit = rec.get("unit")
    evidence = [{"ref": str(e.get("ref", "")), "sha256": str(e.get("sha256", ""))}
                for e in rec.get("evidence") or [] if isinstance(e, dict)]
    return DecisionResult(
        decision_id=str(rec.get("id", "")), test_case=str(rec.get("test_case", "")),
        unit=None if unit in (None, "") else str(unit), verdict=str(rec.get("verdict", "")),
        assessor=str(rec.get("assessor", "")), date=str(rec.get("date", "")),
        rationale=str(rec.get("rationale", "")), overrides=str(rec.get("overrides") or ""),
        evidence=evidence, profile_sha256=str(rec.get("profile_sha256", "")),
        firmware=str(rec.get("firmware", "")), recorded=str(rec.get("recorded", "")),
        source=str(rec.get("source", "")), provision=str(rec.get("provision") or ""))


def _apply_decisions(cases: list[CaseResult], recs: list[dict[str, Any]], info: RunInfo,
                     cat_cases: Any, warnings: list[str]) -> list[DecisionResult]:
    """Apply the newest decision of each (test case, unit) to the run's cases (rules in
    ``harness.assess.decisions``); every decision is returned with what became of it."""
    from harness.assess.decisions import (
        APPLIED,
        DECISION_VERDICTS,
        REJECTED,
        STALE,
        SUPERSEDED,
        override_problem,
        stale_reason,
    )

    results: list[DecisionResult] = []
    newest: dict[tuple[str, str | None], DecisionResult] = {}
    for rec in sorted(recs, key=lambda r: _time_key(str(r.get("recorded", "")))):
        d = _decision_result(rec)
        results.append(d)
        key = (d.test_case or f"provision {d.provision}", d.unit)
        earlier = newest.get(key)
        if earlier is not None:
            earlier.status = SUPERSEDED
            earlier.status_reason = f"a later decision ({d.recorded}) replaced it"
        newest[key] = d
    firmware = str(info.product.get("firmware") or "")
    by_key = {(c.test_case, c.unit): c for c in cases}
    # A decision for one unit is more specific than one for the whole test case: it goes last.
    for (tc, unit), d in sorted(newest.items(), key=lambda kv: (kv[0][0], kv[0][1] is not None, kv[0][1] or "")):
        rec = {"verdict": d.verdict, "overrides": d.overrides, "rationale": d.rationale,
               "profile_sha256": d.profile_sha256, "firmware": d.firmware}
        if d.provision and not d.test_case:
            continue  # applied to its provision once the provisions are built (_apply_provision_decisions)
        if d.verdict not in DECISION_VERDICTS or not d.test_case:
            d.status, d.status_reason = REJECTED, f"verdict {d.verdict!r} is not one of {', '.join(DECISION_VERDICTS)}"
            continue
        stale = stale_reason(rec, info.profile_sha256, firmware)
        if stale:
            d.status, d.status_reason = STALE, stale
            warnings.append(f"assessor decision on {tc} [{d.unit_label}] is stale ({stale}); not applied")
            continue
        targets = [c for c in cases if c.test_case == tc and (unit is None or c.unit == unit)]
        if not targets:
            if cat_cases and tc not in cat_cases:
                d.status, d.status_reason = REJECTED, f"{tc} is neither in the catalogue nor in the run"
                continue
            # The assessor judged a test case no runner recorded (e.g. performed by hand).
            provision = str(getattr(cat_cases.get(tc), "provision", "") or tc.rsplit("-", 1)[0]) \
                if cat_cases else tc.rsplit("-", 1)[0]
            new = CaseResult(test_case=tc, provision=provision, unit=unit, verdict=Verdict.PENDING_REVIEW.value,
                             reason="no runner recorded this test case", runner="assessor",
                             kind=str(getattr(cat_cases.get(tc), "kind", "") or "") if cat_cases else "",
                             ixit=[str(x) for x in getattr(cat_cases.get(tc), "ixit", ()) or ()] if cat_cases else [],
                             record_id=f"decision-{d.decision_id}")
            cases.append(new)
            by_key[(tc, unit)] = new
            targets = [new]
        problems = []
        for c in targets:
            problem = override_problem(c.automated_verdict if c.runner != "assessor" else "", rec)
            if problem:
                problems.append(f"{c.label}: {problem}")
                continue
            before = c.automated_verdict if c.runner != "assessor" else ""
            d.replaced.append(f"{c.label}: {before or 'no record'}")
            c.decision = DecisionRef(decision_id=d.decision_id, assessor=d.assessor, date=d.date, verdict=d.verdict,
                                     rationale=d.rationale, overrides=d.overrides if before == d.overrides else "",
                                     evidence=list(d.evidence), recorded=d.recorded)
            c.verdict = d.verdict
            head = f"assessor {d.assessor} ({d.date}): {d.rationale}"
            if before and before not in (Verdict.PENDING_REVIEW.value, d.verdict):
                head += f" [overrode {before}: {c.reason}]"
            c.reason = head
        if problems and len(problems) == len(targets):
            d.status, d.status_reason = REJECTED, "; ".join(problems)
            warnings.append(f"assessor decision on {tc} [{d.unit_label}] not applied: {'; '.join(problems)}")
        else:
            d.status = APPLIED
            d.status_reason = ("; ".join(["applied to part only"] + problems)) if problems else ""
    return results


def _apply_provision_decisions(provisions: dict[str, ProvisionResult], decisions: list[DecisionResult],
                               info: RunInfo, warnings: list[str]) -> None:
    """A decision that names a provision judges one that no test case assesses (a provision new in
    a later edition); a provision with test cases is judged through them."""
    from harness.assess.decisions import APPLIED, DECISION_VERDICTS, REJECTED, STALE, stale_reason

    firmware = str(info.product.get("firmware") or "")
    for d in decisions:
        if not d.provision or d.test_case or d.status:  # a test case's, or superseded
            continue
        stale = stale_reason({"profile_sha256": d.profile_sha256, "firmware": d.firmware},
                             info.profile_sha256, firmware)
        prov = provisions.get(d.provision)
        if d.verdict not in DECISION_VERDICTS:
            d.status, d.status_reason = REJECTED, f"verdict {d.verdict!r} is not one of {', '.join(DECISION_VERDICTS)}"
        elif stale:
            d.status, d.status_reason = STALE, stale
        elif prov is None:
            d.status, d.status_reason = REJECTED, f"{d.provision} is not a provision of this report's edition"
        elif prov.test_cases or prov.results:
            d.status, d.status_reason = REJECTED, (f"{d.provision} has test cases ({', '.join(prov.test_cases)}): "
                                                   "decide those instead")
        else:
            d.status = APPLIED
            d.replaced = [f"provision {d.provision}: {prov.verdict}"]
            prov.verdict = d.verdict
            prov.reasons = [f"assessor {d.assessor} ({d.date}): {d.rationale}"]
            prov.decided_by = [f"{d.provision}: {d.verdict} by {d.assessor} on {d.date}"]
            prov.state = f"assessor {d.verdict} ({d.assessor}); no test case assesses it"
            continue
        warnings.append(f"assessor decision on {d.subject} not applied ({d.status}: {d.status_reason})")


def _missing(prov: ProvisionResult, cases: list[CaseResult], units: list[str]) -> list[str]:
    seen = {(c.test_case, c.unit) for c in cases}
    seen_cases = {c.test_case for c in cases}
    missing = [f"{tc} [any unit]" for tc in prov.test_cases if tc not in seen_cases]
    # A test case that ran per unit somewhere is expected on every unit of the run.
    for tc in prov.test_cases or sorted(seen_cases):
        per_unit = {c.unit for c in cases if c.test_case == tc and c.unit not in (None, "*")}
        if per_unit:
            missing += [f"{tc} [{u}]" for u in units if (tc, u) not in seen]
    return missing


def _psti_result(req: Any, verdicts: dict[str, str], states: dict[str, str] | None = None) -> PstiResult:
    number = int(req.number)
    provisions = list(req.provisions)
    deemed = bool(req.deemed_compliance)
    listing = ", ".join(f"{p} {verdicts[p]}" for p in provisions) or "no provision"
    if not deemed:
        outcome = PSTI_NO_ROUTE
        statement = (
            "no deemed-compliance route: EN 303 645 evidence cannot show that this requirement is met. "
            f"The evidence for {listing} only bears on it; an assessor must judge the published "
            f"information against Schedule 1 paragraph {number} itself."
        )
    elif not provisions:
        outcome = PSTI_CANNOT_YET
        statement = "cannot yet support deemed compliance: the catalogue maps no provision to it"
    else:
        fails = [p for p in provisions if verdicts[p] == Verdict.FAIL.value]
        passes = [p for p in provisions if verdicts[p] == Verdict.PASS.value]
        n_a = [p for p in provisions if verdicts[p] == Verdict.NOT_APPLICABLE.value]
        open_ = [p for p in provisions if p not in fails and p not in passes and p not in n_a]
        if fails:
            outcome = PSTI_DOES_NOT_SUPPORT
            statement = f"does not support deemed compliance: {', '.join(fails)} FAIL"
        elif not open_ and passes:
            outcome = PSTI_SUPPORTS
            statement = f"supports deemed compliance: {', '.join(passes)} PASS"
            if n_a:
                statement += f" ({', '.join(n_a)} judged not applicable)"
        elif not open_:
            outcome = PSTI_CANNOT_YET
            statement = (
                f"cannot yet support deemed compliance: every mapped provision ({', '.join(n_a)}) was "
                "judged not applicable; an assessor must confirm that the requirement does not apply"
            )
        else:
            outcome = PSTI_CANNOT_YET
            states = states or {}
            why = ", ".join(f"{p} is {verdicts[p]}" + (f" ({states[p]})" if states.get(p) else "") for p in open_)
            statement = f"cannot yet support deemed compliance: {why}"
    return PstiResult(number=number, title=str(req.title), provisions=provisions, verdicts=verdicts,
                      deemed_compliance=deemed, outcome=outcome, statement=statement,
                      note=str(getattr(req, "note", "") or ""))


def _counts(verdicts: list[str]) -> dict[str, int]:
    c = Counter(verdicts)
    return {v: c.get(v, 0) for v in VERDICT_ORDER}


def _unjudged(plans: list[dict[str, Any]], records: list[dict[str, Any]], warnings: list[str]) -> list[dict[str, Any]]:
    """A test case a runner planned (collected for a unit) that has no record: the run ended —
    crashed, killed, interrupted — before it was judged. It stands as INCONCLUSIVE, never as
    silence, so a run that judged nothing cannot look clean."""
    seen = {(r.get("test_case"), r.get("unit")) for r in records}
    out: list[dict[str, Any]] = []
    for plan in plans:
        for case in plan.get("cases") or []:
            if not isinstance(case, dict):
                continue
            key = (case.get("test_case"), case.get("unit"))
            if not isinstance(key[0], str) or key in seen:
                continue
            seen.add(key)
            out.append({"record": "test_case", "test_case": key[0], "unit": key[1], "verdict": "INCONCLUSIVE",
                        "reason": f"no record: {plan.get('runner') or 'the runner'} planned this test case "
                                  "but the run ended before it was judged",
                        "title": str(case.get("title", "")), "runner": str(plan.get("runner", "")),
                        "name": str(case.get("name", "")), "finished": str(plan.get("time", "")),
                        "id": f"unjudged-{key[0]}-{key[1]}", "evidence": []})
    if out:
        warnings.append(f"{len(out)} planned test case(s) have no record (the run ended before judging them)")
    return out


def build_report_model(run_dir: str | Path, catalogue: Any = None) -> ReportModel:
    """Build the model of a run from ``<run_dir>/results`` and the static catalogue.

    ``catalogue`` is a ``harness.standard`` catalogue (or an object of the same shape); ``None``
    loads edition v2.1.1 when the package is there, and otherwise reports provisions as the log
    names them.
    """
    run_dir = Path(run_dir)
    warnings: list[str] = []
    if catalogue is None:
        catalogue = _load_default_catalogue(warnings)

    sessions: list[dict[str, Any]] = []
    records: list[dict[str, Any]] = []
    plans: list[dict[str, Any]] = []
    decision_recs: list[dict[str, Any]] = []
    other = malformed = 0
    corrupt: list[CorruptLine] = []
    for rec in _all_records(run_dir, warnings, corrupt):
        kind = rec.get("record") if isinstance(rec, dict) else None
        if kind == "session":
            sessions.append(rec)
        elif kind == "plan":
            plans.append(rec)
        elif kind == "decision":
            decision_recs.append(rec)
        elif kind == "test_case":
            if isinstance(rec.get("test_case"), str) and rec["test_case"]:
                records.append(rec)
            else:
                malformed += 1
        else:
            other += 1
    if malformed:
        warnings.append(f"{malformed} test case record(s) without a test case id were ignored")

    merged = _Sessions(sessions, warnings)
    info = merged.run_info()
    # A catalogue of another edition than the one the test cases assess re-keys their provisions.
    translate = getattr(catalogue, "translate", None) if catalogue is not None else None
    if not callable(translate):
        def translate(pid: str) -> str:
            return pid
    # Applicability computed with the report's own edition (its conditions and features) when a
    # writer recorded it; else the test cases' edition's, re-keyed.
    cat_edition = str(getattr(catalogue, "edition", "") or "") if catalogue is not None else ""
    applicability = (merged.applicability("report_applicability", cat_edition) if cat_edition else {}) \
        or {translate(k): v for k, v in merged.applicability().items()}
    info.results_sha256, info.segments, info.torn_segments = results_sha256(run_dir)
    info.places = read_places(run_dir, warnings)
    if info.torn_segments:
        warnings.append("a writer was killed mid-record (torn last line in "
                        f"{', '.join(info.torn_segments)}); its complete records are kept")
    if not sessions:
        warnings.append("no session record: run metadata and applicability are unknown")
    gaps = _unique([g for s in sessions for g in (s.get("unresolved_secrets") or []) if isinstance(g, str)])
    if gaps:
        warnings.append("label passwords of other units were not available to this run, so the test cases that "
                        "compare units could not read them: " + "; ".join(gaps))

    times = [str(s.get("time")) for s in sessions if s.get("time")]
    times += [str(r.get(k)) for r in records for k in ("started", "finished") if r.get(k)]
    if times:
        ordered = sorted(times, key=_time_key)
        info.first_time, info.last_time = ordered[0], ordered[-1]

    records += _unjudged(plans, records, warnings)

    # Latest per (test case, unit), the same rule as harness.results.latest_by_case; earlier ones
    # are kept as history so the report shows that a rerun replaced them.
    cat_cases = getattr(catalogue, "test_cases", {}) if catalogue is not None else {}
    history: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for rec in sorted(records, key=lambda r: str(r.get("finished", ""))):
        unit = rec.get("unit")
        history.setdefault((rec["test_case"], None if unit is None else str(unit)), []).append(rec)

    cases: list[CaseResult] = []
    for (tc, unit), recs in history.items():
        rec, earlier = reconcile(recs)  # one runner: newest wins; pytest and Robot must agree
        cat_tc = cat_cases.get(tc)
        provision = translate(str(rec.get("provision") or getattr(cat_tc, "provision", "") or tc.rsplit("-", 1)[0]))
        measurements = rec.get("measurements")
        evidence = rec.get("evidence")
        attachments = rec.get("attachments")
        try:
            duration = float(rec.get("duration_s") or 0.0)
        except (TypeError, ValueError):
            duration = 0.0
        cases.append(CaseResult(
            test_case=tc, provision=provision, unit=unit,
            verdict=_verdict_of(rec, warnings), reason=str(rec.get("reason", "")),
            title=str(rec.get("title", "")), kind=str(getattr(cat_tc, "kind", "") or ""),
            evidence=[_as_evidence(e) for e in evidence] if isinstance(evidence, list) else
            ([] if evidence is None else [_as_evidence(evidence)]),
            attachments=[a for a in (_as_attachment(x) for x in attachments or []) if a]
            if isinstance(attachments, list) else [],
            measurements=measurements if isinstance(measurements, dict) else
            ({} if measurements is None else {"value": measurements}),
            runner=str(rec.get("runner", "")), name=str(rec.get("name", "")),
            started=str(rec.get("started", "")), finished=str(rec.get("finished", "")),
            duration_s=duration, record_id=str(rec.get("id", "")),
            superseded=[SupersededRecord(record_id=str(r.get("id", "")), verdict=str(r.get("verdict", "")),
                                         reason=str(r.get("reason", "")), finished=str(r.get("finished", "")))
                        for r in earlier],
            question=_question_of(evidence), ixit=[str(d) for d in getattr(cat_tc, "ixit", ()) or ()],
        ))
        if rec.get("runner") and rec["runner"] not in info.runners:
            info.runners.append(str(rec["runner"]))
    cases = _apply_corrupt(cases, corrupt, info, warnings)
    for c in cases:
        c.automated_verdict = c.verdict
    decisions = _apply_decisions(cases, decision_recs, info, cat_cases, warnings)

    info.record_counts = {
        "segments": len(info.segments),
        "sessions": len(sessions),
        "case_records": len(records),
        "latest": len(cases),
        "superseded": len(records) - len(cases),
        "other_records": other,
        "malformed_records": malformed,
        "torn_segments": len(info.torn_segments),
        "corrupt_lines": len(corrupt),
        "decisions": len(decision_recs),
    }

    # Provisions: every catalogue provision in catalogue order, then ids only the log knows.
    clauses: dict[str, str] = {}
    provisions: dict[str, ProvisionResult] = {}
    if catalogue is not None:
        info.catalogue = str(getattr(catalogue, "edition", "") or getattr(catalogue, "version", "")
                             or DEFAULT_EDITION)
        clauses.update({str(k): str(v) for k, v in getattr(catalogue, "clauses", {}).items()})
        for pid, p in catalogue.provisions.items():
            clause = str(getattr(p, "clause", "") or clause_of(pid))
            provisions[pid] = ProvisionResult(
                id=pid, clause=clause, group=clause, known=True, status=str(p.status),
                mandatory=bool(p.mandatory), conditional=bool(p.conditional),
                conditions=[int(c) for c in p.conditions], summary=str(p.summary),
                test_cases=list(p.test_cases), psti=[int(n) for n in p.psti],
                unassessed=str(getattr(p, "unassessed", "") or ""))
        info.catalogue_reference = str(getattr(catalogue, "reference", "") or "")
        info.assessed_via = str(getattr(catalogue, "assessed_via", "") or "")
    extra_ids = {c.provision for c in cases} | set(applicability)
    for pid in sorted(extra_ids - set(provisions), key=_natural):
        clause = clause_of(pid)
        # With a catalogue an id it lacks is suspect (typo, other edition): it goes to "other".
        group = OTHER_GROUP if catalogue is not None else clause
        provisions[pid] = ProvisionResult(id=pid, clause=clause, group=group, known=False)

    by_provision: dict[str, list[CaseResult]] = {}
    for c in cases:
        by_provision.setdefault(c.provision, []).append(c)
    order = {pid: i for i, pid in enumerate(provisions)}
    for pid, prov in provisions.items():
        prov.applicability, prov.applicability_reason = _applicability(applicability.get(pid))
        mine = sorted(by_provision.get(pid, []), key=lambda c: (_natural(c.test_case), _unit_key(c.unit)))
        for c in mine:
            if c.test_case not in prov.test_cases:
                prov.test_cases.append(c.test_case)
        prov.missing = _missing(prov, mine, info.units)
        _provision_verdict(prov, mine)
        _provision_state(prov, mine)
    _apply_provision_decisions(provisions, decisions, info, warnings)

    cases.sort(key=lambda c: (order.get(c.provision, len(order)), _natural(c.test_case), _unit_key(c.unit)))

    # Display order of the groups: catalogue clause order, then clauses only the log knows, then other.
    for prov in provisions.values():
        if prov.group != OTHER_GROUP and prov.group not in clauses:
            clauses[prov.group] = ""
    if any(p.group == OTHER_GROUP for p in provisions.values()):
        clauses[OTHER_GROUP] = "Provisions not in the catalogue"

    verdicts = {pid: p.verdict for pid, p in provisions.items()}
    states = {pid: p.state for pid, p in provisions.items()}
    psti = []
    for req in (getattr(catalogue, "psti", None) or []) if catalogue is not None else []:
        mapped = {p: verdicts.get(p, NOT_ASSESSED) for p in req.provisions}
        psti.append(_psti_result(req, mapped, states))

    info.warnings = list(dict.fromkeys(warnings))
    model = ReportModel(
        run=info,
        provisions=list(provisions.values()),
        cases=cases,
        psti=psti,
        counts=_counts([p.verdict for p in provisions.values()]),
        case_counts=_counts([c.verdict for c in cases]),
        clauses=clauses,
        run_dir=str(run_dir),
        decisions=decisions,
        test_case_counts=_counts(_per_test_case(cases)),
    )
    if REDACTOR.secrets():
        # Public default passwords (e.g. a legacy unit's label password "admin") are not secrets:
        # masking them would shred names such as "admin-api" in every reason, as the suites'
        # writers already know.
        from harness.cases.data import declassify_public_words, default_dictionary_paths
        declassify_public_words(default_dictionary_paths(Path(__file__).resolve().parents[2]))
    if REDACTOR.secrets():
        # The log was redacted when written; a secret this process knows of that an older writer
        # did not (or a record written by another tool) is masked in every report all the same.
        model = ReportModel.from_dict(REDACTOR.redact_obj(model.to_dict()), run_dir=str(run_dir))
    return model


_PLACES_MAX = 1 << 20  # a places file is a few hundred bytes per unit


def read_places(run_dir: str | Path, warnings: list[str]) -> dict[str, dict[str, Any]]:
    """Which labgrid place served each unit, from ``<run>/farm/places.json`` (none on a local bench).

    Optional and read leniently: a file that is missing gives nothing, one that cannot be read or
    is not what ``harness run --place`` writes gives a warning and nothing (the verdicts do not
    depend on it). A password in a power switch's URL is masked."""
    path = Path(run_dir) / "farm" / "places.json"
    if not path.is_file():
        return {}
    why = ""
    data: Any = None
    try:
        if path.stat().st_size > _PLACES_MAX:
            why = f"larger than {_PLACES_MAX} bytes"
        else:
            data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError, RecursionError) as exc:
        why = type(exc).__name__
    if not why and not isinstance(data, dict):
        why = "not a mapping of units"
    if why:
        warnings.append(f"farm/places.json could not be read ({why}): the places that served the units are not shown")
        return {}
    out: dict[str, dict[str, Any]] = {}
    skipped = []
    for unit, entry in data.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("place"), str):
            skipped.append(str(unit))
            continue
        kept: dict[str, Any] = {k: str(entry[k]) for k in ("place", "reservation", "console", "address")
                                if isinstance(entry.get(k), str | int | float) and not isinstance(entry.get(k), bool)}
        power = entry.get("power")
        if isinstance(power, dict):
            kept["power"] = {str(k): _masked_url(str(v)) for k, v in power.items()
                             if k in ("model", "host", "index") and not isinstance(v, dict | list)}
        resources = entry.get("resources")
        if isinstance(resources, list):
            kept["resources"] = [str(r.get("class")) for r in resources if isinstance(r, dict) and r.get("class")]
        out[str(unit)] = kept
    if skipped:
        warnings.append(f"farm/places.json: no place recorded for unit(s) {', '.join(skipped)}; ignored")
    return dict(sorted(out.items(), key=lambda kv: _unit_key(kv[0])))


def _masked_url(text: str) -> str:
    """http://user:password@pdu/… → http://user:***@pdu/…"""
    from urllib.parse import urlsplit
    if "//" not in text or "@" not in text:
        return text
    try:
        password = urlsplit(text).password
    except ValueError:
        return text
    return text.replace(f":{password}@", ":***@", 1) if password else text


def _natural(text: str) -> list[tuple[int, int | str]]:
    return natural_key(text)


def _unit_key(unit: str | None) -> tuple[int, list[tuple[int, int | str]]]:
    if unit is None:
        return (0, [])
    if unit == "*":
        return (2, [])
    return (1, _natural(unit))


def dumps(model: ReportModel) -> str:
    """The canonical JSON text of a model (sorted keys, stable across builds of one log)."""
    return json.dumps(model.to_dict(), sort_keys=True, indent=2, ensure_ascii=False, default=repr) + "\n"
