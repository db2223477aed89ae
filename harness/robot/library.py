"""HarnessLibrary: Robot Framework keywords over the harness's Device, links and checks."""

from __future__ import annotations

import functools
from collections.abc import Callable
from enum import Enum
from typing import Any, TypeVar

from robot.api.deco import keyword, library
from robot.api.exceptions import SkipExecution

from harness import documents
from harness.cases import disclosure, erasure, passwords, reporting, support
from harness.robot.listener import ResultsListener
from harness.robot.session import SESSION, Running
from harness.testcase import Inconclusive
from harness.verdict import CheckResult, Evidence, Verdict, combine

F = TypeVar("F", bound=Callable[..., Any])


class UnitState(Enum):
    """The state a unit is brought into before a test uses it."""

    any = "any"
    factory_default = "factory_default"
    logged_in = "logged_in"
    logged_out = "logged_out"


class InconclusiveError(Inconclusive):
    """Ends a Robot test whose verdict is INCONCLUSIVE (its message starts ``INCONCLUSIVE:``)."""

    ROBOT_SUPPRESS_NAME = True


def _noting_failures(func: F) -> F:
    """Keep why a keyword failed: without a verdict, the record names that cause."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except (SkipExecution, Inconclusive, AssertionError):
            raise  # a verdict ending the test, not a fault
        except Exception as exc:
            SESSION.note_failure(exc)
            raise

    return wrapper  # type: ignore[return-value]


@library(scope="SUITE", auto_keywords=False, doc_format="ROBOT")
class HarnessLibrary:
    """Keywords of the EN 303 645 / TS 103 701 conformance harness: open a unit of a device profile,
    run its procedures, use its links, call the harness's checks and record verdicts.

    = Test cases and verdicts =

    A test is a conformance test case when one of its tags is a TS 103 701 test case id, for
    example ``5.1-1-2``; only those are recorded. Other tests may use every keyword too (open a
    unit, run procedures, use links) and record nothing. Add ``allure.label.provision:<provision id>`` for Allure. A test that
    judges the product rather than one unit is tagged ``scope:profile``; one that judges facts from
    every unit is tagged ``scope:cross_unit``; others run on one unit.

    A check keyword (``Check …``) returns a check result; `Conclude` ends the test with its verdict
    (or `Record Verdict` with one the suite decided). The verdict, its evidence and the transcripts
    of every link the test used are written to the run's results log when the test ends, in the
    same records the pytest suites write, and the conformance report (``harness report RUN_DIR``)
    merges both runners.

    | =Verdict=      | =Robot status=                                  |
    | PASS           | PASS                                            |
    | FAIL           | FAIL, message starts ``FAIL:``                  |
    | INCONCLUSIVE   | FAIL, message starts ``INCONCLUSIVE:`` (Allure: broken) |
    | NOT_APPLICABLE | SKIP (also when the ICS says the provision does not apply: the test does not run) |
    | PENDING_REVIEW | SKIP                                            |

    A keyword that fails before a verdict (the link is down, a procedure got no answer, a unit
    could not be brought into a state) makes the test INCONCLUSIVE with that cause: a lab fault is
    never a device FAIL. A test that ends without any verdict is INCONCLUSIVE too.

    = Settings =

    Import arguments win; an argument not given is read from the Robot variable in brackets, which
    is what ``harness run --runner robot`` passes:

    | =Argument=   | =Variable=                | =Meaning=                                                   |
    | profile      | ``${HARNESS_PROFILE}``    | device profile YAML (required)                               |
    | lab          | ``${HARNESS_LAB}``        | lab configuration YAML (secrets, runtime facts, networks)    |
    | runtime      | ``${HARNESS_RUNTIME}``    | runtime facts file overriding the lab configuration's        |
    | run_dir      | ``${HARNESS_RUN_DIR}``    | run directory of the results log (default ``${OUTPUT DIR}``)  |
    | units        | ``${HARNESS_UNITS}``      | comma-separated units of this run (default: every unit)      |
    | unit         | ``${HARNESS_UNIT}``       | the unit per-unit test cases run on (default: the first unit)|
    | settle_scale | ``${HARNESS_SETTLE_SCALE}`` | factor on the profile's settle times (1.0 on hardware)     |
    | dictionary   | ``${HARNESS_DICTIONARY}`` | comma-separated default-credential CSVs (default: the project's) |
    | wordlist     | ``${HARNESS_WORDLIST}``   | common-password list for 5.1-2 (default: the project's)      |

    Secrets (label passwords, keys) stay in the lab configuration: keywords that need them take
    them from there (`Log In`, the ``Check …`` keywords); never pass a secret as a keyword argument.

    = Running =

    | harness run PROFILE --lab LAB --runner robot                  | every unit; with several units pabot runs one process per unit |
    | harness run PROFILE --lab LAB --runner robot --robot-suites DIR | your own suites                                            |
    | robot --variable HARNESS_PROFILE:PROFILE --variable HARNESS_LAB:LAB --listener harness.robot.listener.ResultsListener SUITE | by hand |

    A unit's state (factory default, the current password) is kept for the whole Robot process,
    across suites, as the pytest suites keep it across modules.

    = Example =

    | ***** Settings *****
    | Library    harness.robot.HarnessLibrary
    |
    | ***** Test Cases *****
    | 5.1-4-2 User can change the password
    |     [Tags]    5.1-4-2    allure.label.provision:5.1-4
    |     Open Unit    state=logged_in
    |     ${result}=    Check User Can Change Password
    |     Conclude    ${result}
    """

    def __init__(self, profile: str | None = None, lab: str | None = None, runtime: str | None = None,
                 run_dir: str | None = None, units: str | None = None, unit: str | None = None,
                 settle_scale: float | None = None, dictionary: str | None = None,
                 wordlist: str | None = None) -> None:
        """Settings not given here come from the ``${HARNESS_…}`` variables (see `Settings`)."""
        SESSION.configure(profile=profile, lab=lab, runtime=runtime, run_dir=run_dir, units=units, unit=unit,
                          settle_scale=settle_scale, dictionary=dictionary, wordlist=wordlist)
        self.ROBOT_LIBRARY_LISTENER = ResultsListener(attached_by_library=True)

    # -- helpers -------------------------------------------------------------------------------------
    @staticmethod
    def _running() -> Running:
        return SESSION.running()

    def _device(self) -> Any:
        running = self._running()
        if running.device is None:
            raise AssertionError("no unit is open in this test: call `Open Unit` first")
        return running.device

    def _in_state(self, state: UnitState) -> Any:
        """The open unit in the state a test case needs (what the pytest ``device`` fixture does)."""
        device = self._device()
        device.ensure(state.value)
        self._running().ctx.use(device)
        return device

    # -- units and state -------------------------------------------------------------------------------
    @keyword
    @_noting_failures
    def open_unit(self, unit: str | None = None, state: UnitState = UnitState.any) -> str:
        """Open ``unit`` (default: the unit this run tests) and bring it into ``state``.

        The state is reached with the fewest procedure calls: a factory reset only when the unit is
        not known to be at factory default, a login only when there is no session. The transcripts
        of its links from now on are evidence of this test case. Returns the unit id.
        """
        running = self._running()
        SESSION.open()
        unit = unit or SESSION.default_unit()
        if unit is None:
            raise AssertionError("no unit: the profile declares none")
        device = SESSION.device(unit)
        running.device = device
        if running.scope == "unit":
            running.ctx.unit = unit  # the record names the unit the test actually used
        running.ctx.use(device)
        if running.scope == "unit":
            from harness.cases.runs import before_test
            before_test(running.ctx, device)
        device.ensure(state.value)
        running.ctx.use(device)  # links opened by ensure() are marked too
        return unit

    @keyword
    @_noting_failures
    def ensure_unit_state(self, state: UnitState) -> None:
        """Bring the open unit into ``state`` (see `Open Unit`)."""
        device = self._device()
        device.ensure(state.value)
        self._running().ctx.use(device)

    @keyword
    @_noting_failures
    def forget_unit_state(self) -> None:
        """Forget what the harness knows of the open unit's state (after changing it by hand).

        The next state request then proves the state on the unit instead of assuming it.
        """
        from harness.device import DeviceState

        device = self._device()
        device.state = DeviceState(procedure_calls=device.state.procedure_calls)

    @keyword
    @_noting_failures
    def log_in(self) -> None:
        """Log in to the open unit with the password the harness believes is current (at first the
        label password from the lab configuration)."""
        self._device().login_current()

    @keyword
    @_noting_failures
    def log_out(self) -> None:
        """Log out of the open unit; fails as a lab fault when the unit does not confirm it."""
        self._device().logout()

    @keyword
    @_noting_failures
    def try_login(self, user: str, password: str) -> str:
        """One login attempt with a public credential; returns its outcome.

        ``ok``; ``rejected`` or ``locked`` only when the unit printed the refusal *and* answered
        right after (otherwise ``unknown``); ``timeout`` on silence; ``error`` when the link failed.
        """
        attempt = self._device().try_login(user, password)
        if attempt.outcome in ("rejected", "locked") and not attempt.alive_after:
            return "unknown"
        return attempt.outcome

    @keyword
    @_noting_failures
    def factory_reset(self) -> str:
        """Run the profile's factory reset on the open unit; returns the procedure outcome."""
        return self._device().factory_reset().outcome

    # -- procedures and links ----------------------------------------------------------------------
    @keyword
    @_noting_failures
    def run_procedure(self, name: str, **variables: str) -> dict[str, Any]:
        """Run the profile's procedure ``name`` on the open unit with extra template ``variables``.

        Returns a dictionary with ``outcome`` (``ok``, a name of the profile's ``expect_one_of``, or
        ``timeout``), ``detail`` and ``captures`` (named groups the procedure captured), e.g.
        ``${r}[captures][version]``. A procedure does not change what the harness knows of the
        unit's state: use `Forget Unit State` after one that does.
        """
        result = self._device().run(name, **variables)
        return {"outcome": result.outcome, "detail": result.detail, "captures": dict(result.captures)}

    @keyword("Send To Link")
    @_noting_failures
    def send_to_link(self, text: str, link: str = "console") -> None:
        """Send one line of ``text`` on the open unit's ``link`` (a serial console)."""
        self._link(link).send(text)

    @keyword
    @_noting_failures
    def expect_on_link(self, pattern: str, link: str = "console", timeout: float | None = None) -> str:
        """Wait until ``pattern`` (a regular expression, or a prompt name of the profile) appears on
        ``link``; returns the matched text. Fails after ``timeout`` seconds (default: the link's)."""
        return self._link(link).expect(pattern, timeout).text

    @keyword
    @_noting_failures
    def drain_link(self, link: str = "console") -> str:
        """Forget the output of ``link`` not matched yet, and return it."""
        return self._link(link).drain()

    def _link(self, name: str) -> Any:
        device = self._device()
        link = device.link(name)
        self._running().ctx.use(device)
        return link

    # -- checks: one per automated TS 103 701 test case ------------------------------------------
    @keyword("Check ICS Justifications")
    @_noting_failures
    def check_ics_justifications(self) -> CheckResult:
        """4-1-1: the ICS justifies every recommendation not implemented and every provision
        declared not applicable."""
        return reporting.ics_justifications(SESSION.open())

    @keyword
    @_noting_failures
    def check_no_universal_default_password(self) -> CheckResult:
        """5.1-1-2 on the open unit, brought to factory default first: the label password
        works and is the unit's own; no public default credential logs in, before or after a
        factory reset. A refusal counts only when the unit printed it and answered right after."""
        device = self._in_state(UnitState.factory_default)
        return passwords.no_universal_default_password(self._running().ctx, device, SESSION.dictionary,
                                                       SESSION.observations)

    @keyword
    @_noting_failures
    def check_label_password_generation(self) -> CheckResult:
        """5.1-2-1: the declared generation mechanism and the label passwords of every unit show no
        counters, no derivation from public identifiers, no dictionary words and enough entropy."""
        return passwords.label_password_generation(SESSION.open(), SESSION.wordlist)

    @keyword
    @_noting_failures
    def check_label_passwords_resist_automated_attack(self) -> CheckResult:
        """5.1-2-2 across units (tag ``scope:cross_unit``): the label passwords that
        `Check No Universal Default Password` saw working, in any process and by any runner, show
        no regularity an automated attack could exploit. Run it after the units' tests."""
        return passwords.label_passwords_resist_attack(self._running().ctx, SESSION.open(), SESSION.observations,
                                                       SESSION.wordlist)

    @keyword
    @_noting_failures
    def check_user_can_change_password(self) -> CheckResult:
        """5.1-4-2 on the open unit, logged in first: every account (IXIT 1-AuthMech, and those
        5.1-1-2 found working) is changed with its documented procedure; the new password logs in
        and the old one is refused; the delivered passwords are restored."""
        return passwords.user_can_change_password(self._running().ctx, self._in_state(UnitState.logged_in),
                                                  SESSION.observations)

    @keyword
    @_noting_failures
    def check_disclosure_policy_declared(self) -> CheckResult:
        """5.2-1-1: IXIT 2-UserInfo locates the disclosure policy, gives a contact and the
        acknowledgement and status-update timelines."""
        return disclosure.policy_declared(SESSION.open())

    @keyword
    @_noting_failures
    def check_disclosure_policy_published(self) -> CheckResult:
        """5.2-1-2: the published policy is reachable without an account and says what IXIT
        2-UserInfo declares (security.txt per RFC 9116 where declared)."""
        bench = SESSION.open()
        return disclosure.policy_published(bench, documents.fetch_scope(bench), documents.fetch_ca(bench))

    @keyword
    @_noting_failures
    def check_support_period_declared(self) -> CheckResult:
        """5.3-13-1: IXIT 2-UserInfo declares the support period's end date and where it is
        published."""
        return support.support_declared(SESSION.open())

    @keyword
    @_noting_failures
    def check_support_period_published(self) -> CheckResult:
        """5.3-13-2: the support period is published where declared, readable without
        registration, and ends on the date the IXIT declares."""
        bench = SESSION.open()
        return support.support_published(bench, documents.fetch_scope(bench), documents.fetch_ca(bench))

    @keyword
    @_noting_failures
    def check_user_data_erasure(self) -> CheckResult:
        """5.11-1-2 on the open unit, logged in first: Wi-Fi credentials planted on the unit are
        gone after the documented erasure function, read back from the live unit."""
        return erasure.user_data_erasure(self._running().ctx, self._in_state(UnitState.logged_in))

    # -- verdicts and evidence ---------------------------------------------------------------------
    @keyword
    def combine_results(self, *results: CheckResult) -> CheckResult:
        """One result from several: the worst verdict wins (FAIL over INCONCLUSIVE over
        PENDING_REVIEW over PASS over NOT_APPLICABLE) and all evidence is kept."""
        return combine(list(results))

    @keyword
    def conclude(self, result: CheckResult) -> None:
        """End the test with the verdict of a check result (see `Test cases and verdicts`).

        PASS returns and the test goes on; any other verdict ends it. The first verdict of a test
        is the one recorded.
        """
        running = self._running()
        final = running.ctx.conclude(result)
        if final.verdict == Verdict.PASS:
            return
        if final.verdict == Verdict.FAIL:
            raise AssertionError(f"FAIL: {final.reason}")
        if final.verdict == Verdict.INCONCLUSIVE:
            raise InconclusiveError(f"INCONCLUSIVE: {final.reason}")
        raise SkipExecution(f"{final.verdict.value}: {final.reason}")

    @keyword
    def record_verdict(self, verdict: Verdict, reason: str) -> None:
        """End the test with a verdict the suite decided itself, e.g. from `Run Procedure` outcomes.

        The evidence is what `Add Evidence` and `Measure` added and the link transcripts.
        """
        running = self._running()
        # A verdict the suite decided rests on what the suite recorded (or the transcripts); the
        # harness's own note of the unit's state at the start is no observation of the behaviour.
        seen = [e.name for e in running.ctx.evidence if e.observed and e.name != "unit state at start"]
        seen += list(running.ctx.transcript_texts())
        evidence = [Evidence("observation", "observed by the suite", seen)] if seen else []
        self.conclude(CheckResult(verdict, reason, evidence))

    @keyword
    def add_evidence(self, name: str, data: Any, kind: str = "text") -> None:
        """Add a piece of evidence to this test case's record.

        ``kind``: ``text``, ``observation`` (a fact read from the unit), ``finding`` (a defect it
        showed), ``table`` (a list of dictionaries), ``measurement``, ``document``. The record is
        redacted before it is written, but do not add secrets.
        """
        self._running().ctx.add(Evidence(kind, name, data))

    @keyword
    def measure(self, name: str, value: float, unit: str = "") -> None:
        """Record a measurement (a number with its unit) on this test case's record."""
        self._running().ctx.measure(name, value, unit)

    @keyword
    def verdict_of(self, result: CheckResult) -> str:
        """The verdict of a check result as text (``PASS``, ``FAIL``, ``INCONCLUSIVE``, …)."""
        return Verdict(result.verdict).value
