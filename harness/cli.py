"""`harness` command line.

Exit codes (of `harness run`, `report` and `demo`): 0 no FAIL and no INCONCLUSIVE on an applicable
mandatory provision; 1 a FAIL on one; 2 bad input or usage; 3 no such FAIL but an INCONCLUSIVE.
FAILs on recommendations are reported, not exit-coded.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness import __version__
from harness.profile import ConfigError, ConfigIssue, load_lab, load_profile, open_bench
from harness.profile.loader import lab_schema, profile_schema

EXIT_OK, EXIT_FAIL, EXIT_USAGE, EXIT_INCONCLUSIVE = 0, 1, 2, 3
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _suites_dir(given: str | None) -> Path:
    if given:
        return Path(given).resolve()
    for base in (Path.cwd(), PROJECT_ROOT):
        if (base / "test_suites" / "pytest").is_dir():
            return (base / "test_suites" / "pytest").resolve()
    raise ConfigError([ConfigIssue("test_suites/pytest", None, "", "suite directory not found; use --suites")])


def _robot_suites_dir(given: str | None) -> Path:
    if given:
        return Path(given).resolve()
    for base in (Path.cwd(), PROJECT_ROOT):
        if (base / "test_suites" / "robot").is_dir():
            return (base / "test_suites" / "robot").resolve()
    raise ConfigError([ConfigIssue("test_suites/robot", None, "", "Robot suite directory not found; use --robot-suites")])


RUNNERS = {"pytest": ("pytest",), "robot": ("robot",), "both": ("pytest", "robot")}


def _rootdir(args: argparse.Namespace) -> Path:
    return _suites_dir(args.suites).parent.parent


def _error(msg: str) -> int:
    from harness.report._text import terminal_safe
    print(f"harness: {terminal_safe(msg, keep_newlines=True)}", file=sys.stderr)  # may quote a simulator's or device's output
    return EXIT_USAGE


def _shown(text: object) -> str:
    """A file name from argv may hold undecodable bytes (surrogates): print them escaped, never raise."""
    return str(text).encode("utf-8", "backslashreplace").decode("utf-8")


def cmd_validate(args: argparse.Namespace) -> int:
    lab = None
    try:
        profile = load_profile(args.profile)
        if args.lab:
            lab = load_lab(args.lab)
            if args.resolve:
                open_bench(args.profile, args.lab).resolve_all()
    except ConfigError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        return EXIT_USAGE
    # The update package format: a built-in, or a plugin only the lab configuration can declare.
    from harness.firmware.formats import format_problems
    problems = format_problems(profile.updates.format, container=getattr(profile.updates, "container", None),
                               plugins=getattr(lab, "firmware_formats", None) if lab is not None else None)
    for problem in problems:
        print(f"{_shown(args.profile)}: updates.format: {problem}", file=sys.stderr)
    if problems:
        return EXIT_USAGE
    units = ", ".join(u.id for u in profile.units)
    print(f"{_shown(args.profile)}: OK — {_shown(profile.product.manufacturer)} {_shown(profile.product.model)}, units {units}, "
          f"{len(profile.procedures)} procedures")
    return EXIT_OK


def cmd_schema(args: argparse.Namespace) -> int:
    schema = lab_schema() if args.lab else profile_schema()
    text = json.dumps(schema, indent=2, sort_keys=False) + "\n"
    if args.out:
        Path(args.out).write_text(text)
        print(f"wrote {args.out}")
    else:
        sys.stdout.write(text)
    return EXIT_OK


def cmd_catalogue(args: argparse.Namespace) -> int:
    from harness.standard import format_catalogue, load_catalogue
    ics = None
    if args.profile:
        try:
            ics = load_profile(args.profile).ics
        except ConfigError as exc:
            for issue in exc.issues:
                print(issue, file=sys.stderr)
            return EXIT_USAGE
    print(format_catalogue(load_catalogue(args.edition), ics, only_automated=args.automated))
    return EXIT_OK


def cmd_sim(args: argparse.Namespace) -> int:
    from harness.sim import main as sim_main
    return sim_main(args.sim_args)


def _default_run_dir(profile_path: str, reports: str = "reports") -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return Path(reports) / f"{stamp}-{Path(profile_path).stem}"


# pytest plugins a conformance run never uses. labgrid's own plugin (the farm extra) reconfigures
# logging, and the harness drives labgrid itself; hypothesis and anyio (in a development install)
# cost about a second of start-up per run, which a farm running many short runs pays every time;
# pytest's unraisable-exception sweep runs full garbage collections at the end of every run (an
# exception in a finaliser is still printed by Python itself).
SUITE_PLUGIN_OPTIONS = ["-p", "no:cacheprovider", "-p", "no:labgrid", "-p", "no:hypothesispytest", "-p", "no:anyio",
                        "-p", "no:unraisableexception"]


def _pytest_cmd(args: argparse.Namespace, run_dir: Path, extra: list[str]) -> list[str]:
    cmd = [sys.executable, "-m", "pytest", str(_suites_dir(args.suites)), "--profile", args.profile,
           "--run-dir", str(run_dir), "--alluredir", str(run_dir / "allure-results"),
           *SUITE_PLUGIN_OPTIONS, "--rootdir", str(_rootdir(args)),
           "-o", "console_output_style=classic", "-v" if not args.quiet else "-q"]
    if args.lab:
        cmd += ["--lab", args.lab]
    if args.runtime:
        cmd += ["--runtime", args.runtime]
    for unit in args.unit or []:
        cmd += ["--unit", unit]
    return cmd + extra


def run_pytest(args: argparse.Namespace, run_dir: Path, extra: list[str]) -> int:
    cmd = _pytest_cmd(args, run_dir, extra)
    env = dict(os.environ)
    env.pop("HARNESS_RUN_DIR", None)
    return subprocess.run(cmd, env=env, check=False).returncode


def _absolute(args: argparse.Namespace) -> None:
    """pytest runs from the project root; paths the user gave are relative to their directory."""
    for name in ("profile", "lab", "runtime", "run_dir", "suites", "robot_suites"):
        value = getattr(args, name, None)
        if value:
            setattr(args, name, str(Path(value).resolve()))


def cmd_run(args: argparse.Namespace) -> int:
    if getattr(args, "place", None) or _lab_places(args):
        from harness.farm.places import run_with_places  # labgrid places: held for the whole run
        return run_with_places(args, _cmd_run, default_run_dir=_default_run_dir)
    return _cmd_run(args)


def _lab_places(args: argparse.Namespace) -> bool:
    """Does the lab configuration put units on labgrid places? (A broken one is reported later.)"""
    if not args.lab:
        return False
    try:
        return bool(getattr(load_lab(args.lab), "places", None))
    except ConfigError:
        return False


def _cmd_run(args: argparse.Namespace) -> int:
    try:
        bench = open_bench(args.profile, args.lab, runtime_path=args.runtime)
        for unit in args.unit or []:
            bench.unit(unit)
        bench.resolve_all(args.unit or None)
    except ConfigError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        return EXIT_USAGE
    reports = bench.lab.reports_dir
    if not args.run_dir:
        args.run_dir = str(_default_run_dir(args.profile, reports))
    _absolute(args)
    run_dir = Path(args.run_dir)
    extra = list(args.pytest_args or [])
    runners = RUNNERS[getattr(args, "runner", None) or "pytest"]
    if args.rerun:
        return _rerun(args, bench, run_dir, extra, runners)
    print(f"run directory: {run_dir}")
    if args.unit and "pytest" not in runners:  # the pytest plugin says it itself, once, at session start
        missing = bench.unresolved_passwords(list(args.unit))
        if missing:
            print("note: the test cases that compare units (5.1-1-2's uniqueness, 5.1-2-1) read every unit's "
                  "label password and will be INCONCLUSIVE for lack of:", file=sys.stderr)
            for problem in missing:
                print(f"  {problem}", file=sys.stderr)
    _print_estimate(bench, args)
    broken: list[str] = []  # a runner that ended in an error of its own: the run is not clean
    usage = False
    if "pytest" in runners:
        if _jobs(args, bench) > 1:
            code = _run_parallel(args, bench, run_dir, extra)
        else:
            code = run_pytest(args, run_dir, extra)
        if code not in (0, 1):  # pytest: 0 all passed, 1 some failed; anything else is a usage/internal error
            print(f"harness: pytest ended with exit code {code}", file=sys.stderr)
            if not (run_dir / "results").exists():
                return EXIT_USAGE
            broken.append(f"pytest exit code {code}")
            usage = usage or code in (4, 5)  # usage error, or nothing collected
    if "robot" in runners:
        # After pytest, never beside it: both drive the same units.
        from harness.farm.jobs import bound_pabot
        from harness.robot.runner import ROBOT_ERRORS, execute, plan
        steps = plan(_robot_run(args, bench, run_dir))
        code = execute(bound_pabot(steps, args.jobs) if getattr(args, "jobs", None) else steps)
        if code in ROBOT_ERRORS:
            if not (run_dir / "results").exists():
                return EXIT_USAGE
            broken.append(f"Robot exit code {code}")
            usage = usage or code == 252  # invalid data or command line
    final = _finish(run_dir, args)
    if broken and final != EXIT_FAIL:
        # A FAIL the device showed stands; otherwise a run whose runner broke is never clean.
        final = EXIT_USAGE if usage else EXIT_INCONCLUSIVE
        print(f"exit code {final}: the run did not complete ({'; '.join(broken)})")
    return final


def _print_estimate(bench: Any, args: argparse.Namespace) -> None:
    """How long the dictionary and brute-force test cases will take, before they start: a slow
    login (2-3 s per failure) times a dictionary is most of a run on real devices."""
    from harness.attacks import estimate_brute_force, format_estimate
    from harness.checks.passwords import load_dictionary
    creds: list[Any] = []
    for path in sorted((PROJECT_ROOT / "fixtures" / "dictionaries").glob("*.csv")):
        try:
            creds += load_dictionary(path)
        except (OSError, ValueError):
            continue
    units = len(args.unit or bench.profile.units)
    try:
        print(format_estimate(estimate_brute_force(bench.profile, creds), units=units))
    except Exception as exc:  # noqa: BLE001 - an estimate must never stop a run
        print(f"brute-force estimate unavailable: {exc}")


def _robot_run(args: argparse.Namespace, bench: object, run_dir: Path):  # type: ignore[no-untyped-def]
    from harness.robot.runner import RobotRun
    units = args.unit or [u.id for u in bench.profile.units]  # type: ignore[attr-defined]
    extra = [a for chunk in (getattr(args, "robot_args", None) or []) for a in shlex.split(chunk)]
    return RobotRun(profile=args.profile, lab=args.lab, runtime=args.runtime, run_dir=run_dir, units=list(units),
                    suites=_robot_suites_dir(getattr(args, "robot_suites", None)), extra=extra,
                    quiet=bool(args.quiet),
                    # A Robot-only run of the shipped suites records the assessor items itself (with
                    # `--runner both` the pytest suite writes them); a rerun repeats judged cases only.
                    assessor_items=getattr(args, "runner", "robot") == "robot" and not getattr(args, "rerun", None)
                    and getattr(args, "robot_suites", None) is None)


def _rerun(args: argparse.Namespace, bench: object, run_dir: Path, extra: list[str], runners: tuple[str, ...]) -> int:
    """Repeat the test cases whose standing verdict is the one asked for, with the runner(s) that
    gave it. A case the runners disagreed on (INCONCLUSIVE by the merge rule) is repeated by each."""
    from harness.results import latest_by_case, latest_by_runner
    if not args.run_dir:
        return _error("--rerun needs --run-dir of the earlier run")
    wanted = {"inconclusive": "INCONCLUSIVE", "fail": "FAIL"}[args.rerun]
    standing = latest_by_case(run_dir)
    picked: dict[str, list[dict]] = {r: [] for r in runners}
    for (tc, unit, runner), rec in latest_by_runner(run_dir).items():
        merged = standing.get((tc, unit), {})
        disputed = wanted == "INCONCLUSIVE" and bool(merged.get("derived_from"))
        if runner in picked and rec.get("name") and (rec["verdict"] == wanted or disputed):
            picked[runner].append(rec)
    if not any(picked.values()):
        print(f"no {wanted} test case to rerun in {run_dir}")
        return _finish(run_dir, args)
    if picked.get("pytest"):
        nodeids = sorted({r["name"] for r in picked["pytest"]})
        print(f"rerunning {len(nodeids)} {wanted} pytest test case(s)")
        _run_nodeids(args, run_dir, nodeids, extra)
    if picked.get("robot"):
        from harness.robot.runner import execute, rerun_plan
        print(f"rerunning {len(picked['robot'])} {wanted} Robot test case(s)")
        execute(rerun_plan(_robot_run(args, bench, run_dir), picked["robot"]))
    return _finish(run_dir, args)


def _run_nodeids(args: argparse.Namespace, run_dir: Path, nodeids: list[str], extra: list[str]) -> int:
    cmd = _pytest_cmd(args, run_dir, extra)
    suites = str(_suites_dir(args.suites))
    cmd = [c for c in cmd if c != suites] + nodeids
    env = dict(os.environ)
    env.pop("HARNESS_RUN_DIR", None)
    return subprocess.run(cmd, env=env, check=False, cwd=_rootdir(args)).returncode


def _jobs(args: argparse.Namespace, bench: object) -> int:
    """How many unit workers may run at once: --jobs, or one per unit with --parallel; 1 is serial."""
    units = len(dict.fromkeys(args.unit or [u.id for u in bench.profile.units]))  # type: ignore[attr-defined]
    jobs = getattr(args, "jobs", None)
    if jobs is None:
        jobs = units if args.parallel else 1
    return max(1, min(jobs, units))


def _run_parallel(args: argparse.Namespace, bench: object, run_dir: Path, extra: list[str]) -> int:
    """One pytest process per unit (at most --jobs at once), then one for the profile-level and
    cross-unit cases, which read the units' observations from the run directory."""
    from harness.farm.jobs import run_units
    units = list(dict.fromkeys(args.unit or [u.id for u in bench.profile.units]))  # type: ignore[attr-defined]
    env = dict(os.environ)
    env.pop("HARNESS_RUN_DIR", None)
    worker_opts = ["--scope", "unit"]  # verbose: its lines are the run's progress

    def command(unit: str) -> list[str]:
        sub = argparse.Namespace(**{**vars(args), "unit": [unit], "quiet": False})
        return _pytest_cmd(sub, run_dir, extra + worker_opts)

    jobs = _jobs(args, bench)
    print(f"{len(units)} unit(s), {jobs} at a time; each unit's console output in {run_dir / 'logs'}", flush=True)
    results = run_units(units, command, jobs=jobs, log_dir=run_dir / "logs", env=env, cwd=_rootdir(args))
    for res in results.values():
        print(f"unit {res.unit}: pytest exit code {res.code} in {res.seconds:.1f} s (log: {res.log})")
    print("profile-level and cross-unit test cases", flush=True)
    sub = argparse.Namespace(**{**vars(args), "unit": units})
    cmd = _pytest_cmd(sub, run_dir, extra + ["--scope", "profile", "--scope", "cross_unit"])
    return subprocess.run(cmd, env=env, check=False, cwd=_rootdir(args)).returncode


