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


class SilentAfterInput(ScriptedUnit):
    """The unit goes silent after the oversized MQTT line: either it crashed (a power cycle brings it
    back) or the lab froze (the bench supply does not answer either, or the link stays dead)."""

    def __init__(self, tmp: Path, *, cause: str, power_cycle: bool = True) -> None:
        super().__init__(tmp)
        self.cause, self.silent, self.cycles = cause, False, 0
        if power_cycle:
            self.profile.procedures["power_cycle"] = []

    def run(self, procedure: str, **kw: Any) -> ProcedureResult:
        if procedure == "power_cycle":
            self.cycles += 1
            if self.cause == "lab_freeze":
                raise LabFault("supply: no answer to OUTP OFF within 5 s (VI_ERROR_TMO)")
            self.silent = self.cause == "dead_link"  # the link stays dead: the unit cannot be heard
            return ProcedureResult(procedure)
        if self.silent and procedure in ("attention", "read_setting", "set_setting"):
            return ProcedureResult(procedure, outcome="timeout", detail="no prompt within 2 s")
        result = super().run(procedure, **kw)
        if procedure == "input_mqtt" and len(kw["input"]) > 60_000:
            self.silent = True
        return result


def _fuzz_rows(r: Any) -> list[dict[str, Any]]:
    return next(e for e in r.evidence if e.name.startswith("malformed inputs")).data


def test_a_crash_is_told_from_a_lab_freeze_by_the_bench(tmp_path: Path) -> None:
    unit = SilentAfterInput(tmp_path, cause="crash")
    r = resilience.malformed_input(unit)  # type: ignore[arg-type]
    assert r.verdict == Verdict.FAIL and "64 KiB" in r.reason, r.reason
    assert unit.cycles == 1 and not unit.silent  # recovered: the run goes on
    finding = next(e for e in r.evidence if e.kind == "finding")
    assert "power-cycled" in finding.data["lab side shown working by"]
    assert _fuzz_rows(r)[-1]["alive before"] is True and _fuzz_rows(r)[-1]["alive after"] is False


def test_a_lab_freeze_during_the_inputs_is_inconclusive_with_its_cause(tmp_path: Path) -> None:
    # Was: FAIL "the device stopped answering after mqtt input …" although the bench had frozen.
    r = resilience.malformed_input(SilentAfterInput(tmp_path, cause="lab_freeze"))  # type: ignore[arg-type]
    assert r.verdict == Verdict.INCONCLUSIVE, r.reason
    assert "VI_ERROR_TMO" in r.reason and "lab freeze" in r.reason, r.reason


def test_a_unit_still_silent_after_the_power_cycle_is_not_judged(tmp_path: Path) -> None:
    r = resilience.malformed_input(SilentAfterInput(tmp_path, cause="dead_link"))  # type: ignore[arg-type]
    assert r.verdict == Verdict.INCONCLUSIVE and "even after" in r.reason, r.reason


def test_without_a_power_cycle_a_silence_is_not_a_crash(tmp_path: Path) -> None:
    unit = SilentAfterInput(tmp_path, cause="crash", power_cycle=False)
    r = resilience.malformed_input(unit)  # type: ignore[arg-type]
    assert r.verdict == Verdict.INCONCLUSIVE and "power_cycle" in r.reason, r.reason
