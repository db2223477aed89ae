"""The append-only results log of a run.

Layout of a run directory::

    <run>/results/segment-<host>-<pid>-<n>.jsonl   one file per writer process (pytest, each
                                                     xdist worker, Robot, each pabot process)
    <run>/attachments/<record id>/<file>           transcripts and other evidence files
    <run>/observations/<unit>.jsonl                per-unit facts that cross-unit checks read

Each writer appends one JSON line per finished test case and fsyncs it, so a run killed with
SIGKILL keeps every record that was complete. Other lines: ``session`` (one per writer: profile,
lab, applicability), ``plan`` (the test cases a writer is about to run) and ``decision`` (an
assessor's decision, appended by ``harness assess`` to a segment of its own; see
docs/assessment.md). Readers merge all segments; a half-written last
line (killed mid-write) is skipped, not fatal; an unreadable line in the middle of a segment is
reported by the report model (``corrupt_lines``), never silently dropped. Every value is redacted
before it is serialised, and the line again after.

Permissions: a run directory holds transcripts and evidence of a device under test, so one policy
holds for all of it: files 0600, folders 0700 (owner only; a second lab engineer reads a run
through the account that ran it, or a copy). Every writer of the harness creates its files and
folders that way (``private_dir``, ``FILE_MODE``), and ``secure_run_dir`` applies the policy to
what other programs wrote into the run directory (allure-pytest's results, Allure's rendered
report); ``build_reports`` runs it after every report build.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import socket
import stat
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.redact import REDACTOR, Redactor
from harness.verdict import CheckResult, Evidence, Verdict

SCHEMA = 1
_counter = itertools.count()
FILE_MODE = 0o600
DIR_MODE = 0o700


def private_dir(path: str | Path) -> Path:
    """Create ``path`` (and missing parents) owner-only, and tighten it if it already existed."""
    path = Path(path)
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    try:
        os.chmod(path, DIR_MODE)
    except OSError:
        pass  # not ours (a shared parent such as /tmp): its own mode stands
    return path


def secure_run_dir(run_dir: str | Path) -> None:
    """Apply the run directory's permission policy to everything under ``run_dir``.

    Symbolic links are neither followed nor changed. An owner-executable file keeps its x bit."""
    root = Path(run_dir)
    if not root.is_dir() or root.is_symlink():
        return
    for folder, _dirs, files in os.walk(root, followlinks=False):
        _chmod(Path(folder), DIR_MODE)
        for name in files:
            path = Path(folder) / name
            try:
                st = path.lstat()
            except OSError:
                continue
            if stat.S_ISREG(st.st_mode):
                _chmod(path, FILE_MODE | (st.st_mode & stat.S_IXUSR))


def _chmod(path: Path, mode: int) -> None:
    try:
        if stat.S_IMODE(path.lstat().st_mode) != mode:
            os.chmod(path, mode, follow_symlinks=False)
    except (OSError, NotImplementedError):
        pass  # a file that vanished or is not ours: the next build tries again


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def sha256_file(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 16), b""):
            h.update(chunk)
    return h.hexdigest()


@dataclass
class Attachment:
    name: str
    path: str  # relative to the run directory
    sha256: str
    mime: str = "text/plain"


@dataclass
class TestCaseRecord:
    __test__ = False  # not a pytest test class

    test_case: str  # TS 103 701 id, e.g. "5.1-1-2"
    provision: str  # EN 303 645 id, e.g. "5.1-1"
    verdict: Verdict
    reason: str
    unit: str | None = None  # None: a profile-level (conceptual) case; "*": across all units
    title: str = ""
    evidence: list[Evidence] = field(default_factory=list)
    attachments: list[Attachment] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    runner: str = "pytest"  # which runner wrote it: "pytest" or "robot"
    name: str = ""  # runner's id: pytest nodeid or Robot full name
    started: str = ""
    finished: str = ""
    duration_s: float = 0.0
    run_id: str = ""
    profile: dict[str, Any] = field(default_factory=dict)
    unit_state: dict[str, Any] = field(default_factory=dict)  # firmware and state read when the case started
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @classmethod
    def from_check(cls, test_case: str, provision: str, result: CheckResult, **kw: Any) -> TestCaseRecord:
        return cls(test_case=test_case, provision=provision, verdict=result.verdict,
                   reason=result.reason, evidence=list(result.evidence), **kw)

    def to_dict(self) -> dict[str, Any]:
        return {
            "record": "test_case",
            "schema": SCHEMA,
            "id": self.id,
            "run_id": self.run_id,
            "test_case": self.test_case,
            "provision": self.provision,
            "title": self.title,
            "unit": self.unit,
            "verdict": Verdict(self.verdict).value,
            "reason": self.reason,
            "evidence": [e.to_dict() for e in self.evidence],
            "attachments": [a.__dict__ for a in self.attachments],
            "measurements": self.measurements,
            "runner": self.runner,
            "name": self.name,
            "started": self.started,
            "finished": self.finished,
            "duration_s": round(self.duration_s, 3),
            "profile": self.profile,
            "unit_state": self.unit_state,
            "harness_version": __version__,
            "host": socket.gethostname(),
            "pid": os.getpid(),
        }


def _json_default(obj: Any) -> Any:
    if isinstance(obj, Verdict):
        return obj.value
    if isinstance(obj, Path):
        return str(obj)
    if hasattr(obj, "isoformat"):
        return obj.isoformat()
    if isinstance(obj, (set, frozenset)):
        return sorted(obj)
    return repr(obj)


class ResultsLog:
    """Writer for this process's segment of a run's results log."""

    def __init__(self, run_dir: str | Path, redactor: Redactor = REDACTOR, writer: str = "pytest") -> None:
        self.run_dir = Path(run_dir)
        self.redactor = redactor
        private_dir(self.run_dir)
        private_dir(self.run_dir / "results")
        private_dir(self.run_dir / "attachments")
        name = f"segment-{writer}-{socket.gethostname()}-{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:6]}.jsonl"
        self.path = self.run_dir / "results" / name

    def _append(self, obj: dict[str, Any]) -> None:
        # Values first: once serialised, a secret holding a quote or a backslash reads escaped.
        obj = self.redactor.redact_obj(obj)
        line = json.dumps(obj, default=_json_default, ensure_ascii=False)
        line = self.redactor.redact(line) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def write_session(self, **meta: Any) -> None:
        self._append({"record": "session", "schema": SCHEMA, "harness_version": __version__,
                      "host": socket.gethostname(), "pid": os.getpid(), "time": now_iso(), **meta})

    def write_plan(self, runner: str, cases: list[dict[str, Any]]) -> None:
        """The test cases this writer is about to run (id, unit, name): one that ends up without a
        record is reported as unjudged instead of disappearing from the report."""
        self._append({"record": "plan", "schema": SCHEMA, "runner": runner, "time": now_iso(),
                      "pid": os.getpid(), "cases": cases})

    def write(self, record: TestCaseRecord) -> None:
        self._append(record.to_dict())

    def write_decision(self, decision: dict[str, Any]) -> None:
        """An assessor's decision (``harness.assess.decisions``): appended like every record; the
        report model applies it to the test case it names."""
        self._append({"record": "decision", "schema": SCHEMA, "harness_version": __version__,
                      "host": socket.gethostname(), "pid": os.getpid(), **decision})

    def attach(self, record_id: str, name: str, content: str | bytes, mime: str = "text/plain") -> Attachment:
        """Write an evidence file (redacted) and return its reference for the record."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        folder = private_dir(self.run_dir / "attachments" / record_id)
        path = folder / safe
        if isinstance(content, str):
            data = self.redactor.redact(content).encode("utf-8")
        else:
            data = self.redactor.redact_bytes(content) if mime.startswith("text/") else content
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
        os.fchmod(fd, FILE_MODE)  # an earlier file of the same name may have been wider
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        return Attachment(name=name, path=str(path.relative_to(self.run_dir)),
                          sha256=hashlib.sha256(data).hexdigest(), mime=mime)


