"""The append-only results log of a run.

Layout of a run directory::

    <run>/results/segment-<host>-<pid>-<n>.jsonl   one file per writer process (pytest, each
                                                     xdist worker, Robot, each pabot process)
    <run>/attachments/<record id>/<file>           transcripts and other evidence files
    <run>/observations/<unit>.jsonl                per-unit facts that cross-unit checks read

Each writer appends one JSON line per finished test case and fsyncs it, so a run killed with
SIGKILL keeps every record that was complete. Readers merge all segments; a half-written last
line (killed mid-write) is skipped, not fatal. Every line is redacted before it is written.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import socket
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
    runner: str = "pytest"
    name: str = ""  # runner's id: pytest nodeid or Robot long name
    started: str = ""
    finished: str = ""
    duration_s: float = 0.0
    run_id: str = ""
    profile: dict[str, Any] = field(default_factory=dict)
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
        (self.run_dir / "results").mkdir(parents=True, exist_ok=True)
        (self.run_dir / "attachments").mkdir(parents=True, exist_ok=True)
        name = f"segment-{writer}-{socket.gethostname()}-{os.getpid()}-{next(_counter)}-{uuid.uuid4().hex[:6]}.jsonl"
        self.path = self.run_dir / "results" / name

    def _append(self, obj: dict[str, Any]) -> None:
        line = json.dumps(obj, default=_json_default, ensure_ascii=False)
        line = self.redactor.redact(line) + "\n"
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)

    def write_session(self, **meta: Any) -> None:
        self._append({"record": "session", "schema": SCHEMA, "harness_version": __version__,
                      "host": socket.gethostname(), "pid": os.getpid(), "time": now_iso(), **meta})

    def write(self, record: TestCaseRecord) -> None:
        self._append(record.to_dict())

    def attach(self, record_id: str, name: str, content: str | bytes, mime: str = "text/plain") -> Attachment:
        """Write an evidence file (redacted) and return its reference for the record."""
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)
        folder = self.run_dir / "attachments" / record_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / safe
        if isinstance(content, str):
            data = self.redactor.redact(content).encode("utf-8")
        else:
            data = self.redactor.redact_bytes(content) if mime.startswith("text/") else content
        with open(path, "wb") as fh:
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


def latest_by_case(run_dir: str | Path) -> dict[tuple[str, str | None], dict[str, Any]]:
    """The newest record per (test case, unit): a rerun supersedes the earlier verdict."""
    latest: dict[tuple[str, str | None], dict[str, Any]] = {}
    for rec in sorted(case_records(run_dir), key=lambda r: r.get("finished", "")):
        latest[(rec["test_case"], rec.get("unit"))] = rec
    return latest


class Observations:
    """Per-unit facts written by one process and read by cross-unit checks in another.

    Values here never hold secrets: a label password is recorded by its reference name and
    whether the device accepted it, and the cross-unit check resolves the value itself.
    """

    def __init__(self, run_dir: str | Path) -> None:
        self.folder = Path(run_dir) / "observations"

    def record(self, unit: str, key: str, value: Any) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"unit": unit, "key": key, "value": value, "time": now_iso()},
                          default=_json_default)
        line = REDACTOR.redact(line) + "\n"
        fd = os.open(self.folder / f"{unit}.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
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
