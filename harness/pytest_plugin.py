"""pytest plugin (``pytest11`` entry point ``conformance``).

Options bind a run to a device profile and a lab configuration; the ``conformance`` marker gives
each test its TS 103 701 id; fixtures hand suites a ``Device`` per unit and a test-case context
``tc``; every verdict is appended to the results log when its test case ends (teardown included).

Verdict → pytest outcome: PASS passes, FAIL fails, INCONCLUSIVE raises ``Inconclusive`` (Allure
shows it as *broken*), NOT_APPLICABLE and PENDING_REVIEW skip. An exception that escapes a test
without a verdict is a lab or harness fault: INCONCLUSIVE with the cause, never FAIL. The terminal
shows INCONCLUSIVE, PENDING_REVIEW and NOT_APPLICABLE as themselves (letters I, P, N; their own
counts in the summary line), not as failed or skipped.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from harness.isolation import phase
from harness.profile import ConfigError, open_bench
from harness.profile.resolve import Bench
from harness.results import Observations, ResultsLog
from harness.testcase import Inconclusive, TestCaseContext
from harness.verdict import CheckResult, LabFault, Verdict

if TYPE_CHECKING:
    from harness.device import Device

_STATE = pytest.StashKey[dict[str, Any]]()
_TC = pytest.StashKey[TestCaseContext]()
_PHASES = pytest.StashKey[dict[str, Any]]()

# "conceptual": a profile-level case that reads what the unit and cross-unit cases recorded in this
# run (a conceptual rule cross-checked with functional evidence): it runs after them, and is
# selected with the profile-level cases.
SCOPES = ("unit", "profile", "cross_unit", "conceptual")


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("conformance", "EN 303 645 conformance harness")
    group.addoption("--profile", help="Device profile YAML (what the device is and how to drive it).")
    group.addoption("--lab", help="Lab configuration YAML (this bench: secrets, runtime facts, networks).")
    group.addoption("--runtime", help="Runtime facts file; overrides the lab configuration's `runtime:`.")
    group.addoption("--unit", action="append", default=[],
                    help="Unit id to test (repeatable). Default: every unit of the profile.")
    group.addoption("--run-dir", help="Run directory for the results log and attachments "
                                      "(default: reports/<time>-<model>).")
    group.addoption("--scope", action="append", default=[], choices=SCOPES,
                    help="Only test cases of this scope (unit, profile, cross_unit, conceptual; profile "
                         "includes conceptual); repeatable.")
    group.addoption("--dictionary", action="append", default=[],
                    help="Default-credential dictionary CSV (user,password); repeatable. "
                         "Default: fixtures/dictionaries/{mirai,iot-defaults}.csv.")
    group.addoption("--wordlist", help="Common-password word list for 5.1-2 "
                                       "(default: fixtures/dictionaries/common-passwords.txt).")
    group.addoption("--settle-scale", type=float, default=1.0,
                    help="Multiply the profile's settle times (1.0 on real hardware).")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "conformance(test_case, scope='unit', state='any'): "
                                       "TS 103 701 test case id, its scope and the device state it needs")
    config.addinivalue_line("markers", "cross_unit: the test case judges facts from every unit")
    config.addinivalue_line("markers", "lab_broker: the suite's test cases use the lab broker; a run that "
                                       "selects one starts the broker in the background ahead of them")
    _VERDICT_COUNTS.clear()  # one pytest session per process, but pytester runs several in one
    if not config.getoption("profile", default=None):
        return
    is_worker = hasattr(config, "workerinput")
    run_dir = config.getoption("run_dir") or (os.environ.get("HARNESS_RUN_DIR") if is_worker else None)
    if not run_dir:
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        run_dir = str(Path("reports") / stamp)
    if not is_worker:
        os.environ["HARNESS_RUN_DIR"] = run_dir  # xdist workers inherit the same run directory
    config.stash[_STATE] = {"run_dir": Path(run_dir), "devices": {}, "bench": None, "log": None}


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """With --unit, say once (the controller, not each xdist worker) which other units' label
    passwords the cross-unit test cases will miss."""
    import sys

    config = session.config
    units = config.getoption("unit", default=None)
    if not units or hasattr(config, "workerinput") or not config.getoption("profile", default=None):
        return
    try:
        bench = open_bench(config.getoption("profile"), config.getoption("lab"),
                           runtime_path=config.getoption("runtime"))
        lines = bench.unresolved_note(list(units))
    except ConfigError:
        return  # _open reports it as a usage error
    st = _state(config)
    if st is not None and st["bench"] is None:
        st["opened"] = bench  # _open resolves this one instead of parsing the files a second time
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    for line in lines:
        if reporter is not None:
            reporter.write_line(line, yellow=True)
        else:
            print(line, file=sys.stderr)


def _state(config: pytest.Config) -> dict[str, Any] | None:
    return config.stash.get(_STATE, None)


def _open(config: pytest.Config) -> tuple[Bench, ResultsLog]:
    st = _state(config)
    if st is None:
        raise pytest.UsageError("conformance suites need --profile (and usually --lab)")
    if st["bench"] is None:
        try:
            bench = st.pop("opened", None) or open_bench(config.getoption("profile"), config.getoption("lab"),
                                                         runtime_path=config.getoption("runtime"))
            units = config.getoption("unit") or [u.id for u in bench.profile.units]
            for u in units:
                bench.unit(u)
            bench.resolve_all(units)
        except ConfigError as exc:
            raise pytest.UsageError(str(exc)) from None
        _load_public_words(config)
        log = ResultsLog(st["run_dir"], writer="pytest")
        st.update(bench=bench, log=log, units=units)
        _write_session(config, bench, log, units)
    return st["bench"], st["log"]


def _load_public_words(config: pytest.Config) -> None:
    """Passwords from public default-credential lists are not secrets: don't mask them."""
    from harness.cases.data import declassify_public_words
    declassify_public_words(dictionary_paths(config))