def _finish(run_dir: Path, args: argparse.Namespace) -> int:
    from harness.report import build_reports, exit_code, summary_lines
    if not (run_dir / "results").is_dir():
        return _error(f"{run_dir} has no results log")
    from harness.standard import CatalogueError, report_catalogue
    try:
        catalogue = report_catalogue(None, run_dir)  # the edition the profile chose (default V2.1.1)
    except CatalogueError as exc:
        return _error(str(exc))
    paths = build_reports(run_dir, catalogue=catalogue, allure=not getattr(args, "no_allure", False))
    model = paths.model
    for line in summary_lines(model):
        print(line)
    print(f"conformance report: {paths.html}")
    return exit_code(model)


def cmd_report(args: argparse.Namespace) -> int:
    from harness.report import build_reports, exit_code, summary_lines
    from harness.report.pdf import PDF_NAME, BrowserError, ChromiumMissing, write_pdf
    from harness.standard import CatalogueError, report_catalogue
    run_dir = Path(args.run_dir)
    if not (run_dir / "results").is_dir():
        return _error(f"{run_dir} has no results log")
    try:
        catalogue = report_catalogue(getattr(args, "edition", None), run_dir)
    except CatalogueError as exc:
        return _error(str(exc))
    paths = build_reports(run_dir, catalogue=catalogue, allure=not getattr(args, "no_allure", False))
    model = paths.model
    for line in summary_lines(model):
        print(line)
    print(f"conformance report: {paths.html}")
    if getattr(args, "pdf", False):
        # The HTML is written first: a missing or failing browser never costs the report itself.
        try:
            pdf = write_pdf(paths.html, run_dir / PDF_NAME, run_id=model.run.run_id,
                            title=f"EN 303 645 {model.run.catalogue} conformance report",
                            edition=model.run.catalogue, timeout=args.pdf_timeout)
        except (ChromiumMissing, BrowserError) as exc:
            return _error(f"no PDF: {exc}. The HTML report is written: {paths.html}")
        print(f"PDF report: {pdf}")
    return exit_code(model)


