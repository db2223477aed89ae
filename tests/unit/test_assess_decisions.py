"""Assessor decisions: the file's checks, and how the report model applies them (applied, stale,
rejected without `overrides:`, superseded), the provision state line and the PSTI statement."""

from __future__ import annotations

import hashlib
import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from test_report_support import fake_catalogue, record, write_run  # tests/unit is on sys.path

from harness.assess.decisions import DecisionsError, parse_decisions
from harness.report.json_report import read_json, write_json
from harness.report.junit import junit_text
from harness.report.model import build_report_model
from harness.results import ResultsLog
from harness.verdict import Evidence

SHA = "ab" * 32  # the profile sha256 the report support's session records name
FIRMWARE = "1.2.3"


def decision(tc: str, verdict: str = "PASS", **kw: Any) -> dict[str, Any]:
    return {"test_case": tc, "verdict": verdict, "rationale": kw.pop("rationale", f"read the IXIT for {tc}"), **kw}


def doc(*decisions: dict[str, Any], **top: Any) -> dict[str, Any]:
    return {"schema": "harness-decisions/1", "assessor": "A. Assessor", "date": "2026-12-06",
            "profile_sha256": SHA, "firmware": FIRMWARE, **top, "decisions": list(decisions)}


def append(run_dir: Path, *decisions: dict[str, Any], recorded: str = "2026-12-06T10:00:00.000+00:00",
           **top: Any) -> None:
    log = ResultsLog(run_dir, writer="assess")
    for d in parse_decisions(doc(*decisions, **top)):
        rec = d.to_record(source="test")
        rec["recorded"] = recorded
        log.write_decision(rec)


def pending(tc: str, question: str = "Is it so?", **kw: Any) -> Any:
    return record(tc, "PENDING_REVIEW", f"awaiting assessor: {question}",
                  evidence=[Evidence("question", "question", question)], **kw)


# --- the file ------------------------------------------------------------------------------------

def test_a_valid_file_gives_its_decisions_with_the_top_level_defaults() -> None:
    got = parse_decisions(doc(decision("5.1-1-1"), decision("5.1-1-2", "FAIL", unit="U1", assessor="B. Other",
                                                            overrides="PASS")))
    assert [(d.test_case, d.unit, d.verdict, d.assessor, d.overrides) for d in got] == [
        ("5.1-1-1", None, "PASS", "A. Assessor", ""), ("5.1-1-2", "U1", "FAIL", "B. Other", "PASS")]
    assert all(d.profile_sha256 == SHA and d.firmware == FIRMWARE and d.date == "2026-12-06" for d in got)


def test_every_problem_of_a_file_is_listed() -> None:
    bad = doc(decision("5.1-1-1", "MAYBE"), decision("5.1-1-1", rationale=""), decision("9.9-9-9"),
              {"verdict": "PASS", "rationale": "x"}, decision("5.2-1-1", overrides="PENDING"),
              decision("5.2-1-2", colour="red"), profile_sha256="12345")
    with pytest.raises(DecisionsError) as err:
        parse_decisions(bad, test_cases=["5.1-1-1", "5.2-1-1", "5.2-1-2"])
    text = "\n".join(err.value.issues)
    for needle in ("verdict must be one of PASS, FAIL, NOT_APPLICABLE", "needs a rationale",
                   "9.9-9-9 is not a test case of the catalogue", "needs test_case",
                   "overrides must name the recorded verdict", "unknown key(s) ['colour']",
                   "profile_sha256 must be 64 hex digits", "a second decision for 5.1-1-1"):
        assert needle in text, needle


def test_evidence_files_are_hashed_and_a_changed_one_is_refused(tmp_path: Path) -> None:
    manual = tmp_path / "manual.txt"
    manual.write_text("the user manual")
    digest = hashlib.sha256(b"the user manual").hexdigest()
    got = parse_decisions(doc(decision("5.1-1-1", evidence=["manual.txt", {"ref": "https://x.example/doc",
                                                                            "sha256": "0" * 64}])), base=tmp_path)
    assert [(e.ref, e.sha256) for e in got[0].evidence] == [("manual.txt", digest), ("https://x.example/doc", "0" * 64)]
    with pytest.raises(DecisionsError, match="the evidence changed since the decision was made"):
        parse_decisions(doc(decision("5.1-1-1", evidence=[{"ref": "manual.txt", "sha256": "1" * 64}])), base=tmp_path)
    with pytest.raises(DecisionsError, match="give the sha256 of what was read"):
        parse_decisions(doc(decision("5.1-1-1", evidence=["https://x.example/doc"])), base=tmp_path)