def _write_session(config: pytest.Config, bench: Bench, log: ResultsLog, units: list[str]) -> None:
    from harness.standard import load_catalogue
    cat = load_catalogue()
    applicability = {}
    for pid in cat.provisions:
        a = cat.applicability(pid, bench.profile.ics)
        applicability[pid] = {"applicable": a.applicable, "reason": a.reason}
    # Label passwords of units outside this run that the cross-unit test cases will miss (names only).
    unresolved = bench.unresolved_passwords(units) if config.getoption("unit") else []
    report_edition = getattr(getattr(bench.profile, "standard", None), "edition", None)
    log.write_session(run_id=_run_id(config), runner="pytest", profile=bench.fingerprint(),
                      unresolved_secrets=unresolved,
                      lab=bench.lab_fingerprint(), units=units, argv=list(config.invocation_params.args),
                      applicability=applicability, edition=cat.edition, report_edition=report_edition,
                      report_applicability=_report_applicability(report_edition, cat.edition, bench))


def _report_applicability(edition: str | None, tested: str, bench: Bench) -> dict[str, Any] | None:
    """Applicability computed with the edition the report is written against, when the profile
    chose another one than the test cases assess (its own conditions and features)."""
    if not edition:
        return None
    from harness.standard import load_catalogue
    try:
        cat = load_catalogue(edition)
    except Exception:  # noqa: BLE001 - the report says the edition is unknown; the run goes on
        return None
    if cat.edition == tested:
        return None
    out = {}
    for pid in cat.provisions:
        a = cat.applicability(pid, bench.profile.ics)
        out[pid] = {"applicable": a.applicable, "reason": a.reason}
    return out


def _run_id(config: pytest.Config) -> str:
    st = _state(config)
    return st["run_dir"].name if st else ""


def rootdir(config: pytest.Config) -> Path:
    return Path(str(config.rootpath))


def dictionary_paths(config: pytest.Config) -> list[Path]:
    given = config.getoption("dictionary")
    if given:
        return [Path(p) for p in given]
    folder = rootdir(config) / "fixtures" / "dictionaries"
    return [folder / "mirai.csv", folder / "iot-defaults.csv"]


# --- collection -----------------------------------------------------------------------------

def _marker(item: pytest.Item) -> pytest.Mark | None:
    return item.get_closest_marker("conformance")


def _scope_of(item: pytest.Item) -> str:
    m = _marker(item)
    return (m.kwargs.get("scope") if m else None) or "unit"


