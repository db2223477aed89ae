"""Robot listener: one results-log record per conformance test case, as the pytest plugin writes.

A test is a conformance test case when one of its tags is a TS 103 701 id (``5.1-1-2``). When it
starts, the listener opens the test-case context (identity, unit, the ICS's applicability: a
provision that does not apply is skipped as NOT_APPLICABLE without touching the device); when it
ends (teardown included) the verdict is appended, with evidence and transcripts, to this
process's segment of the run's results log. Records are the pytest plugin's ``TestCaseRecord``
with ``runner="robot"`` and the test's full name.

Verdict → Robot status, as the pytest plugin maps to pytest outcomes: PASS passes, FAIL fails,
INCONCLUSIVE fails with a message starting ``INCONCLUSIVE:`` (Allure: *broken*), NOT_APPLICABLE
and PENDING_REVIEW skip. A failure without a verdict (link down, a keyword error) is a lab or
harness fault: INCONCLUSIVE with the cause, never FAIL. A test skipped by Robot itself gets no
record (the report shows it as not assessed).

Attach it with ``--listener harness.robot.listener.ResultsListener`` before allure's listener
(``harness run --runner robot`` does). ``HarnessLibrary`` also attaches it as its own library
listener, so a plain ``robot`` run of a suite that imports the library writes records too; when
both are active only the global one writes.
"""

from __future__ import annotations

from typing import Any

from robot.api import logger

from harness.cases.runs import applicability
from harness.redact import REDACTOR
from harness.robot import allure as robot_allure
from harness.robot.identity import identity_from_tags, title_from_name
from harness.robot.session import SESSION, RobotSession, Running, SessionError
from harness.testcase import TestCaseContext
from harness.verdict import CheckResult, Evidence, Verdict


def _key(data: Any) -> str:
    return f"{data.id}|{data.full_name}"


