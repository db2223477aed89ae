"""`harness assess RUN_DIR`: the assessor's open items, and their decisions recorded into the run.

    harness assess RUN_DIR                       list the open items, then ask per item (on a terminal)
    harness assess RUN_DIR --list                only list them
    harness assess RUN_DIR --interactive         ask even when stdin is not a terminal (piped answers)
    harness assess RUN_DIR --decisions FILE      record the decisions of a file (docs/assessment.md)
    harness assess RUN_DIR --template FILE       write a decisions file to fill in for the open items

Every decision is appended to the run's results log at once (redacted like every record); the
reports are rebuilt afterwards.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

import yaml

from harness.assess.decisions import (
    FILE_SCHEMA,
    Decision,
    DecisionsError,
    EvidenceRef,
    load_decisions_file,
    override_problem,
    sha256_of,
    stale_reason,
)

EXIT_OK, EXIT_USAGE = 0, 2
MAX_TRIES = 3  # per prompt: a wrong answer is asked again at most this often, then the item is skipped
_VERDICT_KEYS = {"p": "PASS", "pass": "PASS", "f": "FAIL", "fail": "FAIL", "n": "NOT_APPLICABLE",
                 "na": "NOT_APPLICABLE", "n/a": "NOT_APPLICABLE", "not_applicable": "NOT_APPLICABLE"}


def add_parsers(sub: Any) -> None:
    """Register the assessor's sub-commands on the ``harness`` command."""
    a = sub.add_parser("assess", help="list a run's open assessor items and record the assessor's decisions",
                       description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("run_dir", help="run directory (holds results/)")
    a.add_argument("--decisions", help="record the decisions of this YAML file (schema in docs/assessment.md)")
    a.add_argument("--list", action="store_true", help="only list the open items")
    a.add_argument("--interactive", action="store_true",
                   help="ask per open item even when stdin is not a terminal")
    a.add_argument("--template", help="write a decisions file to fill in for the open items, then stop")
    a.add_argument("--assessor", help="name of the assessor deciding (asked once when interactive)")
    a.add_argument("--lab", help="lab configuration: its secrets are masked in what is recorded")
    a.add_argument("--no-report", action="store_true", help="do not rebuild the reports afterwards")
    a.add_argument("--edition", help="EN 303 645 edition of the report (default: the one the profile chose)")
    a.set_defaults(func=cmd_assess)


# --- open items ------------------------------------------------------------------------------------

def open_items(model: Any) -> list[dict[str, Any]]:
    """What still needs the assessor: PENDING_REVIEW cases, and catalogue test cases without a record."""
    items: list[dict[str, Any]] = []
    for c in model.cases:
        if c.verdict != "PENDING_REVIEW":
            continue
        ixit = [{"name": e.name, "data": e.data} for e in c.evidence
                if e.name.startswith("IXIT ") and (e.kind == "observation" or e.name == "IXIT not supplied")]
        needs = next((e.data for e in c.evidence if e.name == "a PASS needs"), "")
        items.append({"test_case": c.test_case, "unit": c.unit, "label": c.label, "title": c.title,
                      "question": c.question or c.reason, "pass_needs": needs, "ixit_to_read": c.ixit,
                      "ixit": ixit, "recorded": c.verdict})
    for p in model.provisions:
        if p.verdict == "PENDING_REVIEW" and p.unassessed and not p.results:
            # A provision no test case assesses (new in a later edition): decided as a provision.
            items.append({"test_case": "", "provision": p.id, "unit": None, "label": f"provision {p.id}",
                          "title": p.summary, "question": f"Does the product meet {p.id} ({p.summary.rstrip('.')})? "
                          f"No test case assesses it: {p.unassessed}.", "pass_needs": "", "ixit_to_read": [], "ixit": [],
                          "recorded": "PENDING_REVIEW"})
    catalogue = _catalogue()
    for p in model.provisions:
        for miss in p.missing:
            tc, _, unit = miss.partition(" [")
            unit = unit.rstrip("]")
            q = None
            if catalogue is not None and tc in catalogue.test_cases:
                from harness.assess.questions import question_for
                q = question_for(catalogue, tc)
            items.append({"test_case": tc, "unit": None if unit in ("any unit", "profile") else unit,
                          "label": miss, "title": p.summary,
                          "question": (f"(no runner recorded it: run it, or judge it by hand) {q.question}" if q else
                                       f"no runner recorded {miss}: run it, or judge it by hand ({p.id}: {p.summary})"),
                          "pass_needs": q.pass_needs if q else "", "ixit_to_read": q.documents if q else [],
                          "ixit": [], "recorded": "no record"})
    return items


def _catalogue() -> Any:
    try:
        from harness.standard import load_catalogue
        return load_catalogue()
    except Exception:  # noqa: BLE001 - the listing still names the test case without its question
        return None


def _short(data: Any, limit: int = 600) -> str:
    text = data if isinstance(data, str) else json.dumps(data, ensure_ascii=False, default=str)
    return text if len(text) <= limit else text[:limit] + " …"


def print_items(items: list[dict[str, Any]], out: TextIO, numbered: tuple[int, int] | None = None) -> None:
    """The items with their question and IXIT; ``numbered``: one item of a longer list (n, total)."""
    if not items:
        print("No open assessor items: every test case has a verdict.", file=out)
        return
    if numbered is None:
        print(f"{len(items)} open assessor item(s):", file=out)
    first, total = numbered or (1, len(items))
    for n, item in enumerate(items, start=first):
        print(f"\n[{n}/{total}] {item['label']} ({item['recorded']}) {item['title']}".rstrip(), file=out)
        print(f"  Question: {item['question']}", file=out)
        if item["pass_needs"]:
            print(f"  A PASS needs: {item['pass_needs']}", file=out)
        if item["ixit_to_read"]:
            print(f"  IXIT to read: {', '.join(item['ixit_to_read'])}", file=out)
        for entry in item["ixit"]:
            print(f"    {entry['name']}: {_short(entry['data'])}", file=out)


# --- recording -------------------------------------------------------------------------------------

def _terminal_text(text: str, keep_newlines: bool = False) -> str:
    from harness.report._text import terminal_safe
    return terminal_safe(text, keep_newlines=keep_newlines)


def _run_identity(model: Any) -> tuple[str, str]:
    return model.run.profile_sha256, str(model.run.product.get("firmware") or "")


def _already(decision: Decision, recorded: list[Any]) -> bool:
    """The same decision is in the log already (a file imported twice): not appended again."""
    for d in recorded:
        if (d.test_case, d.provision, d.unit, d.verdict, d.assessor, d.date, d.rationale, d.profile_sha256,
                d.firmware, d.overrides) == (decision.test_case, decision.provision, decision.unit, decision.verdict,
                                             decision.assessor, decision.date, decision.rationale,
                                             decision.profile_sha256, decision.firmware, decision.overrides):
            return True
    return False


def record_decisions(run_dir: Path, decisions: list[Decision], source: str, model: Any,
                     out: TextIO, log: Any = None) -> int:
    """Append decisions to the run's results log; says what each will do. Returns how many were written."""
    from harness.results import ResultsLog
    log = log or ResultsLog(run_dir, writer="assess")
    sha, firmware = _run_identity(model)
    by_key = {(c.test_case, c.unit): c for c in model.cases}
    written = 0
    for d in decisions:
        label = f"{d.test_case} [{d.unit or 'profile'}]" if d.test_case else f"provision {d.provision}"
        if _already(d, model.decisions):
            print(f"  {label}: already recorded", file=out)
            continue
        log.write_decision(d.to_record(source=source))
        written += 1
        stale = stale_reason({"profile_sha256": d.profile_sha256, "firmware": d.firmware}, sha, firmware)
        case = by_key.get((d.test_case, d.unit)) if d.test_case else None
        problem = override_problem(case.automated_verdict if case else "", {
            "verdict": d.verdict, "overrides": d.overrides, "rationale": d.rationale}) if case else ""
        note = f"STALE, not applied: {stale}" if stale else (f"not applied: {problem}" if problem else d.verdict)
        print(_terminal_text(f"  {label}: {note}"), file=out)
    return written


def _ask(prompt: str, read: Callable[[], str], out: TextIO) -> str | None:
    """One answer; None at end of input."""
    print(prompt, end="", file=out, flush=True)
    line = read()
    if line == "":
        print("", file=out)
        return None
    return line.strip()


def interactive(items: list[dict[str, Any]], model: Any, *, assessor: str | None, read: Callable[[], str],
                out: TextIO, decided: Callable[[Decision], None] | None = None) -> list[Decision]:
    """Ask per open item; stops at end of input or 'q'. Bounded: MAX_TRIES per question.
    ``decided`` is called with each decision the moment it is complete (it goes on disk at once)."""
    sha, firmware = _run_identity(model)
    if not assessor:
        for _ in range(MAX_TRIES):
            answer = _ask("Assessor name: ", read, out)
            if answer is None:
                return []
            if answer:
                assessor = answer
                break
        else:
            print("no assessor name given: nothing recorded", file=out)
            return []
    today = datetime.now(UTC).date().isoformat()
    decisions: list[Decision] = []
    for n, item in enumerate(items, start=1):
        print_items_safe([item], out, numbered=(n, len(items)))
        verdict = None
        for _ in range(MAX_TRIES):
            answer = _ask("Verdict [p]ass [f]ail [n]ot applicable, [s]kip, [q]uit: ", read, out)
            if answer is None or answer.lower() in ("q", "quit"):
                return decisions
            if answer.lower() in ("s", "skip", ""):
                break
            verdict = _VERDICT_KEYS.get(answer.lower())
            if verdict:
                break
            print("  answer p, f, n, s or q", file=out)
        if not verdict:
            continue
        rationale = ""
        for _ in range(MAX_TRIES):
            answer = _ask("Rationale (why): ", read, out)
            if answer is None:
                return decisions
            if answer:
                rationale = answer
                break
            print("  a decision needs a rationale", file=out)
        if not rationale:
            continue
        evidence: list[EvidenceRef] = []
        for _ in range(MAX_TRIES):
            answer = _ask("Evidence files read (paths, space separated; empty for none): ", read, out)
            if answer is None:
                return decisions
            paths = [Path(p) for p in answer.split()]
            absent = [str(p) for p in paths if not p.is_file()]
            if absent:
                print(f"  not a file here: {', '.join(absent)}", file=out)
                continue
            evidence = [EvidenceRef(ref=str(p), sha256=sha256_of(p)) for p in paths]
            break
        overrides = "" if item["recorded"] in ("PENDING_REVIEW", "no record") else item["recorded"]
        decision = Decision(test_case=item["test_case"], verdict=verdict, assessor=assessor, date=today,
                            rationale=rationale, profile_sha256=sha, firmware=firmware, unit=item["unit"],
                            overrides=overrides, evidence=evidence, provision=item.get("provision", ""))
        decisions.append(decision)
        if decided is not None:
            decided(decision)
    return decisions


# --- template --------------------------------------------------------------------------------------

def template_text(items: list[dict[str, Any]], model: Any) -> str:
    sha, firmware = _run_identity(model)
    head = {"schema": FILE_SCHEMA, "assessor": "", "date": datetime.now(UTC).date().isoformat(),
            "profile_sha256": sha, "firmware": firmware}
    lines = [f"# Decisions for run {model.run.run_id} ({model.run.profile_path}); fill in verdict and rationale.",
             "# verdict: PASS | FAIL | NOT_APPLICABLE. Schema: docs/assessment.md.",
             yaml.safe_dump(head, sort_keys=False, allow_unicode=True).rstrip(), "decisions:"]
    for item in items:
        lines.append(f"  # {item['question']}".replace("\n", " "))
        if item["ixit_to_read"]:
            lines.append(f"  # IXIT to read: {', '.join(item['ixit_to_read'])}")
        entry: dict[str, Any] = ({"test_case": item["test_case"]} if item["test_case"]
                                 else {"provision": item["provision"]})
        if item["unit"] not in (None, "*"):
            entry["unit"] = item["unit"]
        entry.update(verdict="", rationale="", evidence=[])
        text = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True)
        lines += ["  " + line for line in text.rstrip().splitlines()]
    return "\n".join(lines) + "\n"


