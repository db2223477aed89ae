"""5.1-5-2 both ways, silent lockouts included: FAIL only when the right password logs in right
after the wrong-password run; a silent lock (the right password refused too) is a mechanism."""

from __future__ import annotations

from test_attacks_fake_device import FakeLockoutDevice

from harness.attacks import BruteForceSettings
from harness.cases.bruteforce import attack_interface
from harness.checks.bruteforce import Attempt, SilentLock, judge_brute_force
from harness.verdict import Verdict

SETTINGS = BruteForceSettings(lockout_poll_s=0.02, max_lockout_wait_s=2.0)


def refused(n: int) -> list[Attempt]:
    return [Attempt(i, "rejected", 0.01, True) for i in range(1, n + 1)]


def test_judge_no_lockout_needs_the_right_password_accepted_after() -> None:
    ruled_out = SilentLock(20, probed=True, locked=False, probe_outcome="ok")
    r = judge_brute_force("ssh", refused(20), 20, silent=ruled_out)
    assert r.verdict == Verdict.FAIL and "right password logged in right after" in r.reason
    r = judge_brute_force("ssh", refused(20), 20, silent=None, known_good=False)
    assert r.verdict == Verdict.INCONCLUSIVE and "silent lockout cannot be ruled out" in r.reason


def test_judge_silent_lock_is_a_mechanism() -> None:
    lock = SilentLock(20, probed=True, locked=True, probe_outcome="rejected", unlocked=True, unlock_s=61.2,
                      polls=13, poll_s=5.0)
    r = judge_brute_force("ssh", refused(20), 20, silent=lock)
    assert r.verdict == Verdict.PASS and "locked silently within 20" in r.reason and "61.2 s" in r.reason
    assert any(e.name == "silent lockout duration" and e.data["value"] == 61.2 for e in r.evidence)
    stuck = SilentLock(20, probed=True, locked=True, probe_outcome="rejected", unlocked=False, unlock_s=600)
    assert judge_brute_force("ssh", refused(20), 20, silent=stuck).verdict == Verdict.PASS
    unknown = SilentLock(20, probed=True, locked=None, probe_outcome="timeout", detail="no answer")
    assert judge_brute_force("ssh", refused(20), 20, silent=unknown).verdict == Verdict.INCONCLUSIVE


def test_silent_lockout_device_passes() -> None:
    dev = FakeLockoutDevice(deny=5, silent=True, lock_s=0.1)
    r = attack_interface(dev, "ssh", "login_ssh", "admin", "Label-Pw-9x", 20, SETTINGS)
    assert r.verdict == Verdict.PASS and "locked silently" in r.reason, r.reason
    assert dev.log[-1][3] == "ok"  # left usable: the right password works again
    assert any(e.name == "counter at start (ssh)" and e.data == "reset by a known-good login" for e in r.evidence)


def test_no_lockout_device_fails() -> None:
    dev = FakeLockoutDevice(deny=None)
    r = attack_interface(dev, "ssh", "login_ssh", "admin", "Label-Pw-9x", 20, SETTINGS)
    assert r.verdict == Verdict.FAIL, r.reason


def test_announced_lockout_passes_and_is_recovered() -> None:
    dev = FakeLockoutDevice(deny=5, silent=False, lock_s=0.05)
    r = attack_interface(dev, "https", "login_http", "admin", "Label-Pw-9x", 20, SETTINGS)
    assert r.verdict == Verdict.PASS and "after 5" in r.reason
    assert any(e.name == "after the test" and e.data[0]["right password accepted again"] for e in r.evidence)


def test_starts_from_a_known_counter_state() -> None:
    """An earlier test left 4 failures behind on a device that locks at 5: without the known-good
    login first, the lock would come after 1 wrong password and be misreported."""
    dev = FakeLockoutDevice(deny=5, silent=False, lock_s=0.05)
    dev.failures = 4
    r = attack_interface(dev, "https", "login_http", "admin", "Label-Pw-9x", 20, SETTINGS)
    assert r.verdict == Verdict.PASS and "after 5" in r.reason
    locked = FakeLockoutDevice(deny=5, silent=True)
    locked.lock(60)
    stuck = BruteForceSettings(lockout_poll_s=0.02, max_lockout_wait_s=0.1)
    r = attack_interface(locked, "ssh", "login_ssh", "admin", "Label-Pw-9x", 20, stuck)
    assert r.verdict == Verdict.INCONCLUSIVE and "known counter state" in r.reason


def test_without_known_good_no_fail() -> None:
    dev = FakeLockoutDevice(deny=None)
    r = attack_interface(dev, "ssh", "login_ssh", "admin", None, 20, SETTINGS)
    assert r.verdict == Verdict.INCONCLUSIVE


def test_unanswered_right_password_is_inconclusive() -> None:
    dev = FakeLockoutDevice(deny=None, dead_after=21)  # 1 start login + 20 wrong, then silence
    r = attack_interface(dev, "ssh", "login_ssh", "admin", "Label-Pw-9x", 20, SETTINGS)
    assert r.verdict == Verdict.INCONCLUSIVE and "could not be judged" in r.reason
