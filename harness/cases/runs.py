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
            "units": list(units), "argv": list(argv), "applicability": app, "edition": cat.edition,
            "report_edition": getattr(getattr(bench.profile, "standard", None), "edition", None)}


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


def unit_state(device: Any) -> dict[str, Any]:
    """What the harness knows of the unit when a test case starts: the firmware read from it
    (when it was last read and whether it is the delivered one), the session, whether it is known
    to be in its factory state, whether a password differs from the delivered one (never the
    password itself) and what earlier test cases left that could not be undone."""
    fw = device.cache.get("firmware", {})
    state = device.state
    label = None
    try:
        label = device.label_password(state.user) if state.password is not None else None
    except Exception:  # noqa: BLE001 - a unit without accounts: nothing to compare
        label = None
    return {
        "firmware": fw.get("current"),
        "delivered firmware": fw.get("delivered"),
        "firmware read": fw.get("read_at"),
        "session": state.session,
        "factory state": state.factory_default,
        "password": ("delivered" if state.password is None or state.password == label else "changed by the harness"),
        "left by earlier test cases": sorted(_left(device)),
    }


def _left(device: Any) -> set[str]:
    """What earlier test cases changed that was not undone: carried flags plus settings written
    since the last factory reset (the harness marks the unit changed when a test writes to it)."""
    left = set(device.cache.get("left", set()))
    if device.state.factory_default is False and device.state.user_data:
        left.add("settings")
    return left


def read_firmware(device: Any, *, why: str) -> str | None:
    """Read the firmware version from the live unit (``read_version``), remember the first value
    as the delivered firmware. None when the profile cannot read it or the unit did not answer."""
    from harness.results import now_iso
    from harness.verdict import LabFault

    if not device.has("read_version"):
        return None
    fw = device.cache.setdefault("firmware", {})
    try:
        if device.state.session != "logged_in" and device.has("login"):
            device.ensure("logged_in")
        result = device.run("read_version")
    except LabFault as exc:
        device.state.session = "unknown"
        fw["error"] = f"{why}: {exc}"
        return None
    version = result.captures.get("version") if result.ok else None
    if version:
        fw.setdefault("delivered", version)
        fw.update(current=version, read_at=now_iso(), read_because=why)
    return version


# Test cases whose judgement already includes whether the unit survived (a crash after malformed
# input is the defect; a power cut is the test): their verdict is not second-guessed by the
# liveness probe after them.
JUDGES_LIVENESS = frozenset({"5.9-1-2", "5.9-2-2", "5.13-1-2"})


def probe(device: Any) -> tuple[bool | None, str]:
    """Proof of life through the profile's ``attention`` procedure: (True, …) the unit answered,
    (False, why) it did not or its link is down, (None, …) the profile declares no such probe."""
    from harness.verdict import LabFault

    if not device.has("attention"):
        return None, "the profile declares no attention procedure"
    try:
        result = device.run("attention")
        if result.outcome == "timeout":
            # One more chance: a busy bench or a device still printing a boot log can miss one
            # prompt; a dead or frozen unit misses both (bounded: twice the attention timeout).
            result = device.run("attention")
    except LabFault as exc:
        device.state.session = "unknown"
        return False, f"attention failed: {exc}"
    if result.outcome in ("logged_in", "logged_out"):
        device.state.session = result.outcome
        return True, f"attention → {result.outcome}"
    if result.ok:
        return True, "attention → ok"
    device.state.session = "unknown"
    return False, f"attention → {result.outcome}" + (f" ({result.detail})" if result.detail else "")


def before_test(ctx: Any, device: Any) -> None:
    """What every runner does when a test case on a unit starts: prove the unit alive (a unit
    that does not answer is power-cycled once when the profile can, else the test case is
    INCONCLUSIVE: nothing is judged on a dead or frozen unit), read the firmware when it may have
    changed (the first test case on the unit, or after one that installs firmware) and record the
    unit's state as evidence, so the report shows what each verdict was judged on."""
    from harness.verdict import Evidence, LabFault

    alive, detail = probe(device)
    if alive is False and not device.cache.get("recovery_failed"):
        from harness.cases.resilience import recover
        done = recover(device)
        if done:
            ctx.add(Evidence("text", "recovery", f"the unit did not answer at the start ({detail}); {done}"))
            alive, detail = probe(device)
            # One failed recovery is enough: later test cases only probe (bounded run time).
            device.cache["recovery_failed"] = alive is False
    if alive is False:
            raise LabFault(f"unit {device.unit_id} did not answer at the start of the test case ({detail}); "
                           "nothing was judged")

    fw = device.cache.setdefault("firmware", {})
    if "current" not in fw or fw.get("stale"):
        fw.pop("stale", None)
        read_firmware(device, why="start of " + ctx.test_case)
    state = unit_state(device)
    ctx.unit_state = state
    ctx.add(Evidence("observation", "unit state at start", state))


