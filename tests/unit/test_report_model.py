from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from harness.report import EXIT_FAIL, EXIT_INCONCLUSIVE, EXIT_OK, exit_code, summary_lines
from harness.report.model import (
    NOT_ASSESSED,
    OTHER_GROUP,
    PSTI_CANNOT_YET,
    PSTI_DOES_NOT_SUPPORT,
    PSTI_NO_ROUTE,
    PSTI_SUPPORTS,
    build_report_model,
)
from harness.results import ResultsLog

try:
    from test_report_support import fake_catalogue, record, session, write_full_run, write_run
except ImportError:  # tests/unit became a package
    from tests.unit.test_report_support import fake_catalogue, record, session, write_full_run, write_run


@pytest.fixture()
def full(tmp_path: Path):
    return build_report_model(write_full_run(tmp_path / "run"), fake_catalogue())


def verdicts(model) -> dict[str, str]:
    return {p.id: p.verdict for p in model.provisions}


def test_provision_verdicts_aggregate_worst_latest(full):
    assert verdicts(full) == {
        "5.1-1": "PASS",
        "5.1-2": "NOT_APPLICABLE",
        "5.2-1": "PASS",
        "5.3-13": "PENDING_REVIEW",
        "5.5-2": "FAIL",
        "5.6-1": NOT_ASSESSED,
        "5.13-1": NOT_ASSESSED,
        "9.9-1": "PASS",
    }


def test_rerun_supersedes_inconclusive(full):
    case = next(c for c in full.cases if c.test_case == "5.2-1-2" and c.unit == "U1")
    assert case.verdict == "PASS"
    assert case.runner == "robot"
    assert [s.verdict for s in case.superseded] == ["INCONCLUSIVE"]
    assert full.run.record_counts["superseded"] == 1
    assert full.run.record_counts["latest"] == len(full.cases) == 14


def test_not_assessed_when_no_record_or_unit_missing(full):
    p = full.provision("5.13-1")
    assert p.verdict == NOT_ASSESSED and p.results == []
    assert "no record" in p.reasons[0]
    p = full.provision("5.6-1")
    assert p.missing == ["5.6-1-2 [U2]"]
    assert any("5.6-1-2 [U2]" in r for r in p.reasons)


def test_worst_wins_within_a_provision(tmp_path):
    run = write_run(tmp_path, [
        record("5.6-1-1", "PASS"),
        record("5.6-1-2", "INCONCLUSIVE", unit="U1"),
        record("5.6-1-2", "FAIL", "telnet open", unit="U2"),
    ])
    model = build_report_model(run, fake_catalogue())
    assert model.provision("5.6-1").verdict == "FAIL"
    assert model.provision("5.6-1").reasons == ["5.6-1-2 [U2]: telnet open"]


def test_missing_case_does_not_mask_a_fail(tmp_path):
    run = write_run(tmp_path, [record("5.6-1-2", "FAIL", unit="U1"), record("5.6-1-2", "PASS", unit="U2")])
    p = build_report_model(run, fake_catalogue()).provision("5.6-1")
    assert p.verdict == "FAIL" and p.missing == ["5.6-1-1 [any unit]"]


def test_run_metadata_merged_from_sessions(full, tmp_path):
    run = full.run
    assert run.run_id == "run-42"
    assert run.product["model"] == "Cam X" and run.product["firmware"] == "1.2.3"
    assert run.profile_sha256 == "ab" * 32 and run.profile_path == "device_profiles/acme.yaml"
    assert run.lab["name"] == "bench-1"
    assert run.units == ["U1", "U2"]
    assert set(run.runners) == {"pytest", "robot"}
    assert run.first_time == "2026-05-09T10:00:00.000+00:00"
    assert run.last_time == "2026-05-09T10:08:30.000+00:00"
    assert run.record_counts["sessions"] == 2 and run.record_counts["segments"] == 2
    assert run.record_counts["torn_segments"] == 1
    assert any("torn" in w for w in run.warnings)
    segs = sorted((tmp_path / "run" / "results").glob("segment-*.jsonl"))
    assert run.results_sha256 == hashlib.sha256(b"".join(s.read_bytes() for s in segs)).hexdigest()


def test_applicability_from_session(full):
    assert full.provision("5.1-2").applicability == "not applicable"
    assert full.provision("5.1-2").applicability_reason == "no pre-installed passwords"
    assert full.provision("5.1-1").applicability == "applicable"
    assert full.provision("9.9-1").applicability == "unknown"


def test_unknown_provision_in_other_group(full):
    p = full.provision("9.9-1")
    assert p.group == OTHER_GROUP and not p.known and p.mandatory is None
    assert list(full.clauses)[-1] == OTHER_GROUP