def _demo_in_namespace(args: argparse.Namespace) -> int | None:
    """Run the whole demo (simulators and suites) inside a fresh network namespace, so the port
    scan sees only the simulated units; then render the Allure HTML outside it (npx may need the
    package registry). None when namespaces are not available here: the demo runs as it is."""
    from harness.net.netns import Namespace, availability
    ok, why = availability()
    if not ok:
        print(f"note: no network namespace ({why}); network test cases may see this machine's other "
              f"listeners", file=sys.stderr)
        return None
    argv = [sys.executable, "-m", "harness.cli", "demo", "--out", args.out, "--sim-dir", args.sim_dir,
            "--units", str(args.units), "--time-scale", str(args.time_scale), "--runner", args.runner,
            "--settle-scale", str(_demo_settle_scale(args)),
            "--no-allure", "--no-netns"] + (["--quiet"] if args.quiet else []) + (["--serial"] if args.serial else [])
    for persona in args.persona or []:
        argv += ["--persona", persona]
    with Namespace.create("harness-demo") as ns:
        print(f"demo isolated in network namespace {ns.name}")
        code = subprocess.run(ns.exec_args(argv), check=False).returncode
    if not args.no_allure:
        from harness.report import build_reports
        for persona in args.persona or ["compliant", "legacy"]:
            if (Path(args.out) / persona / "results").is_dir():
                build_reports(Path(args.out) / persona, allure=True)
    return code


