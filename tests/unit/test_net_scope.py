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


# --- host names: only declared ones, and no lookup for an undeclared one ----------------------------

@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every lookup of a name is recorded and fails: a refusal must come before it (a numeric
    address is no lookup: connecting to it goes through getaddrinfo all the same)."""
    import ipaddress
    import socket

    asked: list[str] = []
    real = socket.getaddrinfo

    def lookup(host: object, *args: object, **kwargs: object) -> object:
        try:
            ipaddress.ip_address(str(host))
            return real(host, *args, **kwargs)  # type: ignore[arg-type]
        except ValueError:
            pass
        asked.append(str(host))
        raise socket.gaierror(f"no DNS in this test ({host})")

    monkeypatch.setattr(socket, "getaddrinfo", lookup)
    return asked


def test_an_undeclared_name_is_refused_before_any_lookup(no_dns: list[str]) -> None:
    scope = Scope(["10.0.0.0/24"])
    with pytest.raises(OutOfScope, match="not declared by the lab.*before any DNS lookup"):
        scope.check_host("printer.example.com")
    with pytest.raises(OutOfScope, match="not declared"):
        scope.check_target("bench-7", 4001)
    assert no_dns == []


def test_a_mapped_name_is_its_address_without_a_lookup(no_dns: list[str]) -> None:
    scope = Scope(["10.0.0.0/24"], hosts={"psu.lab": "10.0.0.5", "far.lab": "192.0.2.9"})
    assert scope.check_host("psu.lab") == "10.0.0.5"
    assert scope.check_host("PSU.lab.") == "10.0.0.5"
    with pytest.raises(OutOfScope, match="outside the declared scope"):
        scope.check_host("far.lab")  # mapped, but to an address the networks do not include
    assert Scope(["127.0.0.0/8"]).check_host("localhost") == "127.0.0.1"
    with pytest.raises(OutOfScope):
        scope.check_host("localhost")  # the loopback is not in 10.0.0.0/24
    assert no_dns == []


def test_a_listed_name_may_be_looked_up(monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    monkeypatch.setattr(socket, "getaddrinfo", lambda host, *a, **k: [(socket.AF_INET, 1, 6, "", ("192.0.2.44", 0))])
    assert Scope(["docs.example.com"]).check_host("docs.example.com") == "192.0.2.44"


# --- every link kind asks the scope before it opens ----------------------------------------------------

LAB = """\
schema_version: 1
secrets: {file: secrets.json, environment: false}
networks: [127.0.0.0/8]
hosts: {serial-server.lab: 127.0.0.9}
"""


def _bench(tmp_path, link: str, unit_link: str = "", lab: str = LAB):  # type: ignore[no-untyped-def]
    from pathlib import Path

    from harness.profile.resolve import open_bench

    root = Path(__file__).resolve().parents[2]
    text = (root / "device_profiles" / "template-real-device.yaml").read_text(encoding="utf-8")
    text = text.replace("    address: 192.0.2.10 ", "    address: 127.0.0.10 ", 1)
    text = text.replace("links:\n  console:\n", f"links:\n{link}  console:\n", 1)
    if unit_link:
        text = text.replace("console: {url: /dev/ttyUSB0}", unit_link, 1)
    (tmp_path / "p.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "lab.yaml").write_text(lab, encoding="utf-8")
    (tmp_path / "secrets.json").write_text('{"EX100_U1_LABEL": "a", "EX100_U2_LABEL": "b"}', encoding="utf-8")
    return open_bench(tmp_path / "p.yaml", tmp_path / "lab.yaml")


@pytest.mark.parametrize("url", ["socket://10.9.9.9:7000", "rfc2217://terminal-server.example:4001"])
def test_a_serial_port_over_tcp_out_of_scope_is_refused(tmp_path, no_dns, url: str) -> None:  # type: ignore[no-untyped-def]
    from harness.profile import ConfigError

    bench = _bench(tmp_path, "", f"console: {{url: '{url}'}}")
    with pytest.raises(OutOfScope, match="links.console.url"):
        bench.link_settings("U1", "console")  # what a Device does when it opens the link: a lab fault
    with pytest.raises(ConfigError, match="units.U1.links.console"):
        bench.resolve_all(["U1"])  # before the run: a usage error
    assert no_dns == []


def test_a_serial_server_the_lab_maps_is_reached_by_its_address(tmp_path, no_dns) -> None:  # type: ignore[no-untyped-def]
    bench = _bench(tmp_path, "", "console: {url: 'rfc2217://serial-server.lab:4001'}")
    assert bench.link_settings("U1", "console")["url"] == "rfc2217://127.0.0.9:4001"
    assert no_dns == []


@pytest.mark.parametrize("kind", ["telnet", "ssh"])
def test_a_console_host_out_of_scope_is_refused(tmp_path, no_dns, kind: str) -> None:  # type: ignore[no-untyped-def]
    bench = _bench(tmp_path, f"  remote:\n    type: {kind}\n    host: 10.9.9.9\n")
    with pytest.raises(OutOfScope, match="links.remote.host"):
        bench.link_settings("U1", "remote")
    bench = _bench(tmp_path, f"  remote:\n    type: {kind}\n    host: jump.example.com\n")
    with pytest.raises(OutOfScope, match="not declared"):
        bench.link_settings("U1", "remote")
    assert no_dns == []


@pytest.mark.parametrize("broker", ["mqtt://10.9.9.9:1883", "mqtts://cloud.example.com:8883"])
def test_an_mqtt_broker_out_of_scope_is_refused(tmp_path, no_dns, broker: str) -> None:  # type: ignore[no-untyped-def]
    bench = _bench(tmp_path, f"  cloud:\n    type: mqtt\n    broker: '{broker}'\n")
    settings = bench.link_settings("U1", "cloud")
    with pytest.raises(OutOfScope, match="links.cloud.broker"):
        bench.mqtt_settings("U1", "cloud", settings)
    assert no_dns == []


def test_an_mqtt_link_with_the_bench_guard_refuses_before_connecting(no_dns: list[str]) -> None:
    from harness.links.mqtt import MqttLink

    link = MqttLink("cloud", url="mqtt://cloud.example.com:1883", guard=Scope(["127.0.0.0/8"]))
    with pytest.raises(OutOfScope, match="not declared"):
        link.connect_attempt("u", "p")
    link.close()
    assert no_dns == []


@pytest.mark.parametrize("resource", ["TCPIP::10.9.9.9::5025::SOCKET", "TCPIP0::psu.example.com::inst0::INSTR"])
def test_a_visa_instrument_out_of_scope_is_refused(tmp_path, no_dns, resource: str) -> None:  # type: ignore[no-untyped-def]
    bench = _bench(tmp_path, f"  psu:\n    type: instrument\n    role: supply\n    resource: '{resource}'\n")
    settings = bench.link_settings("U1", "psu")
    with pytest.raises(OutOfScope, match="links.psu.resource"):
        bench.instrument_settings("U1", "psu", settings)
    assert no_dns == []


def test_a_visa_instrument_the_lab_maps_is_reached_by_its_address(tmp_path, no_dns) -> None:  # type: ignore[no-untyped-def]
    bench = _bench(tmp_path, "  psu:\n    type: instrument\n    role: supply\n"
                             "    resource: 'TCPIP::serial-server.lab::5025::SOCKET'\n")
    settings = bench.instrument_settings("U1", "psu", bench.link_settings("U1", "psu"))
    assert settings["resource"] == "TCPIP::127.0.0.9::5025::SOCKET"
    assert no_dns == []


def test_an_http_link_to_an_undeclared_name_is_refused(no_dns: list[str]) -> None:
    from harness.links.http import HttpLink

    link = HttpLink("web", "https://device.example.com:8443", Scope(["127.0.0.0/8"]))
    with pytest.raises(OutOfScope, match="not declared"):
        link.request("GET", "/")
    link.close()
    assert no_dns == []


def test_an_http_link_connects_to_the_mapped_address(no_dns: list[str]) -> None:
    """A mapped name: the TCP connection goes to the address the lab gave, with no lookup."""
    import http.server
    import threading

    from harness.links.http import HttpLink

    class Hello(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the stdlib's name
            self.send_response(200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(self.headers.get("Host", "")[:2].encode())

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hello)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        port = server.server_address[1]
        link = HttpLink("web", f"http://device.lab:{port}", Scope(["127.0.0.0/8"], hosts={"device.lab": "127.0.0.1"}))
        answer = link.request("GET", "/")
        link.close()
    finally:
        server.shutdown()
        server.server_close()
    assert answer.status == 200 and answer.text == "de"  # the Host header still names the device
    assert no_dns == []


def test_lab_brokers_out_of_scope_are_refused(tmp_path, no_dns) -> None:  # type: ignore[no-untyped-def]
    from harness.labservices import check_broker_scope, start_lab_broker

    bench = _bench(tmp_path, "", lab=LAB + "broker: {host: 10.9.9.9}\n")
    with pytest.raises(OutOfScope):
        with start_lab_broker(bench, tmp_path / "broker"):
            pass
    assert not (tmp_path / "broker").exists()  # refused before anything was started
    with pytest.raises(OutOfScope, match="broker.url"):
        check_broker_scope(bench, "mqtts://cloud.example.com:8883", "broker.url")
    with pytest.raises(OutOfScope, match="outside the declared scope"):
        check_broker_scope(bench, "mqtts://10.9.9.9:8883", "broker.url")
    assert no_dns == []


@pytest.mark.parametrize("broker,field", [
    ("broker: {host: 10.9.9.9}\n", "broker.host"),
    ("broker: {start: false, url: 'mqtts://cloud.example.com:8883', observer: {user: o, password: p}}\n", "broker.url"),
    ("broker: {start: false, url: 'mqtts://127.0.0.1:8883', also_observe: ['mqtt://10.9.9.9:1883'],"
     " observer: {user: o, password: p}}\n", "broker.also_observe[0]"),
])
def test_lab_brokers_out_of_scope_are_a_usage_error_before_the_run(tmp_path, no_dns, broker: str,  # type: ignore[no-untyped-def]
                                                                    field: str) -> None:
    from harness.profile import ConfigError

    bench = _bench(tmp_path, "", lab=LAB + broker)
    with pytest.raises(ConfigError) as raised:
        bench.resolve_all(["U1"])
    issue = raised.value.issues[0]
    assert issue.field == field and issue.line == 5 and issue.file == str(tmp_path / "lab.yaml"), issue
    assert no_dns == []
