"""Network-side checks judged on facts, both ways: the defect FAILs, its absence PASSes, missing
or lab-side facts are INCONCLUSIVE."""

from __future__ import annotations

from harness.checks.bruteforce import Attempt, judge_brute_force
from harness.checks.network_auth import (
    RogueBrokerObservation,
    judge_rogue_broker,
    judge_unauthenticated_change,
)
from harness.checks.surface import (
    ConsoleProbe,
    DebugProbe,
    Disclosure,
    PortFacts,
    judge_debug_interfaces,
    judge_open_ports,
    judge_unauthenticated_disclosure,
    sensitive_markers,
)
from harness.checks.traffic import Observed, Planted, judge_personal_data, judge_security_parameters

IXIT = [{"name": "admin", "port": "tcp/8443", "status": "enabled"},
        {"name": "ssh", "port": "tcp/2222", "status": "enabled"},
        {"name": "telnet", "port": "tcp/2323", "status": "disabled"},
        {"name": "coap", "port": "udp/5683", "status": "enabled"}]


def test_open_ports_both_ways() -> None:
    ok = judge_open_ports(PortFacts("127.77.0.1", [2222, 8443], True, udp={5683: "answered"}, alive_after=True), IXIT)
    assert ok.verdict == "PASS"
    bad = judge_open_ports(PortFacts("127.77.0.1", [2222, 2323, 4444, 8443], True), IXIT)
    assert bad.verdict == "FAIL" and "tcp/4444" in bad.reason and "tcp/2323 (declared disabled)" in bad.reason
    cut = judge_open_ports(PortFacts("127.77.0.1", [8443], False, alive_after=True), IXIT)
    assert cut.verdict == "INCONCLUSIVE"
    udp = judge_open_ports(PortFacts("127.77.0.1", [8443], True, udp={5684: "answered"}), IXIT)
    assert udp.verdict == "FAIL" and "udp/5684" in udp.reason


def test_open_ports_of_a_dead_or_frozen_unit_are_not_a_pass() -> None:
    dead = judge_open_ports(PortFacts("127.77.0.1", [], True, udp={5683: "silent"}, alive_after=False), IXIT)
    assert dead.verdict == "INCONCLUSIVE" and "not reachable" in dead.reason
    # Declared enabled ports silent while something else answers: the unit was not shown reachable.
    ghost = judge_open_ports(PortFacts("127.77.0.1", [], True, udp={5683: "closed"}, alive_after=True),
                             IXIT)
    assert ghost.verdict == "INCONCLUSIVE"
    # A frozen process still completes TCP handshakes: open ports without proof of life are nothing.
    frozen = judge_open_ports(PortFacts("127.77.0.1", [2222, 8443], True, alive_after=False), IXIT)
    assert frozen.verdict == "INCONCLUSIVE" and "did not answer after the scan" in frozen.reason
    unknown = judge_open_ports(PortFacts("127.77.0.1", [2222, 8443], True), IXIT)
    assert unknown.verdict == "INCONCLUSIVE"


def test_disclosure_both_ways() -> None:
    markers = sensitive_markers({"firmware": "1.4.2"}, {"serial": "SIM-C-0001", "mac": "02:53:49:A1:7C:31"})
    leak = judge_unauthenticated_disclosure(
        [Disclosure("/api/status", 200, '{"firmware": "1.4.2", "serial": "SIM-C-0001"}')], markers)
    assert leak.verdict == "FAIL" and "firmware version" in leak.reason and "serial number" in leak.reason
    fine = judge_unauthenticated_disclosure([Disclosure("/api/status", 401, '{"error": "unauthorized"}')], markers)
    assert fine.verdict == "PASS"
    lab = judge_unauthenticated_disclosure([Disclosure("/api/status", None, "", error="timeout")], markers)
    assert lab.verdict == "INCONCLUSIVE"
    kernel = judge_unauthenticated_disclosure([Disclosure("tcp/80", 200, "Linux version 5.10.4 on armv7")], {})
    assert kernel.verdict == "FAIL"
    # Services that said nothing (a frozen unit, or HTTP before a request) are no answer at all.
    silent = judge_unauthenticated_disclosure([Disclosure("ssh tcp/22 banner", None, ""),
                                               Disclosure("web tcp/80 banner", None, "")], markers)
    assert silent.verdict == "INCONCLUSIVE"
    mixed = judge_unauthenticated_disclosure([Disclosure("web tcp/80 banner", None, ""),
                                              Disclosure("GET /api/status", 401, "no")], markers)
    assert mixed.verdict == "PASS" and "silent" in mixed.reason


def test_debug_shell_both_ways() -> None:
    shell = judge_debug_interfaces([DebugProbe(4444, "# ", "uid=0(root) gid=0(root)")])
    assert shell.verdict == "FAIL" and "tcp/4444" in shell.reason
    login = judge_debug_interfaces([DebugProbe(2323, "simiot login: ", "Password: ")], open_ports=[2323])
    assert login.verdict == "PASS"
    silent = judge_debug_interfaces([DebugProbe(4444, "", "", error="timeout")], open_ports=[4444])
    assert silent.verdict == "INCONCLUSIVE"
    frozen = judge_debug_interfaces([DebugProbe(4444, "", "")], open_ports=[4444])
    assert frozen.verdict == "INCONCLUSIVE"


def test_debug_interfaces_zero_observation_is_not_a_pass() -> None:
    assert judge_debug_interfaces([]).verdict == "INCONCLUSIVE"
    none_open = judge_debug_interfaces([], open_ports=[], declared_enabled=[22, 443])
    assert none_open.verdict == "INCONCLUSIVE" and "not reachable" in none_open.reason
    declared_only = judge_debug_interfaces([], open_ports=[22, 443], declared_enabled=[22, 443])
    assert declared_only.verdict == "PASS" and declared_only.evidence