# --- command ---------------------------------------------------------------------------------------

def _load_secrets(run_dir: Path, lab: str, model: Any) -> None:
    from harness.profile import open_bench
    bench = open_bench(model.run.profile_path, lab)
    bench.resolve_all()


def cmd_assess(args: argparse.Namespace, *, read: Callable[[], str] | None = None,
               out: TextIO | None = None) -> int:
    from harness.report.model import build_report_model
    from harness.standard import load_catalogue

    out = out or sys.stdout
    read = read or sys.stdin.readline
    run_dir = Path(args.run_dir)
    if not (run_dir / "results").is_dir():
        print(f"{run_dir} has no results log (results/)", file=sys.stderr)
        return EXIT_USAGE
    try:
        # The edition the report is written against (the profile's choice, or --edition): a
        # provision only that edition has is an open item too.
        from harness.standard import report_catalogue
        catalogue = report_catalogue(getattr(args, "edition", None), run_dir)
    except Exception as exc:  # noqa: BLE001 - an unknown edition is a usage error, said plainly
        print(f"cannot load the catalogue for this run: {exc}", file=sys.stderr)
        return EXIT_USAGE
    model = build_report_model(run_dir, catalogue)
    if getattr(args, "lab", None):
        try:
            _load_secrets(run_dir, args.lab, model)
        except Exception as exc:  # a lab file that does not load must not let secrets through
            print(f"cannot load the lab configuration's secrets: {exc}", file=sys.stderr)
            return EXIT_USAGE
    items = open_items(model)

    if args.template:
        Path(args.template).write_text(template_text(items, model), encoding="utf-8")
        print(f"{len(items)} open item(s) written to {args.template}", file=out)
        return EXIT_OK

    if args.decisions:
        try:
            decisions = load_decisions_file(args.decisions, test_cases=load_catalogue().test_cases)
        except DecisionsError as exc:
            for issue in exc.issues:
                print(issue, file=sys.stderr)
            return EXIT_USAGE
        print(f"{len(decisions)} decision(s) from {args.decisions}:", file=out)
        written = record_decisions(run_dir, decisions, str(args.decisions), model, out)
    else:
        asking = bool(items) and not args.list and (args.interactive or sys.stdin.isatty())
        if not asking:
            print_items_safe(items, out)
            print_not_applied(model, out)
            if items:
                print(f"\nDecide them: harness assess {run_dir} --interactive, or --decisions FILE "
                      f"(--template FILE writes one to fill in).", file=out)
            return EXIT_OK
        print(f"{len(items)} open assessor item(s); answer each (q quits, end of input stops).", file=out)
        from harness.results import ResultsLog
        counted = [0]
        log = ResultsLog(run_dir, writer="assess")  # one segment for this session of answers

        def decided(decision: Decision) -> None:
            counted[0] += record_decisions(run_dir, [decision], "interactive", model, out, log)

        try:
            interactive(items, model, assessor=args.assessor, read=read, out=out, decided=decided)
        except KeyboardInterrupt:
            print(f"\ninterrupted: {counted[0]} decision(s) recorded so far", file=out)
        written = counted[0]
    print(f"{written} decision(s) recorded in {run_dir / 'results'}", file=out)
    if written and not args.no_report:
        from harness.report import build_reports
        paths = build_reports(run_dir, catalogue=catalogue, allure=False)
        model = paths.model
        left = open_items(model)
        stale = sum(1 for d in model.decisions if d.status in ("stale", "rejected"))
        print(f"reports rebuilt: {paths.html}", file=out)
        print(f"{len(left)} open item(s) left; {stale} decision(s) stale or rejected (shown, not applied)", file=out)
        for p in model.psti:
            print(_terminal_text(f"  PSTI {p.number}: {p.statement}"), file=out)
    return EXIT_OK


def print_items_safe(items: list[dict[str, Any]], out: TextIO, numbered: tuple[int, int] | None = None) -> None:
    """The listing, made inert for a terminal (questions and IXIT values are supplier text)."""
    import io
    buf = io.StringIO()
    print_items(items, buf, numbered)
    out.write(_terminal_text(buf.getvalue(), keep_newlines=True))


def print_not_applied(model: Any, out: TextIO) -> None:
    """Decisions in the log that do not count (stale, rejected): the assessor must re-make them."""
    lines = [f"  {d.test_case} [{d.unit_label}] {d.verdict} by {d.assessor} ({d.date}): {d.status.upper()}, "
             f"{d.status_reason}" for d in model.decisions if d.status in ("stale", "rejected")]
    if lines:
        print(f"\n{len(lines)} recorded decision(s) not applied:", file=out)
        for line in lines:
            print(_terminal_text(line), file=out)
