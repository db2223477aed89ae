"""The camera simulator's pure rules: pam_faillock, the web login limiter, label passwords,
defect switches (harness.sim.camera.model)."""

from __future__ import annotations

import re

import pytest

from harness.sim.camera import model
from harness.sim.camera.model import DefectError, Defects, Faillock, RateLimit


def test_faillock_locks_after_deny_failures_and_unlocks_after_unlock_time() -> None:
    lock = Faillock(deny=5, unlock=60.0)
    for t in range(4):
        lock.record(False, float(t))
        assert not lock.locked(float(t))
    lock.record(False, 4.0)
    assert lock.locked(5.0)
    assert lock.locked(63.9)
    assert not lock.locked(64.1)
    assert lock.failures == []  # the tally starts over once the lock has passed


def test_faillock_success_resets_the_count() -> None:
    lock = Faillock(deny=5, unlock=60.0)
    for t in range(4):
        lock.record(False, float(t))
    lock.record(True, 4.0)
    lock.record(False, 5.0)
    assert not lock.locked(5.0)


def test_faillock_wrong_password_during_the_lock_extends_it() -> None:
    lock = Faillock(deny=5, unlock=10.0)
    for t in range(5):
        lock.record(False, float(t))
    lock.record(False, 12.0)  # the unit records a wrong password during the lock
    assert lock.locked(20.0)
    assert not lock.locked(22.5)


def test_rate_limit_blocks_after_limit_and_announces_the_rest() -> None:
    limit = RateLimit(limit=5, block=60.0)
    for t in range(5):
        assert limit.remaining(float(t)) == 0.0
        limit.record(False, float(t))
    assert limit.remaining(10.0) == pytest.approx(54.0)
    assert limit.remaining(70.0) == 0.0
    limit.record(True, 70.0)
    assert limit.failures == 0


def test_label_passwords_are_grouped_random_and_avoid_taken_ones() -> None:
    labels = {model.label_password() for _ in range(50)}
    assert len(labels) == 50
    for label in labels:
        assert re.fullmatch(r"[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}", label)
        assert set(label.replace("-", "")) <= set(model.LABEL_ALPHABET)


def test_identity_is_not_the_hubs_dialect() -> None:
    one, two = model.identity(1), model.identity(2)
    assert one.serial != two.serial and one.mac != two.mac
    assert one.serial.startswith("LC3-") and not one.serial.startswith("SIM-")


def test_defects_parse_known_names_and_refuse_others() -> None:
    assert Defects.parse([]) == Defects()
    chosen = Defects.parse(["uart_root_shell", "cloud_plaintext"])
    assert chosen.uart_root_shell and chosen.cloud_plaintext and not chosen.service_account
    assert chosen.names() == ["uart_root_shell", "cloud_plaintext"]
    with pytest.raises(DefectError):
        Defects.parse(["debug_shell"])
    assert set(model.DEFECTS) == {"uart_root_shell", "no_ssh_lockout", "service_account", "cloud_plaintext",
                                  "telnet_enabled"}


def test_addresses_keep_apart_from_the_hub_and_the_plug() -> None:
    assert model.unit_address(0, 1) == "127.91.0.1"
    assert model.cloud_address(0) == "127.91.255.1"
    assert model.cloud_address(1) != model.cloud_address(0)