def test_counts(full):
    assert full.counts == {"FAIL": 1, "INCONCLUSIVE": 0, "PENDING_REVIEW": 1, NOT_ASSESSED: 2, "PASS": 3,
                           "NOT_APPLICABLE": 1}
    assert sum(full.case_counts.values()) == len(full.cases)


def test_empty_log(tmp_path):
    model = build_report_model(tmp_path, fake_catalogue())
    assert model.cases == []
    assert all(p.verdict == NOT_ASSESSED for p in model.provisions)
    assert model.run.results_sha256 == hashlib.sha256(b"").hexdigest()
    assert any("no session record" in w for w in model.run.warnings)
    assert exit_code(model) == EXIT_INCONCLUSIVE  # nothing judged is never a clean run
    assert [r.outcome for r in model.psti] == [PSTI_CANNOT_YET, PSTI_CANNOT_YET, PSTI_NO_ROUTE]


def test_run_killed_before_any_session(tmp_path):
    log = ResultsLog(tmp_path)
    log.write(record("5.1-1-2", "FAIL", unit="U1"))
    with open(log.path, "a") as fh:
        fh.write('{"record": "session", "run_id"')
    model = build_report_model(tmp_path, fake_catalogue())
    assert model.provision("5.1-1").verdict == "FAIL"
    assert model.provision("5.1-1").applicability == "unknown"
    assert exit_code(model) == EXIT_FAIL


def test_without_catalogue_groups_by_clause(tmp_path):
    run = write_full_run(tmp_path)
    model = build_report_model(run, catalogue=None)
    # harness.standard may or may not be there; either way every record is shown.
    assert {c.test_case for c in model.cases} >= {"5.1-1-1", "9.9-1-1"}
    if not model.run.catalogue:
        assert model.provision("5.1-1").group == "5.1"
        assert model.psti == []
        assert exit_code(model) == EXIT_FAIL  # 5.5-2 FAIL: status unknown without a catalogue


def test_unknown_verdict_word_is_inconclusive(tmp_path):
    log = ResultsLog(tmp_path)
    session(log)
    d = record("5.6-1-1", "PASS").to_dict()
    d["verdict"] = "MAYBE"
    log._append(d)
    model = build_report_model(tmp_path, fake_catalogue())
    assert model.cases[0].verdict == "INCONCLUSIVE"
    assert any("MAYBE" in w for w in model.run.warnings)


# --- PSTI -------------------------------------------------------------------------------------

def psti(model, n):
    return next(r for r in model.psti if r.number == n)


def test_psti_full_run(full):
    r1, r2, r3 = psti(full, 1), psti(full, 2), psti(full, 3)
    assert r1.outcome == PSTI_SUPPORTS and r1.statement.startswith("supports deemed compliance")
    assert "5.1-2" in r1.statement  # judged not applicable
    assert r2.outcome == PSTI_SUPPORTS
    assert r3.outcome == PSTI_NO_ROUTE
    assert "no deemed-compliance route" in r3.statement and "5.3-13" in r3.statement
    assert r3.verdicts == {"5.3-13": "PENDING_REVIEW"}


def test_psti_fail(tmp_path):
    run = write_run(tmp_path, [
        record("5.1-1-1", "PASS"), record("5.1-1-2", "FAIL", "admin/admin accepted", unit="U1"),
        record("5.1-1-2", "PASS", unit="U2"),
        record("5.2-1-1", "PASS"), record("5.2-1-2", "FAIL", "no contact", unit="U1"),
        record("5.2-1-2", "FAIL", unit="U2"),
        record("5.3-13-1", "FAIL"), record("5.3-13-2", "FAIL", unit="U1"), record("5.3-13-2", "FAIL", unit="U2"),
    ])
    model = build_report_model(run, fake_catalogue())
    assert psti(model, 1).outcome == PSTI_DOES_NOT_SUPPORT
    assert psti(model, 1).statement.startswith("does not support deemed compliance")
    assert psti(model, 2).outcome == PSTI_DOES_NOT_SUPPORT
    assert psti(model, 3).outcome == PSTI_NO_ROUTE and "5.3-13 FAIL" in psti(model, 3).statement


def test_psti_incomplete(tmp_path):
    run = write_run(tmp_path, [
        record("5.1-1-1", "PASS"), record("5.1-1-2", "INCONCLUSIVE", unit="U1"),
        record("5.1-1-2", "PASS", unit="U2"),
        record("5.2-1-1", "PASS"),  # 5.2-1-2 never ran
    ])
    model = build_report_model(run, fake_catalogue())
    r1, r2, r3 = psti(model, 1), psti(model, 2), psti(model, 3)
    assert r1.outcome == PSTI_CANNOT_YET and "5.1-1 is INCONCLUSIVE" in r1.statement
    assert r1.statement.startswith("cannot yet support")
    assert r2.outcome == PSTI_CANNOT_YET and "5.2-1 is NOT_ASSESSED" in r2.statement
    assert r3.outcome == PSTI_NO_ROUTE and "NOT_ASSESSED" in r3.statement


