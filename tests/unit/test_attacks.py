"""The dictionary attack against silent, announced and no lockouts (issue: silent lockouts must
not turn refusals from a locked account into "this credential does not work")."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from test_attacks_fake_device import FakeLockoutDevice

from harness.attacks import (
    BruteForceSettings,
    estimate_brute_force,
    format_estimate,
    interface_groups,
    run_dictionary,
    run_grouped,
    start_from_known_counter,
    wait_for_unlock,
)
from harness.checks import passwords as pw
from harness.profile.loader import load_profile
from harness.verdict import Verdict

ROOT = Path(__file__).resolve().parents[2]
KNOWN = ("admin", "Label-Pw-9x")


def creds(n: int, hit_at: int | None = None) -> list[pw.Credential]:
    out = [pw.Credential("root", f"guess{i}") for i in range(n)]
    if hit_at is not None:
        out[hit_at] = pw.Credential("root", "vizxv")
    return out


def judged(report) -> Verdict:  # type: ignore[no-untyped-def]
    return pw.judge_dictionary_attack(report.attempts, report.planned, "p", stopped=report.stopped).verdict


def test_silent_lock_never_trips_with_known_good_logins_in_between() -> None:
    dev = FakeLockoutDevice(deny=3, silent=True)
    report = run_dictionary(dev, creds(12), known_good=KNOWN, settings=dev.settings)
    assert len(report.attempts) == 12 and not report.locks and not report.stopped
    assert report.start is not None and report.start.state == "reset by a known-good login"
    assert judged(report) == Verdict.PASS
    # A known-good login follows every second refusal: it is what proves them judged.
    assert dev.answers().count("ok") == report.probes == 1 + 6


def test_silent_lock_is_found_and_the_locked_window_tried_again() -> None:
    """The device accepts root/vizxv, but the attack reaches it while the account is silently
    locked: a naive attack reads "refused"; this one sees the known-good password refused too,
    waits for the unlock and tries the window again, finding the credential (FAIL both ways)."""
    naive = FakeLockoutDevice(deny=3, silent=True, lock_s=0.3, extra_ok={("root", "vizxv")})
    naive_report = run_dictionary(naive, creds(8, hit_at=4), known_good=None, settings=naive.settings)
    assert judged(naive_report) == Verdict.PASS  # the false PASS the known-good logins prevent

    dev = FakeLockoutDevice(deny=3, silent=True, lock_s=0.1, extra_ok={("root", "vizxv")})
    settings = BruteForceSettings(lockout_poll_s=0.02, max_lockout_wait_s=2.0, probe_every=5)
    report = run_dictionary(dev, creds(8, hit_at=4), known_good=KNOWN, settings=settings)
    assert report.locks and report.locks[0].silent and report.locks[0].unlock.accepted
    assert report.locks[0].refusals_before == 5  # the run since the last accepted known-good login
    assert len(report.locks) == 1  # halved to 2 between known-good logins: below deny=3
    assert any(a.outcome == "ok" and a.password == "vizxv" for a in report.attempts)
    assert judged(report) == Verdict.FAIL
    assert len({(a.user, a.password) for a in report.attempts}) == 8


def test_a_lock_that_does_not_end_leaves_the_rest_untried() -> None:
    dev = FakeLockoutDevice(deny=2, silent=True, lock_s=60.0)
    settings = BruteForceSettings(lockout_poll_s=0.02, max_lockout_wait_s=0.1, probe_every=4)
    started = time.monotonic()
    report = run_dictionary(dev, creds(10), known_good=KNOWN, settings=settings)
    assert time.monotonic() - started < 5
    assert "did not end" in report.stopped
    result = pw.judge_dictionary_attack(report.attempts, report.planned, "p", stopped=report.stopped)
    assert result.verdict == Verdict.INCONCLUSIVE and "did not end" in result.reason
    assert any(e.name.startswith("lockouts met") for e in report.evidence())


def test_announced_lock_is_waited_out_and_the_credential_retried() -> None:
    dev = FakeLockoutDevice(deny=3, silent=False, lock_s=0.05)
    settings = BruteForceSettings(lockout_poll_s=0.02, max_lockout_wait_s=2.0, probe_every=10)
    report = run_dictionary(dev, creds(7), known_good=KNOWN, settings=settings)
    assert report.locks and not report.locks[0].silent
    assert judged(report) == Verdict.PASS
    assert {a.password for a in report.attempts if a.outcome == "rejected"} == {f"guess{i}" for i in range(7)}


def test_without_known_good_the_attack_cannot_see_a_silent_lock() -> None:
    dev = FakeLockoutDevice(deny=None)
    report = run_dictionary(dev, creds(5), known_good=None, settings=dev.settings)
    assert report.start is None and report.probes == 0 and len(report.attempts) == 5


def test_lock_left_by_an_earlier_test_is_waited_out_first() -> None:
    dev = FakeLockoutDevice(deny=None, silent=True)
    dev.lock(0.1)
    start = start_from_known_counter(dev, KNOWN, "login", dev.settings)
    assert start.usable and start.state == "waited out a lock left by an earlier test"
    assert start.unlock is not None and start.unlock.accepted and start.unlock.polls >= 2

    stuck = FakeLockoutDevice(deny=None, silent=True)
    stuck.lock(60)
    settings = BruteForceSettings(lockout_poll_s=0.02, max_lockout_wait_s=0.1)
    report = run_dictionary(stuck, creds(3), known_good=KNOWN, settings=settings)
    assert not report.attempts and report.stopped.startswith("the account was locked before the attack")
    assert judged(report) == Verdict.INCONCLUSIVE


def test_unlock_wait_is_bounded_in_time_and_count() -> None:
    dev = FakeLockoutDevice(deny=None)
    dev.lock(60)
    settings = BruteForceSettings(lockout_poll_s=0.05, max_lockout_wait_s=0.2)
    started = time.monotonic()
    unlock = wait_for_unlock(dev, KNOWN, "login", settings)
    assert not unlock.accepted and time.monotonic() - started < 1.0 and unlock.polls <= 6


def test_polling_outlasts_a_lock_that_each_refusal_restarts() -> None:
    """pam_faillock on some stacks counts the right password refused during a lock as one more
    failure: polling at a fixed interval shorter than the lock would never see it end."""
    dev = FakeLockoutDevice(deny=None, extend_on_refusal=True, lock_s=0.1)
    dev.lock()
    unlock = wait_for_unlock(dev, KNOWN, "login", BruteForceSettings(lockout_poll_s=0.02, max_lockout_wait_s=5.0))
    assert unlock.accepted and unlock.waited_s < 2.0 and unlock.polls >= 3


def test_time_budget_reports_the_untried_rest() -> None:
    dev = FakeLockoutDevice(deny=None)
    report = run_dictionary(dev, creds(50), known_good=KNOWN, settings=dev.settings, budget_s=0.0)
    assert "time budget" in report.stopped
    result = pw.judge_dictionary_attack(report.attempts, report.planned, "p", stopped=report.stopped)
    assert result.verdict == Verdict.INCONCLUSIVE and "time budget" in result.reason


def test_unanswered_attempt_stops_the_attack() -> None:
    dev = FakeLockoutDevice(deny=None, dead_after=4)
    report = run_dictionary(dev, creds(10), known_good=KNOWN, settings=dev.settings)
    assert report.attempts[-1].outcome == "timeout"
    assert judged(report) == Verdict.INCONCLUSIVE


def test_busybox_drop_counts_as_a_refusal() -> None:
    """BusyBox telnetd ends the connection after 3 failures; the telnet link reports that as a
    refusal with proof of life (a reconnect), which the attack counts like any refusal."""
    dev = FakeLockoutDevice(deny=None)
    report = run_dictionary(dev, creds(9), known_good=KNOWN, procedure="login_telnet", interface="telnet",
                            settings=dev.settings)
    assert len(report.attempts) == 9 and judged(report) == Verdict.PASS


def test_independent_interfaces_run_concurrently() -> None:
    settings = BruteForceSettings(independent_counters=["https"])
    assert interface_groups(["ssh", "https", "telnet"], settings) == [["https"], ["ssh", "telnet"]]
    both = threading.Barrier(2, timeout=5)
    seen: dict[str, str] = {}

    def work(name: str) -> str:
        if name in ("https", "ssh"):
            both.wait()  # only returns when the two run at the same time
        seen[name] = threading.current_thread().name
        return name.upper()

    assert run_grouped(["ssh", "https", "telnet"], settings, work) == {"ssh": "SSH", "https": "HTTPS",
                                                                        "telnet": "TELNET"}
    assert seen["ssh"] == seen["telnet"] != seen["https"]
    # Nothing declared independent: one after another, in this thread.
    assert run_grouped(["a", "b"], BruteForceSettings(), lambda n: threading.current_thread().name) == {
        "a": threading.current_thread().name, "b": threading.current_thread().name}


def test_estimate_before_a_run() -> None:
    profile = load_profile(ROOT / "device_profiles" / "sim-legacy.yaml")
    rows = estimate_brute_force(profile, 95)
    names = [r["interface"] for r in rows]
    assert "console" in names and "ssh" in names and "telnet" in names
    ssh = next(r for r in rows if r["interface"] == "ssh")
    assert ssh["s per attempt"] == 0.03 and ssh["estimate s"] > 0  # the profile declares its per-attempt time
    text = format_estimate(rows, units=3)
    assert "total" in text and "ssh" in text
