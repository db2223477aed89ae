"""The context of one running test case: identity, evidence, the verdict and its record.

Shared by the pytest plugin and the Robot library so both runners produce identical records.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from harness.results import ResultsLog, TestCaseRecord, now_iso
from harness.verdict import CheckResult, Evidence, Verdict


class Inconclusive(Exception):
    """Raised to end a test whose verdict is INCONCLUSIVE (shown as 'broken', never 'failed')."""


def provision_of(test_case: str) -> str:
    """'5.1-1-2' → '5.1-1'; '4-1-1' → '4-1'."""
    head, _, _ = test_case.rpartition("-")
    return head


@dataclass
class TestCaseContext:
    __test__ = False  # not a pytest test class

    test_case: str
    unit: str | None
    title: str = ""
    runner: str = "pytest"
    name: str = ""
    run_id: str = ""
    profile: dict[str, Any] = field(default_factory=dict)
    evidence: list[Evidence] = field(default_factory=list)
    measurements: dict[str, Any] = field(default_factory=dict)
    result: CheckResult | None = None
    unit_state: dict[str, Any] = field(default_factory=dict)  # what the unit was when the case started
    devices: list[Any] = field(default_factory=list)
    _marks: dict[int, int] = field(default_factory=dict)
    started: str = field(default_factory=now_iso)
    _t0: float = field(default_factory=time.monotonic)

    @property
    def provision(self) -> str:
        return provision_of(self.test_case)

    def use(self, device: Any) -> Any:
        """Remember the device so its transcripts for this test case become evidence."""
        if device not in self.devices:
            self.devices.append(device)
            for transcript in device.transcripts().values():
                self._marks[id(transcript)] = transcript.mark()
        return device

    def add(self, *evidence: Evidence) -> None:
        self.evidence.extend(evidence)

    def measure(self, name: str, value: Any, unit: str = "") -> None:
        self.measurements[name] = {"value": value, "unit": unit}

    def conclude(self, result: CheckResult) -> CheckResult:
        """Record the verdict (first one wins) and end the test accordingly."""
        if self.result is None:
            self.result = result
        return self.result

    def transcript_texts(self) -> dict[str, str]:
        out: dict[str, str] = {}
        for device in self.devices:
            for name, transcript in device.transcripts().items():
                text = transcript.read_since(self._marks.get(id(transcript), 0))
                if text.strip():
                    out[f"{device.unit_id}-{name}-transcript.txt"] = text
        return out

    def record(self, log: ResultsLog, *, verdict: Verdict | None = None, reason: str | None = None,
               attachments_extra: dict[str, str] | None = None) -> TestCaseRecord:
        result = self.result
        if verdict is None:
            if result is None:
                verdict, reason = Verdict.INCONCLUSIVE, reason or "the test ended without a verdict"
            else:
                verdict, reason = result.verdict, result.reason
        evidence = list(result.evidence if result else []) + self.evidence
        rec = TestCaseRecord(
            test_case=self.test_case, provision=self.provision, verdict=verdict, reason=reason or "",
            unit=self.unit, title=self.title, evidence=evidence, measurements=self.measurements,
            runner=self.runner, name=self.name, started=self.started, finished=now_iso(),
            duration_s=time.monotonic() - self._t0, run_id=self.run_id, profile=self.profile,
            unit_state=self.unit_state)
        texts = dict(self.transcript_texts())
        texts.update(attachments_extra or {})
        for fname, text in texts.items():
            rec.attachments.append(log.attach(rec.id, fname, text))
        log.write(rec)
        return rec