# --- applying them ---------------------------------------------------------------------------------

def test_a_decision_turns_a_pending_item_into_its_verdict_and_says_who(tmp_path: Path) -> None:
    write_run(tmp_path, [pending("5.1-1-1"), record("5.1-1-2", "PASS", unit="U1"), record("5.1-1-2", "PASS", unit="U2")])
    model = build_report_model(tmp_path, fake_catalogue())
    p = model.provision("5.1-1")
    assert p.verdict == "PENDING_REVIEW" and p.state == "automated PASS; awaiting assessor: 5.1-1-1"
    assert p.awaiting == ["5.1-1-1"] and p.automated == "PASS"
    assert "5.1-1 is PENDING_REVIEW (automated PASS; awaiting assessor: 5.1-1-1)" in model.psti[0].statement
    assert [c.question for c in model.cases if c.test_case == "5.1-1-1"] == ["Is it so?"]

    append(tmp_path, decision("5.1-1-1"))
    model = build_report_model(tmp_path, fake_catalogue())
    p = model.provision("5.1-1")
    case = next(c for c in model.cases if c.test_case == "5.1-1-1")
    assert p.verdict == "PASS" and p.awaiting == []
    assert p.state == "automated PASS; assessor PASS (A. Assessor: 5.1-1-1)"
    assert p.decided_by == ["5.1-1-1: PASS by A. Assessor on 2026-12-06"]
    assert case.verdict == "PASS" and case.automated_verdict == "PENDING_REVIEW"
    assert case.decision is not None and case.decision.assessor == "A. Assessor" and case.decision.overrides == ""
    assert case.reason.startswith("assessor A. Assessor (2026-12-06): read the IXIT")
    [d] = model.decisions
    assert (d.status, d.replaced) == ("applied", ["5.1-1-1 [profile]: PENDING_REVIEW"])
    assert model.test_case_counts["PASS"] == 2 and model.case_counts["PASS"] == 3


@pytest.mark.parametrize(("sha", "firmware", "why"), [
    ("cd" * 32, FIRMWARE, "made for profile sha256 cdcdcdcdcdcd…"),
    (SHA, "1.2.4", "made for firmware 1.2.4, the run's is 1.2.3"),
])
def test_a_decision_for_another_profile_or_firmware_is_stale_shown_not_applied(
        tmp_path: Path, sha: str, firmware: str, why: str) -> None:
    write_run(tmp_path, [pending("5.1-1-1")])
    append(tmp_path, decision("5.1-1-1"), profile_sha256=sha, firmware=firmware)
    model = build_report_model(tmp_path, fake_catalogue())
    case = next(c for c in model.cases if c.test_case == "5.1-1-1")
    assert case.verdict == "PENDING_REVIEW" and case.decision is None
    [d] = model.decisions
    assert d.status == "stale" and why in d.status_reason
    assert any("is stale" in w for w in model.run.warnings)


@pytest.mark.parametrize("recorded", ["FAIL", "INCONCLUSIVE"])
def test_a_recorded_fail_or_inconclusive_changes_only_with_overrides_and_a_rationale(
        tmp_path: Path, recorded: str) -> None:
    write_run(tmp_path, [record("5.2-1-2", recorded, "the policy page answered 500"), pending("5.2-1-1")])
    append(tmp_path, decision("5.2-1-2", "PASS"))
    model = build_report_model(tmp_path, fake_catalogue())
    case = next(c for c in model.cases if c.test_case == "5.2-1-2")
    assert case.verdict == recorded and case.decision is None
    d = next(d for d in model.decisions if d.test_case == "5.2-1-2")
    assert d.status == "rejected" and f"only with overrides: {recorded}" in d.status_reason

    append(tmp_path, decision("5.2-1-2", "PASS", overrides=recorded, rationale="policy read on the maker's mirror"),
           recorded="2026-12-06T11:00:00.000+00:00")
    model = build_report_model(tmp_path, fake_catalogue())
    case = next(c for c in model.cases if c.test_case == "5.2-1-2")
    assert case.verdict == "PASS" and case.automated_verdict == recorded
    assert case.decision is not None and case.decision.overrides == recorded
    assert f"[overrode {recorded}: the policy page answered 500]" in case.reason
    first, second = sorted(model.decisions, key=lambda d: d.recorded)[-2:]
    assert (first.status, second.status) == ("superseded", "applied")
    prov = model.provision("5.2-1")
    assert prov.decided_by == [f"5.2-1-2: PASS by A. Assessor on 2026-12-06 (overrode {recorded})"]
    assert prov.state == (f"automated {recorded}; assessor PASS (A. Assessor: 5.2-1-2 overriding {recorded}); "
                          "awaiting assessor: 5.2-1-1")


