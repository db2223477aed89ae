"""Allure for Robot runs: labels, evidence attachments and the *broken* status of INCONCLUSIVE.

allure-robotframework maps every Robot FAIL to *failed*; the harness shows INCONCLUSIVE (a lab
fault, never a device defect) as *broken*, as allure-pytest does for it. A hook in Allure's own
plugin manager sets the status of the recorded verdict just before the result file is written,
whichever listener ran first. Everything here is a no-op when allure-robotframework is not listening.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cases.runs import allure_labels
from harness.redact import REDACTOR
from harness.verdict import Verdict

if TYPE_CHECKING:
    from harness.robot.session import RobotSession
    from harness.testcase import TestCaseContext

INCONCLUSIVE_PREFIX = "INCONCLUSIVE:"

try:
    import allure
    import allure_commons
except ImportError:  # allure-robotframework is a dependency; tolerate its absence in odd setups
    allure = None
    allure_commons = None


def add_labels(ctx: TestCaseContext, tags: Iterable[str] = ()) -> None:
    """The labels allure-pytest gets, less those the test's ``allure.label.*`` tags already set."""
    if allure is None:
        return
    present = {str(t)[len("allure.label."):].partition(":")[::2] for t in tags
               if str(t).startswith("allure.label.")}
    for name, value in allure_labels(ctx.test_case, ctx.provision, ctx.unit):
        if (name, value) in present or (name == "tag" and value in tags):
            continue
        if name == "tag":
            allure.dynamic.tag(value)
        else:
            allure.dynamic.label(name, value)


def attach(run_dir: Path, rec: Any) -> None:
    """Attach the record's files and its verdict with evidence to the running Allure test."""
    if allure is None:
        return
    for att in rec.attachments:
        try:
            allure.attach.file(str(run_dir / att.path), name=att.name, attachment_type=allure.attachment_type.TEXT)
        except Exception:  # noqa: BLE001 - evidence is already on disk; Allure is a view of it
            pass
    summary = {"verdict": str(getattr(rec.verdict, "value", rec.verdict)), "reason": rec.reason,
               "evidence": [e.to_dict() for e in rec.evidence]}
    # Values are redacted before serialisation (a secret with a quote or a backslash would be stored
    # escaped and never match afterwards); non-ASCII stays as is for the same reason.
    text = json.dumps(REDACTOR.redact_obj(summary), indent=2, default=str, ensure_ascii=False)
    allure.attach(REDACTOR.redact(text), name="verdict and evidence",
                  attachment_type=allure.attachment_type.JSON)


class _StatusFromVerdict:
    """Allure's status of a Robot test is the status of its recorded verdict."""

    def __init__(self, session: RobotSession) -> None:
        self.session = session

    if allure_commons is not None:
        @allure_commons.hookimpl(tryfirst=True)
        def report_result(self, result: Any) -> None:
            # allure-robotframework writes a suite's results when the suite ends, after our
            # listener recorded each test's verdict, whichever listener ran first per test.
            verdict = self.session.verdicts.get(getattr(result, "fullName", None) or "")
            if verdict is not None:
                result.status = Verdict(verdict).allure_status
                return
            message = (getattr(result.statusDetails, "message", None) or "") if result.statusDetails else ""
            if result.status == "failed" and message.startswith(INCONCLUSIVE_PREFIX):
                result.status = "broken"


_registered = False


def register_status_hook(session: RobotSession) -> None:
    global _registered
    if allure_commons is None or _registered:
        return
    allure_commons.plugin_manager.register(_StatusFromVerdict(session))
    _registered = True


def listening() -> bool:
    """Whether allure-robotframework's listener is active in this process."""
    if allure_commons is None:
        return False
    return any(type(p).__name__ == "AllureListener" for p in allure_commons.plugin_manager.get_plugins())
