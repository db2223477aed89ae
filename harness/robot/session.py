"""The harness state of one Robot process: bench, results log, devices and the running test case.

Robot creates a suite-scoped library instance per suite, but a unit's state (is it at factory
default, which password is current) must survive from one suite to the next exactly as it does
across pytest modules, so everything lasting lives here, once per process (one Robot process,
or one pabot worker). Settings come from the library's import arguments, else from the Robot
variables ``${HARNESS_PROFILE}``, ``${HARNESS_LAB}``, ``${HARNESS_RUNTIME}``,
``${HARNESS_RUN_DIR}``, ``${HARNESS_UNITS}``, ``${HARNESS_UNIT}`` (what ``harness run --runner
robot`` passes).
"""

from __future__ import annotations

import atexit
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.cases.data import (
    declassify_public_words,
    default_dictionary_paths,
    default_wordlist_path,
    load_dictionaries,
    load_words,
)
from harness.cases.runs import session_meta
from harness.profile import ConfigError, open_bench
from harness.profile.resolve import Bench
from harness.results import Observations, ResultsLog
from harness.testcase import TestCaseContext
from harness.verdict import LabFault

if TYPE_CHECKING:
    from harness.checks.passwords import Credential
    from harness.device import Device

VARIABLES = {
    "profile": "HARNESS_PROFILE",
    "lab": "HARNESS_LAB",
    "runtime": "HARNESS_RUNTIME",
    "run_dir": "HARNESS_RUN_DIR",
    "units": "HARNESS_UNITS",
    "unit": "HARNESS_UNIT",
    "settle_scale": "HARNESS_SETTLE_SCALE",
    "dictionary": "HARNESS_DICTIONARY",
    "wordlist": "HARNESS_WORDLIST",
}


class SessionError(Exception):
    """The harness cannot run here (no profile, a bad profile or lab configuration)."""


@dataclass
class Settings:
    profile: str | None = None
    lab: str | None = None
    runtime: str | None = None
    run_dir: str | None = None
    units: list[str] = field(default_factory=list)
    unit: str | None = None
    settle_scale: float = 1.0
    dictionary: list[str] = field(default_factory=list)
    wordlist: str | None = None


@dataclass
class Running:
    """The conformance test case Robot is executing now."""

    ctx: TestCaseContext
    key: str  # the Robot test's id and full name: start and end events must name the same test
    scope: str
    device: Device | None = None
    cause: str | None = None  # why a keyword failed, when it failed without a verdict
    recorded: bool = False
    conformance: bool = True  # False: a plain Robot test using the library; no record is written


def _robot_variable(name: str) -> Any:
    try:
        from robot.libraries.BuiltIn import BuiltIn, RobotNotRunningError
    except ImportError:
        return None
    try:
        return BuiltIn().get_variable_value("${" + name + "}")
    except RobotNotRunningError:
        return None


def _as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value]
    return [v.strip() for v in str(value).split(",") if v.strip()]


def project_root() -> Path:
    """Where fixtures/ is: the working directory when it has them, else the source checkout."""
    cwd = Path.cwd()
    if (cwd / "fixtures" / "dictionaries").is_dir():
        return cwd
    return Path(__file__).resolve().parents[2]