def _demo_settle_scale(args: argparse.Namespace) -> float:
    """The settle times the profiles declare are the real device's; the simulator runs its device
    delays at --time-scale, so the harness may wait that much less too (never below a tenth: the
    windows that must stay quiet still need to see the simulator's own scheduling)."""
    given = getattr(args, "settle_scale", None)
    if given is not None:
        return float(given)
    return 1.0 if args.time_scale >= 1.0 else max(0.1, float(args.time_scale))


def cmd_demo(args: argparse.Namespace) -> int:
    from harness.simctl import SimulatorError, SimulatorProcess
    if not args.no_netns:
        code = _demo_in_namespace(args)
        if code is not None:
            return code
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    profiles = PROJECT_ROOT / "device_profiles"
    codes = {}
    from harness.profile import load_profile
    for persona in args.persona or ["compliant", "legacy"]:
        profile_path = profiles / f"sim-{persona}.yaml"
        # Each simulated family's profile declares its own units (the camera and the plug two).
        units = min(args.units, len(load_profile(profile_path).units))
        sim = SimulatorProcess(persona, Path(args.sim_dir) / persona, units=units, time_scale=args.time_scale)
        try:
            sim.start()
        except SimulatorError as exc:
            return _error(str(exc))
        try:
            print(f"\n=== persona {persona}: simulator pid {sim.runtime.get('pid')}, units {', '.join(sim.runtime.get('units', {}))}")
            run_args = argparse.Namespace(profile=str(profile_path), lab=str(sim.lab_path),
                                          runtime=None, unit=[f"U{i}" for i in range(1, units + 1)],
                                          run_dir=str(out / persona), rerun=None,
                                          parallel=not args.serial, suites=None, quiet=args.quiet,
                                          pytest_args=["--settle-scale", str(_demo_settle_scale(args))],
                                          no_allure=args.no_allure, runner=args.runner, robot_suites=None,
                                          robot_args=[])
            codes[persona] = cmd_run(run_args)
        finally:
            sim.stop()
    print("\nDemo reports:")
    for persona, code in codes.items():
        print(f"  {persona:10s} exit {code}  {out / persona / 'conformance.html'}")
    return EXIT_OK if all(c in (0, 1, 3) for c in codes.values()) else EXIT_USAGE