class ResultsListener:
    ROBOT_LISTENER_API_VERSION = 3

    def __init__(self, attached_by_library: bool | str = False, session: RobotSession | None = None) -> None:
        self.session = session or SESSION
        self.library_mode = attached_by_library not in (False, "", "false", "False")
        if not self.library_mode:
            self.session.global_listener = True
        robot_allure.register_status_hook(self.session)

    def _inactive(self) -> bool:
        return self.library_mode and self.session.global_listener

    # -- start -------------------------------------------------------------------------------------
    def start_suite(self, data: Any, result: Any) -> None:
        """At the top suite: write the plan (every conformance test case this process will run),
        so one that ends without a record is reported as unjudged, as the pytest plugin does."""
        if self._inactive() or getattr(data, "parent", None) is not None:
            return
        try:
            self.session.open()
        except SessionError:
            return  # reported by the first test that needs the session
        cases = []
        for test in data.all_tests:
            try:
                identity = identity_from_tags(test.tags)
            except ValueError:
                continue
            if identity is None:
                continue
            unit = {"unit": self.session.default_unit(), "profile": None, "cross_unit": "*"}[identity.scope]
            cases.append({"test_case": identity.test_case, "unit": unit, "name": test.full_name})
        if cases and self.session.log is not None:
            self.session.log.write_plan("robot", cases)
        self._assessor_items()

    def _assessor_items(self) -> None:
        """The assessor items (harness.assess.items), once, when the runner asks this process for
        them (``${HARNESS_ASSESSOR_ITEMS}``: the process of the product-level test cases)."""
        from harness.robot.session import _robot_variable
        wanted = str(_robot_variable("HARNESS_ASSESSOR_ITEMS") or "").lower() in ("yes", "true", "1")
        if not wanted or self.session.items_written or self.session.log is None or self.session.bench is None:
            return
        from harness.assess.items import write_items
        from harness.standard import load_catalogue
        self.session.items_written = True
        n = write_items(self.session.log, self.session.bench, load_catalogue(), runner="robot",
                        run_id=self.session.run_id)
        logger.info(f"harness: {n} assessor item(s) recorded (harness assess RUN_DIR lists them)")

    def start_test(self, data: Any, result: Any) -> None:
        if self._inactive():
            return
        key = _key(data)
        if self.session.current is not None and self.session.current.key == key:
            return
        self.session.current = None
        try:
            identity = identity_from_tags(data.tags)
        except ValueError as exc:
            data.setup.config(name="BuiltIn.Fail", args=(f"harness: {exc}",))
            return
        if self.library_mode and not self.session.warned_order and robot_allure.listening():
            self.session.warned_order = True
            logger.warn("harness: allure-robotframework is listening but harness.robot.listener.ResultsListener "
                        "is not given with --listener before it: Allure's keyword logs are written before "
                        "the harness can redact them, and statuses and evidence reach Allure later; "
                        "`harness run --runner robot` passes both in the right order")
        if identity is None:
            # A plain Robot test may use units and links too; it just records no verdict.
            ctx = TestCaseContext(test_case="", unit=None, title=data.name, runner="robot", name=data.full_name)
            self.session.current = Running(ctx=ctx, key=key, scope="unit", conformance=False)
            return
        try:
            bench = self.session.open()
        except SessionError as exc:
            data.setup.config(name="BuiltIn.Fail", args=(f"harness: {exc}",))
            return
        unit = {"unit": self.session.default_unit(), "profile": None, "cross_unit": "*"}[identity.scope]
        ctx = TestCaseContext(test_case=identity.test_case, unit=unit, title=title_from_name(data.name, identity.test_case),
                              runner="robot", name=data.full_name, run_id=self.session.run_id,
                              profile=bench.fingerprint())
        self.session.current = Running(ctx=ctx, key=key, scope=identity.scope)
        if self.library_mode:
            robot_allure.add_labels(ctx, data.tags)  # Allure's listener, a global one, has started the test
        app = applicability(bench, ctx.provision)
        if not app.applicable:
            ctx.conclude(CheckResult.not_applicable(app.reason))
            # A Skip in the setup ends the test before its body touches the device.
            data.setup.config(name="BuiltIn.Skip", args=(f"NOT_APPLICABLE: {app.reason}",))

    # -- end ---------------------------------------------------------------------------------------
    def end_test(self, data: Any, result: Any) -> None:
        if self._inactive():
            return
        running = self.session.current
        if running is None or running.key != _key(data) or running.recorded:
            return
        if not running.conformance:
            self.session.current = None
            return
        running.recorded = True
        ctx = running.ctx
        device = self.session.devices.get(ctx.unit) if ctx.unit else None
        if device is not None:
            from harness.cases.runs import after_test
            try:
                after_test(ctx, device)
            except Exception as exc:  # recovery is best effort; the verdict stands as judged
                ctx.add(Evidence("text", "recovery", f"recovery failed: {exc}"))
        verdict = reason = None
        if ctx.result is None:
            if result.status == "SKIP":
                self.session.current = None
                return  # skipped by Robot itself, not by a verdict: no record (shown unassessed)
            verdict = Verdict.INCONCLUSIVE
            if result.status == "FAIL":
                reason = running.cause or f"test error: {result.message}"
            else:
                reason = "the test ended without a verdict"
        assert self.session.log is not None
        rec = ctx.record(self.session.log, verdict=verdict, reason=reason)
        self.session.verdicts[data.full_name] = Verdict(rec.verdict).value
        self._sync_status(rec.verdict, rec.reason, result)
        result.message = REDACTOR.redact(str(result.message))
        if not self.library_mode and self.session.run_dir is not None:
            # Listed before Allure's listener, this one starts a test before Allure knows it and
            # ends it while Allure still has it open: labels and evidence go in now.
            robot_allure.add_labels(ctx, data.tags)
            robot_allure.attach(self.session.run_dir, rec)
        self.session.current = None

    @staticmethod
    def _sync_status(verdict: Verdict, reason: str, result: Any) -> None:
        """Make Robot's own status say what the record says."""
        if verdict == Verdict.PASS:
            return
        if verdict == Verdict.FAIL:
            result.status = "FAIL"
            if not str(result.message).startswith("FAIL:"):
                result.message = f"FAIL: {reason}"
        elif verdict == Verdict.INCONCLUSIVE:
            result.status = "FAIL"
            if not str(result.message).startswith(robot_allure.INCONCLUSIVE_PREFIX):
                result.message = f"{robot_allure.INCONCLUSIVE_PREFIX} {reason}"
        else:
            result.status = "SKIP"
            if not str(result.message).startswith(verdict.value):
                result.message = f"{verdict.value}: {reason}"

    def log_message(self, message: Any) -> None:
        """Robot's own log (log.html, output.xml) gets the results log's redaction: a secret from
        the lab configuration never reaches it, whatever a keyword or a variable printed."""
        if self._inactive():
            return
        message.message = REDACTOR.redact(str(message.message))

    def close(self) -> None:
        if not self.library_mode:
            self.session.close()