def _natural(test_case: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", test_case))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "unit_id" not in metafunc.fixturenames:
        return
    st = _state(metafunc.config)
    if st is None:
        metafunc.parametrize("unit_id", [pytest.param(None, marks=pytest.mark.skip(reason="no --profile"))])
        return
    bench, _ = _open(metafunc.config)
    metafunc.parametrize("unit_id", st["units"], ids=st["units"], scope="session")


def pytest_collection_modifyitems(session: pytest.Session, config: pytest.Config, items: list[pytest.Item]) -> None:
    scopes = config.getoption("scope")
    if scopes:
        kept = [i for i in items if _marker(i) is None or _scope_of(i) in scopes
                or (_scope_of(i) == "conceptual" and "profile" in scopes)]
        deselected = [i for i in items if i not in kept]
        if deselected:
            config.hook.pytest_deselected(items=deselected)
        items[:] = kept
    # Profile-level cases first (no device needed), then per unit in the standard's order (which
    # puts the state-changing 5.1-4 and the resetting 5.11-1 late), cross-unit cases last: they
    # read what the per-unit cases observed.
    order = {"profile": 0, "unit": 1, "cross_unit": 2, "conceptual": 3}
    index = {id(item): n for n, item in enumerate(items)}

    def key(item: pytest.Item) -> tuple[Any, ...]:
        mark = _marker(item)
        if mark is None:
            return (1, "", 0, (), index[id(item)])
        unit = getattr(item, "callspec", None) and item.callspec.params.get("unit_id") or ""
        # Test cases that leave what nothing can undo cheaply (other firmware) run last on their
        # unit, so no later verdict is judged on it (harness.isolation).
        return (order.get(_scope_of(item), 1), unit, phase(mark.args[0]), _natural(mark.args[0]), index[id(item)])

    items.sort(key=key)
    for item in items:
        unit = getattr(item, "callspec", None) and item.callspec.params.get("unit_id")
        if unit:
            item.add_marker(pytest.mark.xdist_group(f"unit-{unit}"))


def pytest_collection_finish(session: pytest.Session) -> None:
    """Write the plan: every conformance test case this process will run, per unit. A planned
    test case without a record at the end (a crash, a kill) is reported as unjudged."""
    st = _state(session.config)
    if st is None or st.get("log") is None:
        return
    cases = []
    for item in session.items:
        mark = _marker(item)
        if mark is None or not mark.args:
            continue
        scope = _scope_of(item)
        unit = getattr(item, "callspec", None) and item.callspec.params.get("unit_id")
        unit = unit if scope == "unit" else ("*" if scope == "cross_unit" else None)
        cases.append({"test_case": mark.args[0], "unit": unit, "name": item.nodeid})
    if cases:
        st["log"].write_plan("pytest", cases)


# --- fixtures --------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def bench(pytestconfig: pytest.Config) -> Bench:
    return _open(pytestconfig)[0]


@pytest.fixture(scope="session")
def results_log(pytestconfig: pytest.Config) -> ResultsLog:
    return _open(pytestconfig)[1]


@pytest.fixture(scope="session")
def run_dir(pytestconfig: pytest.Config) -> Path:
    _open(pytestconfig)
    return _state(pytestconfig)["run_dir"]


@pytest.fixture(scope="session")
def observations(run_dir: Path) -> Observations:
    return Observations(run_dir)


@pytest.fixture(scope="session")
def selected_units(pytestconfig: pytest.Config, bench: Bench) -> list[str]:
    return list(_state(pytestconfig)["units"])


@pytest.fixture(scope="session")
def _devices(pytestconfig: pytest.Config, run_dir: Path):  # type: ignore[no-untyped-def]
    devices: dict[str, Device] = _state(pytestconfig)["devices"]
    yield devices
    for device in devices.values():
        device.close()


@pytest.fixture
def tc(request: pytest.FixtureRequest, pytestconfig: pytest.Config, bench: Bench,
       results_log: ResultsLog, run_dir: Path):  # type: ignore[no-untyped-def]
    """The running test case: end it with ``conclude(tc, check_result)``.

    The record is written in this fixture's teardown, i.e. the moment the test case ends, from
    the verdict the test concluded or, failing that, from the exception that ended it.
    """
    mark = _marker(request.node)
    if mark is None or not mark.args:
        raise pytest.UsageError(f"{request.node.nodeid}: a conformance test needs @pytest.mark.conformance('<id>')")
    test_case = mark.args[0]
    unit = request.node.callspec.params.get("unit_id") if hasattr(request.node, "callspec") else None
    scope = mark.kwargs.get("scope", "unit")
    doc = (request.function.__doc__ or "").strip().splitlines()
    ctx = TestCaseContext(test_case=test_case, unit=unit if scope == "unit" else ("*" if scope == "cross_unit" else None),
                          title=doc[0] if doc else request.node.name, name=request.node.nodeid,
                          run_id=_run_id(pytestconfig), profile=bench.fingerprint())
    request.node.stash[_TC] = ctx
    _allure_labels(ctx, scope)
    from harness.standard import load_catalogue
    applicability = load_catalogue().applicability(ctx.provision, bench.profile.ics)
    if not applicability.applicable:
        ctx.conclude(CheckResult.not_applicable(applicability.reason))
        _write(ctx, results_log, run_dir, None, None)
        pytest.skip(f"NOT_APPLICABLE: {applicability.reason}")
    yield ctx
    verdict = reason = None
    if ctx.result is None:
        for when in ("setup", "call"):
            excinfo = request.node.stash.get(_PHASES, {}).get(when, (None, None))[1]
            if excinfo is None:
                continue
            if excinfo.errisinstance(pytest.skip.Exception):
                return  # skipped by pytest itself, not by a verdict: no record (shown unassessed)
            verdict, reason = Verdict.INCONCLUSIVE, _cause(excinfo)
            break
    _write(ctx, results_log, run_dir, verdict, reason)


def _write(ctx: TestCaseContext, log: ResultsLog, run_dir: Path, verdict: Verdict | None, reason: str | None) -> None:
    rec = ctx.record(log, verdict=verdict, reason=reason)
    _allure_attach(run_dir, rec)


@pytest.fixture
def device(tc: TestCaseContext, unit_id: str, bench: Bench, _devices: dict[str, Device], run_dir: Path,
           pytestconfig: pytest.Config, request: pytest.FixtureRequest, lab_services: dict[str, Any]):  # type: ignore[no-untyped-def]
    """The unit under test, brought into the state the test case declares (``state=``).

    After the test: the identity of every instrument the test used goes into its evidence, and a
    unit that stopped answering is power-cycled (when the profile can) so the run goes on."""
    from harness.device import Device  # imported late: the plugin loads in every pytest run

    dev = _devices.get(unit_id)
    if dev is None:
        dev = Device(bench, unit_id, transcript_dir=run_dir / "transcripts",
                     settle_scale=pytestconfig.getoption("settle_scale"))
        _devices[unit_id] = dev
        dev.prewarm()
    dev.instruments_used.clear()
    tc.use(dev)
    from harness.cases.runs import after_test, before_test
    before_test(tc, dev)
    mark = _marker(request.node)
    wanted = (mark.kwargs.get("state") if mark else None) or "any"
    dev.ensure(wanted)
    tc.use(dev)  # links opened by ensure() are marked too (their whole transcript so far is evidence)
    yield dev
    after_test(tc, dev)


@pytest.fixture(scope="session")
def lab_services(bench: Bench, run_dir: Path, _devices: dict[str, Any], request: pytest.FixtureRequest):  # type: ignore[no-untyped-def]
    """Lab services the profile needs for the run: the lab broker (plain, TLS and rogue Mosquitto
    instances) when an MQTT link says ``broker: lab…``, started at first use, or in the background
    when the first unit is set up if the run selected a ``lab_broker`` suite. Each unit is given an
    account on it."""
    from harness.labservices import LabServices, wants_lab_services
    # A lab broker to start (an MQTT link says `broker: lab…`) or an existing broker to observe
    # (the lab says `broker: {start: false, observer: …}`): never silently no broker at all.
    if not wants_lab_services(bench):
        yield bench.services
        return
    services = LabServices(bench, run_dir / "broker" / f"p{os.getpid()}")
    services.update(bench.services)
    bench.services = services
    # Ahead of the test cases that use it, while the first test case opens its links; a run of
    # console test cases starts no Mosquitto at all (a farm runs many such units at once).
    if any(item.get_closest_marker("lab_broker") for item in request.session.items):
        services.prestart()
    try:
        yield services
    finally:
        for device in _devices.values():
            device.close()  # MQTT links to the broker first
        services.close()


def device_for(request: pytest.FixtureRequest, unit_id: str) -> Device:
    """A unit's Device for cross-unit tests that need more than one."""
    return request.getfixturevalue("_devices")[unit_id]


def conclude(ctx: TestCaseContext, result: CheckResult) -> None:
    """End the test with the verdict of a check."""
    ctx.conclude(result)
    from harness.cases.runs import settle_verdict_of
    # The end-of-test liveness probe may still void a PASS or FAIL (a unit that stopped answering):
    # it runs now, so pytest's outcome shows the verdict the record gets.
    settle_verdict_of(ctx)
    v = ctx.result.verdict if ctx.result else result.verdict
    if v == Verdict.PASS:
        return
    if v == Verdict.FAIL:
        pytest.fail(f"FAIL: {ctx.result.reason}", pytrace=False)
    if v == Verdict.INCONCLUSIVE:
        raise Inconclusive(f"INCONCLUSIVE: {ctx.result.reason}")
    pytest.skip(f"{v.value}: {ctx.result.reason}")


def _allure_labels(ctx: TestCaseContext, scope: str) -> None:
    try:
        import allure
    except ImportError:  # allure-pytest is a dependency; tolerate its absence in odd setups
        return
    from harness.standard import load_catalogue
    cat = load_catalogue()
    prov = cat.provisions.get(ctx.provision)
    clause = prov.clause if prov else ctx.provision.split("-")[0]
    allure.dynamic.epic("EN 303 645")
    allure.dynamic.feature(f"{clause} {cat.clauses.get(clause, '')}".strip())
    allure.dynamic.story(f"{ctx.provision} {prov.summary if prov else ''}".strip())
    allure.dynamic.label("provision", ctx.provision)
    allure.dynamic.label("ts103701", ctx.test_case)
    allure.dynamic.tag(ctx.test_case)
    if prov:
        allure.dynamic.tag("mandatory" if prov.mandatory else "recommendation")
    if ctx.unit:
        allure.dynamic.label("unit", ctx.unit)
    allure.dynamic.title(f"{ctx.test_case} {ctx.title}" + (f" [{ctx.unit}]" if ctx.unit and ctx.unit != "*" else ""))


# --- recording -------------------------------------------------------------------------------

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]):  # type: ignore[no-untyped-def]
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    item.stash.setdefault(_PHASES, {})[report.when] = (report, call.excinfo)
    verdict = _verdict_of_phase(item, report, call)
    if verdict:
        # An attribute, not user_properties (that list is shared by every phase's report); it
        # travels with the report from an xdist worker to the controller.
        report.conformance_verdict = verdict  # type: ignore[attr-defined]
        ctx = item.stash.get(_TC, None)
        reason = ctx.result.reason if ctx is not None and ctx.result is not None else _cause(call.excinfo) \
            if call.excinfo is not None else ""
        report.conformance_reason = _redacted(reason)  # type: ignore[attr-defined]
    if report.when == "teardown":
        _teardown_changed_verdict(item, report)