def read_records(run_dir: str | Path) -> Iterator[dict[str, Any]]:
    """Every complete record of every segment, in segment-file then line order."""
    folder = Path(run_dir) / "results"
    if not folder.is_dir():
        return
    for seg in sorted(folder.glob("segment-*.jsonl")):
        with open(seg, encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.endswith("\n"):
                    break  # torn last line of a killed writer
                try:
                    yield json.loads(line)
                except json.JSONDecodeError:
                    continue


def case_records(run_dir: str | Path) -> list[dict[str, Any]]:
    return [r for r in read_records(run_dir) if r.get("record") == "test_case"]


def decision_records(run_dir: str | Path) -> list[dict[str, Any]]:
    """The assessor decisions appended to a run, oldest first."""
    return sorted((r for r in read_records(run_dir) if r.get("record") == "decision"),
                  key=lambda r: str(r.get("recorded", "")))


def latest_by_case(run_dir: str | Path) -> dict[tuple[str, str | None], dict[str, Any]]:
    """The record that stands per (test case, unit), by the rule of ``reconcile``."""
    history: dict[tuple[str, str | None], list[dict[str, Any]]] = {}
    for rec in case_records(run_dir):
        history.setdefault((rec["test_case"], rec.get("unit")), []).append(rec)
    return {key: reconcile(recs)[0] for key, recs in history.items()}


def latest_by_runner(run_dir: str | Path) -> dict[tuple[str, str | None, str], dict[str, Any]]:
    """The newest record per (test case, unit, runner): what each runner last said."""
    latest: dict[tuple[str, str | None, str], dict[str, Any]] = {}
    for rec in sorted(case_records(run_dir), key=lambda r: str(r.get("finished", ""))):
        latest[(rec["test_case"], rec.get("unit"), str(rec.get("runner") or ""))] = rec
    return latest


def reconcile(records: list[dict[str, Any]]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The record that stands for one (test case, unit), and the records it replaces.

    Within one runner the newest record wins: a rerun supersedes the earlier verdict. When more
    than one runner (pytest, robot) judged the same test case on the same unit, their newest
    records must agree; then the newest of them stands and the verdict is counted once. If they
    disagree, the device or the bench behaved differently between the two runs (both runners call
    the same code), so neither verdict is trusted: a derived INCONCLUSIVE record stands instead,
    naming each runner's verdict and reason and keeping their evidence and attachments.
    """
    if not records:
        raise ValueError("reconcile() needs at least one record")
    ordered = sorted(records, key=lambda r: str(r.get("finished", "")))
    newest: dict[str, dict[str, Any]] = {}
    for rec in ordered:
        newest[str(rec.get("runner") or "")] = rec
    finals = list(newest.values())
    # A runner whose newest record is INCONCLUSIVE did not judge the device (a lab fault): it
    # neither confirms nor contradicts another runner's decided verdict.
    decided = [r for r in finals if r.get("verdict") != "INCONCLUSIVE"] or finals
    if len({str(r.get("verdict")) for r in decided}) <= 1:
        stands = max(decided, key=lambda r: str(r.get("finished", "")))
        return stands, [r for r in ordered if r is not stands]
    return _disagreement(decided), ordered


def _disagreement(finals: list[dict[str, Any]]) -> dict[str, Any]:
    finals = sorted(finals, key=lambda r: str(r.get("runner") or ""))
    last = max(finals, key=lambda r: str(r.get("finished", "")))
    said = "; ".join(f"{r.get('runner') or '?'} {r.get('verdict')} ({str(r.get('reason', ''))[:300]})" for r in finals)
    table = [{"runner": r.get("runner"), "verdict": r.get("verdict"), "reason": r.get("reason"),
              "name": r.get("name"), "record": r.get("id")} for r in finals]
    evidence: list[Any] = [Evidence("table", "verdict of each runner", table).to_dict()]
    for r in finals:
        for e in r.get("evidence") or []:
            if isinstance(e, dict):
                evidence.append({**e, "name": f"[{r.get('runner')}] {e.get('name', '')}"})
    ids = "+".join(str(r.get("id", "")) for r in finals)
    return {
        "record": "test_case",
        "schema": SCHEMA,
        # Derived from the records it reconciles, so rebuilding a report gives the same id.
        "id": hashlib.sha256(ids.encode()).hexdigest()[:32],
        "run_id": last.get("run_id", ""),
        "test_case": last["test_case"],
        "provision": last.get("provision", ""),
        "title": last.get("title", ""),
        "unit": last.get("unit"),
        "verdict": Verdict.INCONCLUSIVE.value,
        "reason": f"the runners disagree: {said}",
        "evidence": evidence,
        "attachments": [a for r in finals for a in (r.get("attachments") or [])],
        "measurements": {},
        "runner": "+".join(str(r.get("runner") or "?") for r in finals),
        "name": " | ".join(str(r.get("name", "")) for r in finals),
        "started": min(str(r.get("started", "")) for r in finals),
        "finished": str(last.get("finished", "")),
        "duration_s": round(sum(float(r.get("duration_s") or 0.0) for r in finals), 3),
        "profile": last.get("profile", {}),
        "harness_version": last.get("harness_version", ""),
        "derived_from": [r.get("id") for r in finals],
    }


class Observations:
    """Per-unit facts written by one process and read by cross-unit checks in another.

    Values here never hold secrets: a label password is recorded by its reference name and
    whether the device accepted it, and the cross-unit check resolves the value itself.
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.folder = Path(run_dir) / "observations"

    def record(self, unit: str, key: str, value: Any) -> None:
        private_dir(self.folder)
        obj = REDACTOR.redact_obj({"unit": unit, "key": key, "value": value, "time": now_iso()})
        line = json.dumps(obj, default=_json_default)
        line = REDACTOR.redact(line) + "\n"
        fd = os.open(self.folder / f"{unit}.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, FILE_MODE)
        try:
            os.write(fd, line.encode())
            os.fsync(fd)
        finally:
            os.close(fd)

    def read(self) -> dict[str, dict[str, Any]]:
        out: dict[str, dict[str, Any]] = {}
        if not self.folder.is_dir():
            return out
        for path in sorted(self.folder.glob("*.jsonl")):
            with open(path, encoding="utf-8", errors="replace") as fh:
                for line in fh:
                    if not line.endswith("\n"):
                        break
                    try:
                        rec = json.loads(line)
                    except json.JSONDecodeError:
                        continue
                    out.setdefault(rec["unit"], {})[rec["key"]] = rec["value"]
        return out