def test_uart_shell_without_login_both_ways() -> None:
    root = ConsoleProbe("UART", True, True, "attention reached a shell with no login")
    fail = judge_debug_interfaces([], open_ports=[443], declared_enabled=[443], consoles=[root])
    assert fail.verdict == "FAIL" and "UART (console without login)" in fail.reason
    login = ConsoleProbe("UART", False, True, "attention reached the login prompt")
    assert judge_debug_interfaces([], open_ports=[443], declared_enabled=[443], consoles=[login]).verdict == "PASS"
    # A console-only device: the console observed is the evidence.
    assert judge_debug_interfaces([], open_ports=[], consoles=[login]).verdict == "PASS"
    sealed = ConsoleProbe("test pads", True, False, "potted")
    assert judge_debug_interfaces([], open_ports=[443], consoles=[sealed]).verdict == "PASS"
    dead = ConsoleProbe("UART", None, True, "the console could not be observed: port closed")
    unseen = judge_debug_interfaces([], open_ports=[443], declared_enabled=[443], consoles=[dead])
    assert unseen.verdict == "INCONCLUSIVE" and "UART" in unseen.reason


def test_plaintext_credentials_both_ways() -> None:
    planted = [Planted("Wi-Fi key", "s3cret-psk-value", "security"), Planted("Wi-Fi name", "HomeNet-42", "personal")]
    leak = [Observed("plain", "simiot/X/telemetry", '{"wifi_psk": "s3cret-psk-value", "ssid": "HomeNet-42"}')]
    assert judge_security_parameters(leak, planted).verdict == "FAIL"
    assert judge_personal_data(leak, planted).verdict == "FAIL"
    tls = [Observed("tls", "simiot/X/telemetry", '{"wifi_psk": "s3cret-psk-value", "ssid": "HomeNet-42"}')]
    assert judge_security_parameters(tls, planted).verdict == "PASS"
    assert judge_personal_data(tls, planted).verdict == "PASS"
    clean = [Observed("plain", "simiot/X/telemetry", '{"temperature": 21.5}')]
    assert judge_security_parameters(clean, planted).verdict == "PASS"
    assert judge_security_parameters([], planted).verdict == "INCONCLUSIVE"
    keyed = [Observed("plain", "t", '{"api_token": "zzz"}')]
    assert judge_security_parameters(keyed, []).verdict == "FAIL"


def test_rogue_broker_both_ways() -> None:
    assert judge_rogue_broker(RogueBrokerObservation(connected_clients=["simiot-U1"])).verdict == "FAIL"
    refused = RogueBrokerObservation(tls_failures=["127.77.0.1: alert unknown ca"], alive_after=True)
    assert judge_rogue_broker(refused).verdict == "PASS"
    assert judge_rogue_broker(RogueBrokerObservation()).verdict == "INCONCLUSIVE"
    dead = RogueBrokerObservation(tls_failures=["127.0.0.1: tlsv1 alert unknown ca"], alive_after=False)
    assert judge_rogue_broker(dead).verdict == "INCONCLUSIVE"


def test_plaintext_client_on_the_rogue_tls_listener_is_no_refusal() -> None:
    plain = RogueBrokerObservation(tls_failures=[
        "127.0.0.1: error:0A00010B:SSL routines::wrong version number"], alive_after=True)
    r = judge_rogue_broker(plain)
    assert r.verdict == "FAIL" and "plaintext" in r.reason
    eof = RogueBrokerObservation(tls_failures=["127.0.0.1: unexpected eof while reading"], alive_after=True)
    assert judge_rogue_broker(eof).verdict == "INCONCLUSIVE"
    version = RogueBrokerObservation(tls_failures=["127.0.0.1: unsupported protocol"], alive_after=True)
    assert judge_rogue_broker(version).verdict == "INCONCLUSIVE"
    both = RogueBrokerObservation(tls_failures=["OpenSSL Error[0]: error:0A000418:SSL routines::tlsv1 alert "
                                                "unknown ca"], alive_after=True)
    assert judge_rogue_broker(both).verdict == "PASS"


def test_unauthenticated_change_both_ways() -> None:
    assert judge_unauthenticated_change("ok", "HTTP 200", True, True).verdict == "FAIL"
    assert judge_unauthenticated_change("rejected", "HTTP 401", False, True).verdict == "PASS"
    assert judge_unauthenticated_change("timeout", "", None, None).verdict == "INCONCLUSIVE"
    assert judge_unauthenticated_change("rejected", "HTTP 401", None, False).verdict == "INCONCLUSIVE"


def test_brute_force_both_ways() -> None:
    locked = [Attempt(i, "rejected", 0.01) for i in range(1, 6)] + [Attempt(6, "locked", 0.01, detail="HTTP 429")]
    r = judge_brute_force("https", locked, 50)
    assert r.verdict == "PASS" and "after 5" in r.reason
    # The FAIL side (no lockout, silent lockout ruled out) is the passwords room's test.
    backoff = [Attempt(i, "rejected", 0.05 * 2 ** min(i, 6)) for i in range(1, 21)]
    assert judge_brute_force("console", backoff, 20).verdict == "PASS"
    silent = [Attempt(1, "rejected", 0.01), Attempt(2, "timeout", 5.0)]
    assert judge_brute_force("console", silent, 50).verdict == "INCONCLUSIVE"
    short = [Attempt(i, "rejected", 0.01) for i in range(1, 10)]
    assert judge_brute_force("console", short, 50).verdict == "INCONCLUSIVE"