def test_a_decision_confirming_an_automated_verdict_needs_no_override(tmp_path: Path) -> None:
    write_run(tmp_path, [record("5.2-1-2", "PASS")])
    append(tmp_path, decision("5.2-1-2", "PASS"))
    model = build_report_model(tmp_path, fake_catalogue())
    assert [d.status for d in model.decisions] == ["applied"]
    assert model.provision("5.2-1").state.startswith("automated PASS; assessor PASS (A. Assessor: 5.2-1-2)")


def test_a_decision_for_a_test_case_without_record_fills_it(tmp_path: Path) -> None:
    write_run(tmp_path, [record("5.13-1-2", "PASS")])
    append(tmp_path, decision("5.13-1-1", "PASS", rationale="input validation reviewed in the design"))
    model = build_report_model(tmp_path, fake_catalogue())
    case = next(c for c in model.cases if c.test_case == "5.13-1-1")
    assert (case.verdict, case.runner, case.automated_verdict) == ("PASS", "assessor", "")
    assert model.provision("5.13-1").verdict == "PASS" and model.provision("5.13-1").missing == []


def test_decisions_reach_json_and_junit(tmp_path: Path) -> None:
    write_run(tmp_path, [pending("5.1-1-1", "Does every password differ?"), record("5.2-1-2", "INCONCLUSIVE", "no route")])
    append(tmp_path, decision("5.1-1-1", "FAIL", rationale="the IXIT says one password for all"))
    model = build_report_model(tmp_path, fake_catalogue())
    again = read_json(write_json(model, tmp_path / "c.json"))
    assert again.decisions == model.decisions and again.cases == model.cases
    assert json.loads((tmp_path / "c.json").read_text())["decisions"][0]["status"] == "applied"

    root = ET.fromstring(junit_text(model).split("\n", 1)[1])
    tc = root.find(".//testcase[@name='5.1-1-1 [profile]']")
    props = {p.get("name"): p.get("value") for p in tc.findall("properties/property")}
    assert props["assessor"] == "A. Assessor" and props["automated_verdict"] == "PENDING_REVIEW"
    assert tc.find("failure") is not None  # the assessor's FAIL is a failure like any other
    err = root.find(".//testcase[@name='5.2-1-2 [profile]']/error")
    assert err.get("type") == "INCONCLUSIVE" and err.get("message").startswith("INCONCLUSIVE:")
    assert root.get("failures") == "1" and root.get("errors") == "1"


def test_pending_review_in_junit_is_a_skip_that_carries_the_question(tmp_path: Path) -> None:
    write_run(tmp_path, [pending("5.1-1-1", "Does every password differ?")])
    root = ET.fromstring(junit_text(build_report_model(tmp_path, fake_catalogue())).split("\n", 1)[1])
    skipped = root.find(".//testcase[@name='5.1-1-1 [profile]']/skipped")
    assert skipped.get("message") == "PENDING_REVIEW: Does every password differ?"
    suite_props = {p.get("name"): p.get("value") for p in root.find("testsuite/properties")}
    assert suite_props["verdict.PENDING_REVIEW"] == "1"
    assert root.get("failures") == "0" and root.get("errors") == "0" and root.get("skipped") == "1"