def cmd_doctor(args: argparse.Namespace) -> int:
    import shutil
    checks = {
        "python": sys.version.split()[0],
        "harness": __version__,
        "pty support": "yes" if hasattr(os, "openpty") else "no",
        "mosquitto": shutil.which("mosquitto") or "not found (needed by the MQTT suites)",
        "node/npx (Allure 3 HTML)": shutil.which("npx") or "not found (Allure HTML report is skipped)",
    }
    for mod in ("serial", "pyvisa", "paho.mqtt", "robot", "pabot", "allure_pytest", "allure_robotframework",
                "cryptography"):
        try:
            m = __import__(mod, fromlist=["__version__"])
            checks[mod] = getattr(m, "__version__", "installed")
        except ImportError:
            checks[mod] = "MISSING"
    for k, v in checks.items():
        print(f"{k:28s} {v}")
    return EXIT_USAGE if "MISSING" in checks.values() else EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="harness", description="EN 303 645 / TS 103 701 conformance harness")
    p.add_argument("--version", action="version", version=f"harness {__version__}")
    sub = p.add_subparsers(dest="command", required=True)

    v = sub.add_parser("validate", help="check a device profile (and lab configuration)")
    v.add_argument("profile")
    v.add_argument("--lab")
    v.add_argument("--resolve", action="store_true", help="also resolve secrets and runtime references")
    v.set_defaults(func=cmd_validate)

    s = sub.add_parser("schema", help="write the JSON Schema of device profiles (or --lab configurations)")
    s.add_argument("--out")
    s.add_argument("--lab", action="store_true")
    s.set_defaults(func=cmd_schema)

    c = sub.add_parser("catalogue", help="EN 303 645 provisions and TS 103 701 test cases with coverage")
    c.add_argument("--profile", help="show applicability from this profile's ICS")
    c.add_argument("--edition", default="v2.1.1")
    c.add_argument("--automated", action="store_true", help="only test cases the harness automates")
    c.set_defaults(func=cmd_catalogue)

    sm = sub.add_parser("sim", help="run the reference simulator (see `harness sim --help`)", add_help=False)
    sm.add_argument("sim_args", nargs=argparse.REMAINDER)
    sm.set_defaults(func=cmd_sim)

    r = sub.add_parser("run", help="run the conformance suites against a device and write the reports")
    r.add_argument("profile")
    r.add_argument("--lab", help="lab configuration YAML")
    r.add_argument("--runtime", help="runtime facts file (overrides the lab configuration)")
    r.add_argument("--unit", action="append", help="unit id (repeatable); default all units")
    r.add_argument("--run-dir", help="run directory (default reports/<time>-<profile>)")
    r.add_argument("--rerun", choices=["inconclusive", "fail"], help="repeat only the test cases whose last "
                                                                      "verdict in --run-dir was this")
    r.add_argument("--parallel", action="store_true", help="pytest: one process per unit, then the cross-unit "
                                                            "cases (Robot always runs several units in parallel)")
    from harness.farm.jobs import jobs_arg
    r.add_argument("--jobs", "-j", type=jobs_arg, metavar="N",
                   help="run up to N units at once, one worker process per unit, then the cross-unit "
                        "cases (1 = serial; default 1, or one per unit with --parallel)")
    r.add_argument("--place", action="append", metavar="UNIT=PLACE",
                   help="run the unit on a labgrid place (needs the farm extra): UNIT=name, UNIT=tag=value[,…], "
                        "UNIT=+TOKEN (a reservation; + alone: LG_TOKEN), UNIT= (LG_PLACE); repeatable; "
                        "the coordinator is LG_COORDINATOR or --coordinator")
    r.add_argument("--coordinator", metavar="HOST:PORT", help="labgrid coordinator (default LG_COORDINATOR)")
    r.add_argument("--place-wait", type=float, default=600.0, metavar="SECONDS",
                   help="how long to queue for busy places before giving up (exit 3; default 600)")
    r.add_argument("--runner", choices=list(RUNNERS), default="pytest",
                   help="pytest suites, Robot suites (own processes; pabot with several units), or both "
                        "one after the other into the same results log (default pytest)")
    r.add_argument("--suites", help="pytest suite directory (default test_suites/pytest)")
    r.add_argument("--robot-suites", help="Robot suite directory or file (default test_suites/robot)")
    r.add_argument("--robot-args", action="append", default=[],
                   help="extra Robot options, shell-quoted, e.g. --robot-args '--include 5.1-1-2' (repeatable)")
    r.add_argument("--quiet", action="store_true")
    r.add_argument("--no-allure", action="store_true", help="skip rendering the Allure HTML report")
    r.add_argument("pytest_args", nargs="*", help="after --: extra pytest arguments (e.g. -k 5_1)")
    r.set_defaults(func=cmd_run)

    rp = sub.add_parser("report", help="rebuild the reports of a run from its results log")
    rp.add_argument("run_dir")
    rp.add_argument("--no-allure", action="store_true")
    rp.add_argument("--pdf", action="store_true",
                    help="also print conformance.pdf with headless Chromium (Debian package chromium)")
    rp.add_argument("--pdf-timeout", type=float, default=120.0, metavar="SECONDS",
                    help="give up on the PDF after this long (default 120)")
    rp.add_argument("--edition", help="report against this EN 303 645 edition (v2.1.1 or v3.1.3; default: "
                                      "the one the run's profile chose, else v2.1.1)")
    rp.set_defaults(func=cmd_report)

    d = sub.add_parser("demo", help="start the simulator personas and run everything against them")
    d.add_argument("--out", default="reports/demo")
    d.add_argument("--sim-dir", default=".sim")
    d.add_argument("--persona", action="append", choices=["compliant", "legacy", "camera", "plug"],
                   help="simulated device to run (repeatable; default compliant and legacy); camera and plug "
                        "are built unlike the hub (docs/personas/)")
    d.add_argument("--units", type=int, default=3, choices=[1, 2, 3],
                   help="units per persona, at most what its profile declares (the hub's U1..U3, the camera's "
                        "and the plug's U1..U2; 5.1-2-2 needs 2)")
    d.add_argument("--time-scale", type=float, default=0.05, help="simulator delay factor (1.0 = realistic)")
    d.add_argument("--settle-scale", type=float, default=None,
                   help="factor on the settle times the profiles declare (default: the time scale, at least 0.1)")
    d.add_argument("--runner", choices=list(RUNNERS), default="pytest", help="as for `harness run` (default pytest)")
    d.add_argument("--quiet", action="store_true")
    d.add_argument("--no-allure", action="store_true")
    d.set_defaults(func=cmd_demo)

    d.add_argument("--serial", action="store_true", help="one process for all units (default: one per unit)")
    d.add_argument("--no-netns", action="store_true",
                   help="do not isolate the demo in a network namespace (by default it is, when possible)")

    from harness.firmware.cli import register as register_firmware
    register_firmware(sub)
    sub.add_parser("netns", help="run a command in a fresh network namespace (see `harness netns run --help`)",
                   add_help=False)

    doc = sub.add_parser("doctor", help="check this machine for what the harness needs")
    doc.set_defaults(func=cmd_doctor)
    from harness.console_tool import add_parsers as add_console_parsers
    add_console_parsers(sub)  # `harness console` (prompt discovery) and `harness init` (a starting profile)
    from harness.assess.cli import add_parsers as add_assess_parsers
    add_assess_parsers(sub)  # `harness assess` (the assessor's open items and decisions)
    from harness.ics_tool import add_parsers as add_ics_parsers
    add_ics_parsers(sub)  # `harness ics init|export`
    from harness.farm.cli import add_parsers as add_farm_parsers
    add_farm_parsers(sub)  # remote benches (labgrid places)
    return p


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["netns"]:
        # `harness netns run -- CMD…`: a bench run isolated in a fresh network namespace.
        from harness.net.netns import main as netns_main
        return netns_main(argv[1:])
    if argv[:1] == ["sim"]:
        # The simulator owns its options (--persona, --defect …); argparse sub-parsers would
        # take them for ours.
        from harness.sim import main as sim_main
        return sim_main(argv[1:])
    parser = build_parser()
    passthrough: list[str] | None = None
    if argv[:1] == ["run"] and "--" in argv:
        # argparse gives `pytest_args` nothing once an option follows the profile, and then
        # rejects what comes after `--`: split it off here so `run P --lab L -- -k 5_1` works.
        cut = argv.index("--")
        argv, passthrough = argv[:cut], argv[cut + 1:]
    args = parser.parse_args(argv)
    if passthrough is not None:
        args.pytest_args = list(args.pytest_args or []) + passthrough
    try:
        return int(args.func(args) or 0)
    except ConfigError as exc:
        for issue in exc.issues:
            print(issue, file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted; finished results are in the run directory", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `harness … | head`: the reader left, nothing to report
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