class RobotSession:
    def __init__(self) -> None:
        self.given: dict[str, Any] = {}
        self.settings: Settings | None = None
        self.bench: Bench | None = None
        self.log: ResultsLog | None = None
        self.run_dir: Path | None = None
        self.units: list[str] = []
        self.devices: dict[str, Device] = {}
        self.current: Running | None = None
        self.global_listener = False  # a --listener instance handles the records, not the library's
        self.warned_order = False
        self.verdicts: dict[str, str] = {}  # Robot full name → recorded verdict (for Allure's status)
        self._dictionary: list[Credential] | None = None
        self._wordlist: set[str] | None = None
        self._closing_registered = False
        self.items_written = False  # the assessor items of this run (harness.assess.items)

    # -- configuration -----------------------------------------------------------------------------
    def configure(self, **given: Any) -> None:
        """Settings from a library import; the first import that names a value wins."""
        for key, value in given.items():
            if value not in (None, "", []) and key not in self.given:
                self.given[key] = value

    def _settings(self) -> Settings:
        def pick(key: str) -> Any:
            if key in self.given:
                return self.given[key]
            return _robot_variable(VARIABLES[key])

        profile = pick("profile")
        if not profile:
            raise SessionError("no device profile: import the library with profile=… or run with "
                               "--variable HARNESS_PROFILE:<profile.yaml> (harness run --runner robot does)")
        run_dir = pick("run_dir") or _robot_variable("OUTPUT_DIR") or "."
        scale = pick("settle_scale")
        return Settings(profile=str(profile), lab=str(pick("lab")) if pick("lab") else None,
                        runtime=str(pick("runtime")) if pick("runtime") else None, run_dir=str(run_dir),
                        units=_as_list(pick("units")), unit=str(pick("unit")) if pick("unit") else None,
                        settle_scale=float(scale) if scale not in (None, "") else 1.0,
                        dictionary=_as_list(pick("dictionary")),
                        wordlist=str(pick("wordlist")) if pick("wordlist") else None)

    def open(self) -> Bench:
        """Open the bench and the results log once per process; later calls return the bench."""
        if self.bench is not None:
            return self.bench
        settings = self._settings()
        try:
            bench = open_bench(settings.profile, settings.lab, runtime_path=settings.runtime)
            units = settings.units or [u.id for u in bench.profile.units]
            for u in units + ([settings.unit] if settings.unit else []):
                bench.unit(u)
            bench.resolve_all(units)
        except ConfigError as exc:
            raise SessionError("\n".join(str(i) for i in exc.issues)) from None
        self.settings, self.units = settings, units
        self.run_dir = Path(settings.run_dir)
        declassify_public_words(self.dictionary_paths())
        self.log = ResultsLog(self.run_dir, writer="robot")
        self.log.write_session(**session_meta(bench, units, run_id=self.run_id, runner="robot",
                                              argv=list(sys.argv[1:])))
        self.bench = bench
        return bench

    @property
    def run_id(self) -> str:
        return self.run_dir.name if self.run_dir else ""

    def default_unit(self) -> str | None:
        """The unit a per-unit test case runs on in this process."""
        if self.settings and self.settings.unit:
            return self.settings.unit
        return self.units[0] if self.units else None

    # -- data --------------------------------------------------------------------------------------
    def dictionary_paths(self) -> list[Path]:
        given = self.settings.dictionary if self.settings else []
        return [Path(p) for p in given] if given else default_dictionary_paths(project_root())

    @property
    def dictionary(self) -> list[Credential]:
        if self._dictionary is None:
            self._dictionary = load_dictionaries(self.dictionary_paths())
        return self._dictionary

    @property
    def wordlist(self) -> set[str]:
        if self._wordlist is None:
            path = (self.settings.wordlist if self.settings else None) or default_wordlist_path(project_root())
            self._wordlist = load_words(path, self.dictionary)
        return self._wordlist

    @property
    def observations(self) -> Observations:
        if self.run_dir is None:
            raise SessionError("the session is not open")
        return Observations(self.run_dir)

    # -- devices -----------------------------------------------------------------------------------
    def device(self, unit_id: str) -> Device:
        """The unit's Device, kept for the whole process like pytest's session-scoped devices."""
        from harness.device import Device  # imported late: libdoc must not need the device stack

        bench = self.open()
        if unit_id not in self.devices:
            if unit_id not in self.units:
                raise LabFault(f"unit {unit_id!r} is not selected in this run (units: {', '.join(self.units)})")
            assert self.run_dir is not None and self.settings is not None
            self.devices[unit_id] = Device(bench, unit_id, transcript_dir=self.run_dir / "transcripts",
                                           settle_scale=self.settings.settle_scale)
            if not self._closing_registered:
                atexit.register(self.close)
                self._closing_registered = True
        return self.devices[unit_id]

    def close(self) -> None:
        for device in self.devices.values():
            device.close()
        self.devices.clear()

    # -- the running test case ---------------------------------------------------------------------
    def running(self) -> Running:
        if self.current is None:
            raise SessionError("no test is running under the harness listener: import "
                               "harness.robot.HarnessLibrary in the test's suite")
        return self.current

    def note_failure(self, exc: BaseException) -> None:
        """Remember why a keyword failed: the record names the cause when no verdict was reached."""
        if self.current is None or self.current.cause is not None:
            return
        if isinstance(exc, LabFault):
            self.current.cause = f"lab fault: {exc}"
        elif isinstance(exc, SessionError):
            self.current.cause = f"harness setup: {exc}"
        else:
            self.current.cause = f"harness error ({type(exc).__name__}): {exc}"


SESSION = RobotSession()