def _teardown_changed_verdict(item: pytest.Item, report: pytest.TestReport) -> None:
    """Safety net: a verdict changed after the call phase (a test that concluded without
    ``conclude``, then a unit that stopped answering voided it) must not pass silently while the
    record says otherwise. The record is written before this report (the tc fixture's teardown)."""
    ctx = item.stash.get(_TC, None)
    call = item.stash.get(_PHASES, {}).get("call", (None, None))[0]
    said = getattr(call, "conformance_verdict", None) if call is not None else None
    final = Verdict(ctx.result.verdict).value if ctx is not None and ctx.result is not None else None
    if said and final and final != said and report.passed:
        report.outcome = "failed"
        report.longrepr = f"{final}: {ctx.result.reason}"
        report.conformance_verdict = final  # type: ignore[attr-defined]
        report.conformance_reason = _redacted(ctx.result.reason)  # type: ignore[attr-defined]


def _verdict_of_phase(item: pytest.Item, report: pytest.TestReport, call: pytest.CallInfo[Any]) -> str | None:
    """The verdict this phase's report stands for: the concluded one, or INCONCLUSIVE for an
    exception that ended a conformance test without one (the record says the same)."""
    ctx = item.stash.get(_TC, None)
    if ctx is None or report.when == "teardown":
        return None
    if report.when == "setup" and report.passed:
        return None
    if ctx.result is not None:
        return Verdict(ctx.result.verdict).value
    if report.failed:
        return Verdict.INCONCLUSIVE.value
    return None


