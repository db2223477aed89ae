"""What every runner records about a run and shows of a test case, whichever runner it is.

The pytest plugin and the Robot library both describe a writer session (profile, lab, units,
applicability from the ICS) and label test cases for Allure; these functions are that one
description, so the report sees the same facts from either runner.
"""

from __future__ import annotations

from typing import Any

from harness.profile.resolve import Bench
from harness.standard import load_catalogue
from harness.standard.model import Applicability


def applicability(bench: Bench, provision: str) -> Applicability:
    """Whether the provision applies to this product, from its ICS (with the reason)."""
    return load_catalogue().applicability(provision, bench.profile.ics)


def session_meta(bench: Bench, units: list[str], *, run_id: str, runner: str, argv: list[str]) -> dict[str, Any]:
    """The fields of a results-log session record (one per writer process)."""
    cat = load_catalogue()
    app = {}
    for pid in cat.provisions:
        a = cat.applicability(pid, bench.profile.ics)
        app[pid] = {"applicable": a.applicable, "reason": a.reason}
    return {"run_id": run_id, "runner": runner, "profile": bench.fingerprint(), "lab": bench.lab_fingerprint(),
            "units": list(units), "argv": list(argv), "applicability": app, "edition": cat.edition}


def allure_labels(test_case: str, provision: str, unit: str | None) -> list[tuple[str, str]]:
    """Allure labels of a test case: epic, feature (clause), story (provision), provision, ids."""
    cat = load_catalogue()
    prov = cat.provisions.get(provision)
    clause = prov.clause if prov else provision.split("-")[0]
    labels = [("epic", "EN 303 645"),
              ("feature", f"{clause} {cat.clauses.get(clause, '')}".strip()),
              ("story", f"{provision} {prov.summary if prov else ''}".strip()),
              ("provision", provision),
              ("ts103701", test_case),
              ("tag", test_case)]
    if prov:
        labels.append(("tag", "mandatory" if prov.mandatory else "recommendation"))
    if unit:
        labels.append(("unit", unit))
    return labels


def display_title(test_case: str, title: str, unit: str | None) -> str:
    return f"{test_case} {title}" + (f" [{unit}]" if unit and unit != "*" else "")


def after_test(ctx: Any, device: Any) -> None:
    """What every runner does when a test case on a unit ends, before its record is written: the
    identity of every instrument it used goes into its evidence, and a unit that stopped answering
    is power-cycled (when the profile can) so the run goes on — recovery is evidence, not a verdict."""
    from harness.verdict import Evidence, Verdict

    for name, evidence in device.instruments_used.items():
        ctx.add(Evidence("table", f"instrument {name}", [evidence]))
    device.instruments_used.clear()
    ended_clean = ctx.result is not None and ctx.result.verdict in (Verdict.PASS, Verdict.FAIL,
                                                                    Verdict.NOT_APPLICABLE)
    if ended_clean or not device.has("power_cycle"):
        return
    from harness.cases.resilience import _alive, recover
    if _alive(device):
        return
    done = recover(device)
    if done:
        ctx.add(Evidence("text", "recovery", f"the unit stopped answering; {done}"))
