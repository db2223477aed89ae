"""5.13-1-2 on a scripted unit: the unit is proven alive before the first input, an input whose
delivery failed is not counted, and injected commands are found in the read-back and in what the
links received."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

from harness.cases import resilience
from harness.links.transcript import Transcript
from harness.procedures import ProcedureResult
from harness.verdict import LabFault, Verdict


class ScriptedUnit:
    def __init__(self, tmp: Path, *, shell: bool = False, frozen: bool = False, broker_down: bool = False) -> None:
        self.shell, self.frozen, self.broker_down = shell, frozen, broker_down
        self.stored = "pool.ntp.org"
        self.sent: list[str] = []
        self.profile = SimpleNamespace(
            procedures={"attention": [], "set_setting": [], "read_setting": [], "input_mqtt": []},
            ixit=SimpleNamespace(other={"29-InpVal": [
                {"setting": "NtpServer1", "interface": "http", "accepts": "[a-z0-9.-]+", "valid": "pool.ntp.org"}]}))
        self.state = SimpleNamespace(session="logged_in")
        self.transcript = Transcript("web", tmp)

    def has(self, name: str) -> bool:
        return name in self.profile.procedures

    def transcripts(self) -> dict[str, Any]:
        return {"web": self.transcript}

    def run(self, procedure: str, **kw: Any) -> ProcedureResult:
        if procedure == "attention":
            if self.frozen:
                return ProcedureResult(procedure, outcome="timeout", detail="no prompt within 2 s")
            return ProcedureResult(procedure, outcome="logged_in")
        if procedure == "input_mqtt":
            if self.broker_down:
                raise LabFault("mqtt: connection refused by the lab broker")
            self.sent.append(kw["input"])
            return ProcedureResult(procedure)
        if procedure == "set_setting":
            self.sent.append(kw["value"])
            value = kw["value"]
            if self.shell:  # the defect: the value goes through a shell, the answer says what ran
                self.transcript.received("HTTP 200\n{\"NtpServer1\": \"" + value.replace("$(id)", "uid=0(root)") + "\"}\n")
                self.stored = value.replace("`id`", "uid=0(root) gid=0(root)")
                return ProcedureResult(procedure)
            if value == "pool.ntp.org":
                self.stored = value
                return ProcedureResult(procedure)
            return ProcedureResult(procedure, outcome="rejected", detail="HTTP 200 Rejected")
        if procedure == "read_setting":
            return ProcedureResult(procedure, captures={"value": self.stored})
        raise AssertionError(procedure)


def test_validating_unit_passes_and_is_written_back(tmp_path: Path) -> None:
    unit = ScriptedUnit(tmp_path)
    r = resilience.malformed_input(unit)  # type: ignore[arg-type]
    assert r.verdict == Verdict.PASS, r.reason
    assert unit.stored == "pool.ntp.org"
    assert any("$(id)" in s for s in unit.sent) and any(s.startswith("x\n") for s in unit.sent)


def test_injected_command_output_fails(tmp_path: Path) -> None:
    r = resilience.malformed_input(ScriptedUnit(tmp_path, shell=True))  # type: ignore[arg-type]
    assert r.verdict == Verdict.FAIL and "NtpServer1" in r.reason and "uid=0(root)" in r.reason


def test_frozen_unit_gets_no_input_and_no_verdict(tmp_path: Path) -> None:
    unit = ScriptedUnit(tmp_path, frozen=True)
    r = resilience.malformed_input(unit)  # type: ignore[arg-type]
    assert r.verdict == Verdict.INCONCLUSIVE and "before the first input" in r.reason
    assert unit.sent == []


def test_inputs_to_a_dead_broker_are_not_delivered(tmp_path: Path) -> None:
    unit = ScriptedUnit(tmp_path, broker_down=True)
    r = resilience.malformed_input(unit)  # type: ignore[arg-type]
    assert r.verdict == Verdict.INCONCLUSIVE and "not delivered" in r.reason
    rows = next(e for e in r.evidence if e.name.startswith("malformed inputs")).data
    assert rows and not any(row["delivered"] for row in rows)


def test_an_input_the_link_cannot_carry_is_skipped_not_missing(tmp_path: Path) -> None:
    unit = ScriptedUnit(tmp_path)
    original = unit.run

    def run(procedure: str, **kw: Any) -> ProcedureResult:
        if procedure == "input_mqtt" and len(kw["input"]) > 10_000:
            return ProcedureResult(procedure, outcome="not_sent", detail="not sent: URL component too long")
        return original(procedure, **kw)

    unit.run = run  # type: ignore[method-assign]
    r = resilience.malformed_input(unit)  # type: ignore[arg-type]
    assert r.verdict == Verdict.PASS and "cannot carry" in r.reason, r.reason


def test_writes_refused_for_authentication_reach_no_setting(tmp_path: Path) -> None:
    # Seen: every set_setting/read_setting answered 401 (the password had changed) and 5.13-1-2 PASSed.
    unit = ScriptedUnit(tmp_path)
    original = unit.run

    def run(procedure: str, **kw: Any) -> ProcedureResult:
        if procedure in ("set_setting", "read_setting"):
            return ProcedureResult(procedure, outcome="http_401", detail="HTTP 401")
        return original(procedure, **kw)

    unit.run = run  # type: ignore[method-assign]
    r = resilience.malformed_input(unit)  # type: ignore[arg-type]
    assert r.verdict == Verdict.INCONCLUSIVE and "http_401" in r.reason, r.reason