def _restore(ctx: Any, device: Any) -> list[str]:
    """Undo what the test case left that later test cases could be misled by."""
    from harness.isolation import leaves
    from harness.verdict import LabFault

    left = leaves(ctx.test_case)
    done: list[str] = []
    carried = device.cache.setdefault("left", set())
    if "password" in left and device.state.password is not None:
        user = device.state.user or device.default_user()
        label = device.label_password(user)
        if label is not None and device.state.password != label and device.has("change_password"):
            try:
                device.ensure("logged_in")
                result = device.run("change_password", user=user, password=device.state.password,
                                    new_password=label)
            except LabFault as exc:
                result = None
                done.append(f"could not restore the delivered password of {user!r}: {exc}")
            if result is not None and result.ok:
                device.state.password = None
                done.append(f"delivered password of {user!r} restored")
            elif result is not None:
                done.append(f"could not restore the delivered password of {user!r} ({result.outcome})")
        if device.state.password is not None and device.state.password != label:
            carried.add("password")
        else:
            carried.discard("password")
    if "lockout" in left and device.has("login") and device.state.session != "logged_in":
        try:
            device.login_current()  # a known-good login resets the failure counter; waits out a lock
            done.append("failure counter reset by a login with the known-good password")
            carried.discard("lockout")
        except LabFault as exc:
            carried.add("lockout")
            done.append(f"could not log in with the known-good password after the test: {exc}")
    if "firmware" in left:
        device.cache.setdefault("firmware", {})["stale"] = True
        before = device.cache["firmware"].get("delivered")
        now = read_firmware(device, why="end of " + ctx.test_case)
        if before and now and now != before:
            carried.add("firmware")
            done.append(f"the unit runs firmware {now}, not the delivered {before}")
        elif now:
            carried.discard("firmware")
        device.cache["firmware"].pop("stale", None)
    return done


_SETTLED = "_end_liveness"  # per test case context: {id(device): (alive, detail) or None}


def settle_verdict(ctx: Any, device: Any) -> tuple[bool | None, str] | None:
    """The end-of-test liveness probe and its consequence on the verdict, once per test case and
    unit: a PASS or FAIL on a unit that no longer answers becomes INCONCLUSIVE (the unit may have
    stopped before the observations the verdict rests on). Runners call it *before* they turn the
    verdict into their own status (pytest's outcome, Robot's status), so that status and the
    record say the same; ``after_test`` calls it too (a no-op the second time). Returns the probe
    (alive, detail), or None when no probe was due (a verdict that judges liveness itself)."""
    from harness.verdict import Verdict

    settled = ctx.__dict__.setdefault(_SETTLED, {})
    if id(device) in settled:
        return settled[id(device)]
    decided = ctx.result is not None and ctx.result.verdict in (Verdict.PASS, Verdict.FAIL)
    ended_clean = decided or (ctx.result is not None and ctx.result.verdict == Verdict.NOT_APPLICABLE)
    seen: tuple[bool | None, str] | None = None
    if (decided and ctx.test_case not in JUDGES_LIVENESS) or not ended_clean:
        seen = probe(device)
        alive, detail = seen
        if alive is False and decided:
            # After a lab fault nothing is PASS or FAIL: a unit that stopped answering during the
            # test case may have stopped before the observations the verdict rests on.
            old = ctx.result
            ctx.result = type(old)(Verdict.INCONCLUSIVE,
                                   f"the unit stopped answering during the test case ({detail}); its "
                                   f"{old.verdict.value} is not trusted: {old.reason}", list(old.evidence))
    settled[id(device)] = seen
    return seen


def settle_verdict_of(ctx: Any) -> None:
    """``settle_verdict`` for the unit the test case judges (a unit-scoped case; cross-unit and
    profile-level cases have no single unit whose silence would void the verdict)."""
    for device in list(getattr(ctx, "devices", [])):
        if ctx.unit and getattr(device, "unit_id", None) == ctx.unit:
            settle_verdict(ctx, device)


def after_test(ctx: Any, device: Any) -> None:
    """What every runner does when a test case on a unit ends, before its record is written: the
    identity of every instrument it used goes into its evidence, the end-of-test liveness probe
    (``settle_verdict``, if the runner has not run it yet), a unit that stopped answering is
    power-cycled (when the profile can) so the run goes on — recovery is evidence, not a
    verdict — and what the test case left on the unit is undone (test isolation)."""
    from harness.verdict import Evidence, LabFault

    for name, evidence in device.instruments_used.items():
        ctx.add(Evidence("table", f"instrument {name}", [evidence]))
    device.instruments_used.clear()
    seen = settle_verdict(ctx, device)
    if seen is not None:
        alive, _ = seen
        if alive is False and device.has("power_cycle"):
            from harness.cases.resilience import recover
            done = recover(device)
            if done:
                ctx.add(Evidence("text", "recovery", f"the unit stopped answering; {done}"))
    try:
        restored = _restore(ctx, device)
    except LabFault as exc:
        restored = [f"restoring the delivered state failed: {exc}"]
    if restored:
        ctx.add(Evidence("text", "unit after the test case", "; ".join(restored)))