def test_psti_all_not_applicable_needs_assessor(tmp_path):
    app = {"5.1-1": {"applicable": False, "reason": "no passwords"},
           "5.1-2": {"applicable": False, "reason": "no passwords"}}
    run = write_run(tmp_path, [record("5.1-1-1", "NOT_APPLICABLE"), record("5.1-2-1", "NOT_APPLICABLE")],
                    applicability=app)
    r1 = psti(build_report_model(run, fake_catalogue()), 1)
    assert r1.outcome == PSTI_CANNOT_YET and "not applicable" in r1.statement


# --- exit codes ---------------------------------------------------------------------------------

def test_exit_code_full_run_recommendation_fail_is_zero(full):
    assert full.provision("5.5-2").verdict == "FAIL"
    assert exit_code(full) == EXIT_OK


def test_exit_code_mandatory_fail(tmp_path):
    run = write_run(tmp_path, [record("5.6-1-2", "FAIL", unit="U1"), record("5.2-1-2", "INCONCLUSIVE", unit="U1")])
    assert exit_code(build_report_model(run, fake_catalogue())) == EXIT_FAIL


def test_exit_code_mandatory_inconclusive(tmp_path):
    run = write_run(tmp_path, [record("5.5-2-1", "FAIL"), record("5.2-1-2", "INCONCLUSIVE", unit="U1")])
    assert exit_code(build_report_model(run, fake_catalogue())) == EXIT_INCONCLUSIVE


def test_exit_code_not_applicable_provision_does_not_gate(tmp_path):
    run = write_run(tmp_path, [record("5.1-2-1", "FAIL")])  # profile: 5.1-2 not applicable
    assert exit_code(build_report_model(run, fake_catalogue())) == EXIT_OK


def test_summary_lines(full, tmp_path):
    lines = summary_lines(full)
    assert lines[0].startswith("EN 303 645 conformance of Acme Cam X (firmware 1.2.3)")
    assert any(line.split()[:1] == ["5.5-2"] and "FAIL" in line for line in lines)
    assert sum(1 for line in lines if line.startswith("  ")) == len(full.provisions)
    assert any(line.startswith("Provisions: 1 FAIL") for line in lines)
    assert any(line.startswith("Exit code 0") for line in lines)
    assert lines[-1] == f"Report: {tmp_path / 'run' / 'conformance.html'}"


def test_real_catalogue_if_present(tmp_path):
    standard = pytest.importorskip("harness.standard")
    if not hasattr(standard, "load_catalogue"):
        pytest.skip("harness.standard has no load_catalogue yet")
    cat = standard.load_catalogue("v2.1.1")
    model = build_report_model(write_full_run(tmp_path), cat)
    assert len([p for p in model.provisions if p.known]) == len(cat.provisions)
    assert model.provision("5.1-1").status == "MC"
    assert model.provision("5.2-1").mandatory is True
    assert {r.number for r in model.psti} == {1, 2, 3}
    assert psti(model, 3).outcome == PSTI_NO_ROUTE
    assert psti(model, 2).outcome in (PSTI_SUPPORTS, PSTI_CANNOT_YET)
    assert model.provision("9.9-1").group == OTHER_GROUP


def test_torn_line_inside_a_multibyte_character(tmp_path):
    run = write_run(tmp_path, [record("5.6-1-1", "PASS", "caf\u00e9")])
    seg = next((run / "results").glob("segment-*.jsonl"))
    with open(seg, "ab") as fh:
        fh.write('{"record": "test_case", "reason": "caf\u00e9'.encode()[:-1])
    model = build_report_model(run, fake_catalogue())
    assert [c.reason for c in model.cases] == ["caf\u00e9"]
    assert model.run.record_counts["torn_segments"] == 1


def test_a_public_default_password_does_not_mask_the_report(tmp_path, monkeypatch):
    """A legacy unit's label password "admin" is a lab secret to the redactor, yet a public default:
    the report must not turn "admin-api" into "«redacted»-api"; a real secret stays masked."""
    from harness.redact import MASK, REDACTOR, Redactor
    fresh = Redactor()
    monkeypatch.setattr(REDACTOR, "__dict__", fresh.__dict__)
    log = ResultsLog(tmp_path)  # written by a suite process (which knew "admin" is public)
    session(log)
    log.write(record("5.6-1-1", "FAIL", reason="IXIT 15-Intf admin-api: enabled; token Xq7-secret-token"))
    REDACTOR.add("admin", "label password")  # the reporting process knows the lab's secrets
    REDACTOR.add("Xq7-secret-token", "token")
    model = build_report_model(tmp_path, fake_catalogue())
    reason = model.cases[0].reason
    assert "admin-api" in reason and "Xq7-secret-token" not in reason and MASK in reason
