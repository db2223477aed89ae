"""Scope: declared addresses (existing rule) and the new per-host port rules."""

from __future__ import annotations

import pytest

from harness.scope import OutOfScope, Scope


def test_check_host_unchanged() -> None:
    scope = Scope(["127.0.0.1", "10.0.0.0/24"], timeout=3.0)
    assert scope.timeout == 3.0
    assert scope.check_host("127.0.0.1") == "127.0.0.1"
    assert scope.check_host("10.0.0.77") == "10.0.0.77"
    with pytest.raises(OutOfScope, match="outside the declared scope"):
        scope.check_host("127.0.0.2")
    with pytest.raises(OutOfScope, match="nothing declared"):
        Scope().check_host("127.0.0.1")


def test_declared_host_without_port_rules_allows_every_port() -> None:
    scope = Scope(["127.77.0.1"])
    for port in (1, 22, 40000, 65535):
        assert scope.check_target("127.77.0.1", port) == "127.77.0.1"
        assert scope.check_target("127.77.0.1", port, "udp") == "127.77.0.1"
    address, rule = scope.port_rule("127.77.0.1")
    assert address == "127.77.0.1" and rule.unrestricted


def test_undeclared_host_is_refused_whatever_the_port() -> None:
    scope = Scope(["127.77.0.1"], ports={"127.77.0.2": {"*"}})  # a port rule grants no address
    with pytest.raises(OutOfScope):
        scope.check_target("127.77.0.2", 80)


def test_port_rules_restrict_a_host() -> None:
    scope = Scope(["127.0.0.0/8"], ports={"127.77.0.1": {"tcp/22", "tcp/8000-8010", "udp/*"}})
    assert scope.check_target("127.77.0.1", 22) == "127.77.0.1"
    assert scope.check_target("127.77.0.1", 8005) == "127.77.0.1"
    assert scope.check_target("127.77.0.1", 5353, "udp") == "127.77.0.1"
    for port in (23, 7999, 8011, 65535):
        with pytest.raises(OutOfScope, match="outside the declared ports"):
            scope.check_target("127.77.0.1", port)
    # A host no rule key matches keeps the full range.
    assert scope.check_target("127.77.0.9", 65535) == "127.77.0.9"


def test_network_keys_and_union_of_matching_rules() -> None:
    scope = Scope(["10.1.0.0/16"], ports={"10.1.2.0/24": {"tcp/80"}, "10.1.2.3": {"tcp/443"}})
    _, rule = scope.port_rule("10.1.2.3")
    assert 80 in rule and 443 in rule and 22 not in rule
    assert rule.describe() == "tcp/80, tcp/443"
    _, other = scope.port_rule("10.1.2.4")
    assert 80 in other and 443 not in other
    _, udp = scope.port_rule("10.1.2.3", "udp")
    assert not udp.ranges and udp.describe() == "no udp port"


def test_star_rule_and_tcp_star() -> None:
    scope = Scope(["127.0.0.1"], ports={"127.0.0.1": {"tcp/*"}})
    assert scope.port_rule("127.0.0.1")[1].unrestricted
    with pytest.raises(OutOfScope):
        scope.check_target("127.0.0.1", 53, "udp")
    assert Scope(["127.0.0.1"], ports={"127.0.0.1": {"*"}}).port_rule("127.0.0.1", "udp")[1].unrestricted


def test_overlapping_ranges_are_merged() -> None:
    scope = Scope(["127.0.0.1"], ports={"127.0.0.1": {"tcp/1-100", "tcp/50-200", "tcp/201"}})
    assert scope.port_rule("127.0.0.1")[1].ranges == ((1, 201),)


@pytest.mark.parametrize("rule", ["tcp", "tcp/0", "tcp/65536", "sctp/22", "tcp/9-3", "tcp/x", "22"])
def test_bad_rules_fail_at_construction(rule: str) -> None:
    with pytest.raises(ValueError, match="port rule"):
        Scope(["127.0.0.1"], ports={"127.0.0.1": {rule}})


def test_odd_ports_and_protocols_are_refused() -> None:
    scope = Scope(["127.0.0.1"])
    for port in (0, 65536, -1):
        with pytest.raises(OutOfScope):
            scope.check_target("127.0.0.1", port)
    with pytest.raises(OutOfScope, match="protocol"):
        scope.check_target("127.0.0.1", 22, "sctp")
    _, rule = scope.port_rule("127.0.0.1")
    assert True not in rule and "22" not in rule


def test_host_name_key() -> None:
    scope = Scope(["localhost"], ports={"localhost": {"tcp/443"}})
    address = scope.check_target("localhost", 443)
    assert address in ("127.0.0.1", "::1")
    with pytest.raises(OutOfScope):
        scope.check_target("localhost", 80)
