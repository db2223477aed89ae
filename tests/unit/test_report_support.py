"""Shared builders for the report tests: a small fake catalogue and synthetic run directories.

No tests here; the module is named test_report_* so that it stays in the report room.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.results import ResultsLog
from harness.results import TestCaseRecord as CaseRecord
from harness.verdict import Evidence, Verdict


@dataclass
class FakeProvision:
    id: str
    clause: str
    status: str
    conditions: tuple[int, ...] = ()
    summary: str = ""
    test_cases: list[str] = field(default_factory=list)
    psti: list[int] = field(default_factory=list)

    @property
    def mandatory(self) -> bool:
        return self.status in ("M", "MC")

    @property
    def conditional(self) -> bool:
        return self.status in ("MC", "RC")


@dataclass
class FakeTestCase:
    id: str
    provision: str
    kind: str
    units: int = 1
    ixit: list[str] = field(default_factory=list)
    automated: bool = True
    automated_by: str = ""


@dataclass
class FakePsti:
    number: int
    title: str
    provisions: list[str]
    deemed_compliance: bool
    note: str = ""


@dataclass
class FakeCatalogue:
    provisions: dict[str, FakeProvision]
    test_cases: dict[str, FakeTestCase]
    clauses: dict[str, str]
    psti: list[FakePsti]
    edition: str = "v2.1.1"


_PROVISIONS = [
    # id, status, conditions, test cases, psti
    ("5.1-1", "MC", (1,), ["5.1-1-1", "5.1-1-2"], [1]),
    ("5.1-2", "MC", (2,), ["5.1-2-1"], [1]),
    ("5.2-1", "M", (), ["5.2-1-1", "5.2-1-2"], [2]),
    ("5.3-13", "M", (), ["5.3-13-1", "5.3-13-2"], [3]),
    ("5.5-2", "R", (), ["5.5-2-1"], []),
    ("5.6-1", "M", (), ["5.6-1-1", "5.6-1-2"], []),
    ("5.13-1", "M", (), ["5.13-1-1", "5.13-1-2"], []),
]


def fake_catalogue() -> FakeCatalogue:
    provisions = {}
    test_cases = {}
    for pid, status, cond, tcs, psti in _PROVISIONS:
        provisions[pid] = FakeProvision(pid, pid.split("-")[0], status, cond, f"summary of {pid}", list(tcs), psti)
        for tc in tcs:
            test_cases[tc] = FakeTestCase(tc, pid, "conceptual" if tc.endswith("-1") else "functional")
    clauses = {"5.1": "No universal default passwords", "5.2": "Manage vulnerability reports",
               "5.3": "Keep software updated", "5.5": "Communicate securely",
               "5.6": "Minimize exposed attack surfaces", "5.13": "Validate input data"}
    psti = [
        FakePsti(1, "Passwords", ["5.1-1", "5.1-2"], True),
        FakePsti(2, "Information on how to report security issues", ["5.2-1"], True),
        FakePsti(3, "Information on minimum security update periods", ["5.3-13"], False,
                 note="no deemed-compliance route"),
    ]
    return FakeCatalogue(provisions, test_cases, clauses, psti)


APPLICABILITY = {
    "5.1-1": {"applicable": True, "reason": "passwords are used"},
    "5.1-2": {"applicable": False, "reason": "no pre-installed passwords"},
    "5.2-1": {"applicable": True, "reason": "mandatory"},
    "5.3-13": {"applicable": True, "reason": "mandatory"},
    "5.5-2": {"applicable": True, "reason": "recommendation"},
    "5.6-1": {"applicable": True, "reason": "mandatory"},
    "5.13-1": {"applicable": True, "reason": "mandatory"},
}

SCRIPT = "<script>alert('x')</script>"


def stamp(minute: int, second: int = 0) -> str:
    return f"2026-05-09T10:{minute:02d}:{second:02d}.000+00:00"


def session(log: ResultsLog, runner: str = "pytest", units: list[str] | None = None,
            applicability: dict[str, Any] | None = None, time: str | None = None) -> None:
    log.write_session(
        record="session", run_id="run-42", time=time or stamp(0),
        profile={"path": "device_profiles/acme.yaml", "sha256": "ab" * 32,
                 "product": {"manufacturer": "Acme", "model": "Cam X", "hardware": "rev B",
                             "firmware": "1.2.3"}, "schema_version": 1},
        lab={"name": "bench-1", "path": "bench/lab.yaml", "sha256": "cd" * 32},
        units=units if units is not None else ["U1", "U2"], runner=runner,
        argv=[runner, "test_suites"], applicability=applicability if applicability is not None else APPLICABILITY,
    )


def record(tc: str, verdict: Verdict | str, reason: str = "", unit: str | None = None, minute: int = 1,
           evidence: list[Evidence] | None = None, provision: str | None = None, **kw: Any) -> CaseRecord:
    return CaseRecord(
        test_case=tc, provision=provision or tc.rsplit("-", 1)[0], verdict=Verdict(verdict),
        reason=reason or f"{tc} {Verdict(verdict).value.lower()}", unit=unit, title=f"title of {tc}",
        evidence=evidence or [], started=stamp(minute), finished=stamp(minute, 30), duration_s=1.25,
        run_id="run-42", name=f"test_suites/test_x.py::test_{tc.replace('.', '_').replace('-', '_')}", **kw)


def write_run(run_dir: Path, records: list[CaseRecord], *, applicability: dict[str, Any] | None = None,
              units: list[str] | None = None) -> Path:
    """A one-writer run with the given records."""
    log = ResultsLog(run_dir, writer="pytest")
    session(log, applicability=applicability, units=units)
    for r in records:
        log.write(r)
    return run_dir


def write_full_run(run_dir: Path) -> Path:
    """Two writer processes, a rerun, evidence of every kind, an attachment and a torn last line.

    Expected provision verdicts (fake catalogue): 5.1-1 PASS, 5.1-2 NOT_APPLICABLE, 5.2-1 PASS (the
    rerun supersedes INCONCLUSIVE), 5.3-13 PENDING_REVIEW, 5.5-2 FAIL (a recommendation), 5.6-1
    NOT_ASSESSED (no record for U2), 5.13-1 NOT_ASSESSED (no record at all), 9.9-1 PASS (other).
    """
    a = ResultsLog(run_dir, writer="pytest")
    session(a)
    rec_att = record("5.6-1-2", "PASS", "only documented ports open", unit="U1", minute=6, evidence=[
        Evidence("table", "open ports", [{"port": 443, "service": "https"}, {"port": 8883, "service": "mqtts"}]),
    ])
    att = a.attach(rec_att.id, "nmap transcript.txt", "PORT 443/tcp open https\n" + SCRIPT)
    rec_att.attachments.append(att)
    rec_att.evidence.append(Evidence("attachment", "scan transcript", att.path))
    for r in [
        record("5.1-1-1", "PASS", "IXIT: per-device passwords", minute=1),
        record("5.1-1-2", "PASS", "U1 password unique", unit="U1", minute=1,
               evidence=[Evidence("finding", "banner", f"device said {SCRIPT}")]),
        record("5.1-1-2", "PASS", "U2 password unique", unit="U2", minute=2),
        record("5.1-2-1", "NOT_APPLICABLE", "no pre-installed passwords", minute=2),
        record("5.2-1-1", "PASS", "policy described in IXIT", minute=3),
        record("5.2-1-2", "INCONCLUSIVE", "HTTP server unreachable", unit="U1", minute=3),
        record("5.2-1-2", "PASS", "policy reachable without account", unit="U2", minute=3),
        record("5.3-13-1", "PASS", "support period in IXIT", minute=4),
        record("5.3-13-2", "PENDING_REVIEW", "assessor to confirm the end date", unit="U1", minute=4, evidence=[
            Evidence("document", "support page", {"url": "http://127.0.0.1:8080/support", "status": 200,
                                                  "title": "Support", "text": "Supported until 2030-12-31"}),
            Evidence("measurement", "fetch time", {"value": 0.25, "unit": "s"}),
            Evidence("observation", "server header", {"server": "lighttpd"}),
        ]),
        record("5.3-13-2", "PENDING_REVIEW", "assessor to confirm the end date", unit="U2", minute=4),
        record("5.5-2-1", "FAIL", "no evaluated implementation", minute=5,
               evidence=[Evidence("text", "note", "OpenSSL 0.9.8 found")]),
        record("5.6-1-1", "PASS", "interfaces documented", minute=6),
        rec_att,
        record("9.9-1-1", "PASS", "a provision the catalogue lacks", minute=7,
               evidence=[Evidence("weird-kind", "odd", {"nested": [1, 2, {"deep": SCRIPT}]})]),
    ]:
        a.write(r)

    b = ResultsLog(run_dir, writer="robot")
    session(b, runner="robot", time=stamp(0, 5))
    b.write(record("5.2-1-2", "PASS", "policy reachable without account", unit="U1", minute=8, runner="robot",
                   evidence=[Evidence("document", "policy", {"url": "http://127.0.0.1:8080/vdp", "status": 200,
                                                             "contact": "security@acme.example"})]))
    with open(b.path, "a", encoding="utf-8") as fh:  # killed mid-write
        fh.write('{"record": "test_case", "test_case": "5.13-1-1", "verdict": "FA')
    return run_dir