# Verdicts pytest shows as themselves: the category (terminal summary), the progress letter, the word.
_TEST_STATUS = {
    (Verdict.INCONCLUSIVE.value, "failed"): ("inconclusive", "I", ("INCONCLUSIVE", {"yellow": True})),
    (Verdict.PENDING_REVIEW.value, "skipped"): ("pending_review", "P", ("PENDING_REVIEW", {"cyan": True})),
    (Verdict.NOT_APPLICABLE.value, "skipped"): ("not_applicable", "N", ("NOT_APPLICABLE", {"blue": True})),
}


def pytest_report_teststatus(report: pytest.TestReport, config: pytest.Config) -> Any:
    verdict = getattr(report, "conformance_verdict", None)
    if not verdict:
        return None
    return _TEST_STATUS.get((verdict, report.outcome))


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    verdict = getattr(report, "conformance_verdict", None)
    if verdict:
        _VERDICT_COUNTS[report.nodeid] = verdict  # a later phase's (a settled verdict) replaces the earlier


_VERDICT_COUNTS: dict[str, str] = {}  # nodeid -> the verdict its reports last said


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    if not _VERDICT_COUNTS:
        return
    order = [v.value for v in (Verdict.PASS, Verdict.FAIL, Verdict.INCONCLUSIVE, Verdict.PENDING_REVIEW,
                               Verdict.NOT_APPLICABLE)]
    tally = Counter(_VERDICT_COUNTS.values())
    counts = ", ".join(f"{tally[v]} {v}" for v in order if tally.get(v))
    # Reports in our own categories do not reach pytest's FAILURES / ERRORS sections: their reasons here.
    inconclusive = terminalreporter.stats.get("inconclusive", [])
    if inconclusive:
        terminalreporter.section("INCONCLUSIVE (the lab could not judge)", sep="-", yellow=True)
        for rep in inconclusive:
            reason = " ".join(str(getattr(rep, "conformance_reason", "") or "").split())
            terminalreporter.write_line(f"{rep.nodeid}: {reason[:300]}")
    terminalreporter.write_line(f"conformance verdicts (test case records): {counts}; "
                                "INCONCLUSIVE is a lab-side stop, PENDING_REVIEW awaits the assessor "
                                "(harness assess RUN_DIR)")


