"""The simulator and the probes in one namespace this module creates: a full scan of a simulated
unit's address finds exactly the services the simulator publishes, whatever else listens on the
host; banners and the unit's UDP service are read through the same scope."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import pytest
from test_net_support import ns  # noqa: F401 - ns is a fixture
from test_sim_support import SimProcess

from harness.net import grab_banner, probe_udp, scan_tcp
from harness.net.netns import Namespace
from harness.scope import Scope

pytestmark = pytest.mark.integration

# CoAP (RFC 7252) confirmable GET /.well-known/core, message id 0x1234, no token.
COAP_GET_CORE = bytes([0x40, 0x01, 0x12, 0x34, 0xBB]) + b".well-known" + bytes([0x04]) + b"core"


@pytest.fixture(scope="module")
def sim(ns: Namespace, tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:  # noqa: F811
    s = SimProcess(tmp_path_factory.mktemp("sim-net"), units=1)
    s.cmd = ns.exec_args(s.cmd)  # `ip netns exec` execs the simulator: the PID stays its own
    with s:
        yield s


def unit(sim: SimProcess) -> tuple[str, dict[str, int | str]]:
    facts = sim.runtime["units"]["U1"]
    services = facts.get("services")
    if services is None:  # a simulator without per-unit services: its HTTPS documents server
        services = {"https": int(sim.runtime["https"]["base_url"].rsplit(":", 1)[1])}
    return facts["address"], services


def test_full_scan_of_the_simulated_unit(ns: Namespace, sim: SimProcess) -> None:  # noqa: F811
    address, services = unit(sim)
    expected = sorted(p for p in services.values() if isinstance(p, int))
    # A listener on the same address in the host's namespace must not show up.
    host = socket.create_server((address, 0))
    host_port = host.getsockname()[1]
    try:
        with ns.entered():
            result = scan_tcp(address, scope=Scope([address]))
    finally:
        host.close()
    print(f"\nsimulator unit {address}: open {result.open} in {result.duration_s:.2f} s (published {services})")
    assert result.complete and result.open == expected and host_port not in result.open


def test_banners_of_the_simulated_unit(ns: Namespace, sim: SimProcess) -> None:  # noqa: F811
    address, services = unit(sim)
    scope = Scope([address])
    with ns.entered():
        https = grab_banner(address, int(services["https"]), scope=scope, timeout=2.0,
                            send=b"HEAD / HTTP/1.0\r\n\r\n")
        ssh = grab_banner(address, int(services["ssh"]), scope=scope, timeout=2.0) if "ssh" in services else None
    assert https.tls and https.text.startswith("HTTP/1."), https
    if ssh is not None:
        assert not ssh.tls and ssh.text.startswith("SSH-2.0-"), ssh


def test_udp_service_of_the_simulated_unit(ns: Namespace, sim: SimProcess) -> None:  # noqa: F811
    address, services = unit(sim)
    coap = services.get("coap")
    if not isinstance(coap, str) or not coap.startswith("udp/"):
        pytest.skip("this simulator publishes no UDP service")
    port = int(coap.split("/")[1])
    with ns.entered():
        answered = probe_udp(address, port, COAP_GET_CORE, scope=Scope([address]))
        closed = probe_udp(address, port + 1, COAP_GET_CORE, scope=Scope([address]))
    assert answered.state == "answered" and answered.reply and b"</sensors/temperature>" in answered.reply
    assert closed.state == "closed"