def test_the_demo_fixture_is_a_valid_decisions_file(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.assess.decisions import load_decisions_file
    from harness.standard import load_catalogue

    root = Path(__file__).resolve().parents[2]
    monkeypatch.chdir(root)  # its evidence paths are relative to the project root
    decisions = load_decisions_file(root / "fixtures" / "decisions" / "sim-compliant.yaml",
                                    test_cases=load_catalogue().test_cases)
    assert decisions and all(d.verdict == "PASS" and d.rationale and d.evidence for d in decisions)
    assert all(len(e.sha256) == 64 for d in decisions for e in d.evidence)


def test_the_terminal_summary_counts_test_cases_and_decisions_and_shows_what_awaits(tmp_path: Path) -> None:
    from harness.report import summary_lines

    write_run(tmp_path, [pending("5.1-1-1"), record("5.1-1-2", "PASS", unit="U1"), record("5.1-1-2", "PASS", unit="U2"),
                         pending("5.2-1-1")])
    append(tmp_path, decision("5.2-1-1"))
    lines = summary_lines(build_report_model(tmp_path, fake_catalogue()))
    row = next(line for line in lines if line.split()[:1] == ["5.1-1"])
    assert row.endswith("PENDING_REVIEW  automated PASS; awaiting assessor: 5.1-1-1")
    assert "Test cases: 0 FAIL, 0 INCONCLUSIVE, 1 PENDING_REVIEW, 2 PASS, 0 NOT_APPLICABLE (3 with a record)" in lines
    assert "Assessor decisions: 1 applied" in lines


def test_the_json_schema_names_what_the_parser_reads() -> None:
    from harness.assess import decisions as mod

    schema = json.loads((Path(__file__).resolve().parents[2] / "docs" / "decisions.schema.json").read_text())
    assert set(schema["properties"]) == mod._FILE_KEYS
    entry = schema["$defs"]["decision"]
    assert set(entry["properties"]) == mod._DECISION_KEYS
    assert entry["properties"]["verdict"]["enum"] == list(mod.DECISION_VERDICTS)
    assert entry["properties"]["overrides"]["enum"] == list(mod.OVERRIDABLE)
    assert schema["properties"]["schema"]["const"] == mod.FILE_SCHEMA


def test_a_provision_no_test_case_assesses_is_decided_as_a_provision(tmp_path: Path) -> None:
    from test_report_support import FakeProvision

    cat = fake_catalogue()
    new = FakeProvision("6-6", "6", "M", (), "summary of 6-6", [], [])
    new.unassessed = "new in V3.1.3; no TS 103 701 test case yet"  # type: ignore[attr-defined]
    cat.provisions["6-6"] = new
    write_run(tmp_path, [record("5.2-1-1", "PASS"), record("5.2-1-2", "PASS")])
    prov = build_report_model(tmp_path, cat).provision("6-6")
    assert prov.verdict == "PENDING_REVIEW" and prov.state == "awaiting assessor: new in V3.1.3; no TS 103 701 test case yet"

    append(tmp_path, {"provision": "6-6", "verdict": "PASS", "rationale": "the manual explains deletion"},
           {"provision": "5.2-1", "verdict": "PASS", "rationale": "a provision with test cases"})
    model = build_report_model(tmp_path, cat)
    prov = model.provision("6-6")
    assert prov.verdict == "PASS" and prov.state == "assessor PASS (A. Assessor); no test case assesses it"
    assert prov.decided_by == ["6-6: PASS by A. Assessor on 2026-12-06"]
    by_subject = {d.subject: d for d in model.decisions}
    assert by_subject["provision 6-6"].status == "applied"
    assert by_subject["provision 5.2-1"].status == "rejected"
    assert "decide those instead" in by_subject["provision 5.2-1"].status_reason
    with pytest.raises(DecisionsError, match="name a test_case or a provision, not both"):
        parse_decisions(doc({"test_case": "5.2-1-1", "provision": "5.2-1", "verdict": "PASS", "rationale": "x"}))


def test_applicability_computed_for_the_report_edition_is_preferred(tmp_path: Path) -> None:
    cat = fake_catalogue()
    cat.edition = "v3.1.3"
    log = ResultsLog(tmp_path, writer="pytest")
    log.write_session(run_id="r", profile={"sha256": SHA, "product": {"firmware": FIRMWARE}}, units=["U1"],
                      applicability={"5.13-1": {"applicable": True, "reason": "by the V2.1.1 rules"}},
                      report_edition="v3.1.3",
                      report_applicability={"5.13-1": {"applicable": False, "reason": "feature x absent (V3.1.3)"}})
    model = build_report_model(tmp_path, cat)
    p = model.provision("5.13-1")
    assert (p.applicability, p.applicability_reason) == ("not applicable", "feature x absent (V3.1.3)")
    cat.edition = "v2.1.1"
    p = build_report_model(tmp_path, cat).provision("5.13-1")
    assert (p.applicability, p.applicability_reason) == ("applicable", "by the V2.1.1 rules")