def _redacted(text: str) -> str:
    from harness.redact import REDACTOR
    return REDACTOR.redact(str(text))


def _cause(excinfo: Any) -> str:
    exc = excinfo.value
    if isinstance(exc, LabFault):
        return f"lab fault: {exc}"
    return f"harness error ({type(exc).__name__}): {exc}"


def _allure_attach(run_dir: Path, rec: Any) -> None:
    try:
        import allure
    except ImportError:
        return
    import json
    for att in rec.attachments:
        try:
            allure.attach.file(str(run_dir / att.path), name=att.name, attachment_type=allure.attachment_type.TEXT)
        except Exception:  # noqa: BLE001 - evidence is already on disk; Allure is a view of it
            pass
    summary = {"verdict": rec.verdict.value if hasattr(rec.verdict, "value") else rec.verdict,
               "reason": rec.reason, "evidence": [e.to_dict() for e in rec.evidence]}
    from harness.redact import REDACTOR
    # Values before serialising (an escaped secret no longer reads as itself), the text after;
    # ensure_ascii=False so a non-ASCII secret is not hidden behind \uXXXX escapes.
    text = json.dumps(REDACTOR.redact_obj(summary), indent=2, default=str, ensure_ascii=False)
    allure.attach(REDACTOR.redact(text), name="verdict and evidence",
                  attachment_type=allure.attachment_type.JSON)


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", text).strip("-").lower()


@pytest.hookimpl(tryfirst=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    """A conformance run's process ends with its session (`harness run` starts one per run).
    The interpreter's last garbage collections over everything the run loaded cost a farm ~0.1 s
    per run and find nothing of ours (every record is on disk, every link and broker closed by the
    fixtures): at exit, what is still alive is frozen out of them. At exit only, so that a process
    running several sessions (pytest.main from a lab's own script) keeps collecting between them."""
    global _FREEZE_AT_EXIT
    if _state(config) is not None and not _FREEZE_AT_EXIT:
        import atexit
        import gc
        atexit.register(gc.freeze)
        _FREEZE_AT_EXIT = True


_FREEZE_AT_EXIT = False
