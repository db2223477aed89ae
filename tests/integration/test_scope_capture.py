"""Scope on every link, proven on the wire: a full simulator run (`harness demo`, the compliant hub,
every test case) inside a network namespace whose only ways out are its loopback and an outbound
interface with a default route, and tcpdump on all of its interfaces meanwhile. Every packet stays
in the lab's declared network (127.0.0.0/8); a datagram sent to an undeclared address on purpose,
at the end, shows that the capture would have seen one.

Name lookups: the namespace's resolver is a lab resolver inside the declared network (as on a
bench), and the harness asks it nothing. The only queries are the simulator's own reverse lookups
of the addresses its units bind (Python's http.server asks for the name of the address it binds);
they are told apart by what they ask (a PTR of a unit's own address) — the harness never resolves
an address to a name."""

from __future__ import annotations

import contextlib
import ipaddress
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.net.netns import Namespace, availability

pytestmark = pytest.mark.integration
ROOT = Path(__file__).resolve().parents[2]
DECLARED = [ipaddress.ip_network("127.0.0.0/8")]  # the simulator lab's `networks:`
CANARY = "203.0.113.77"  # TEST-NET-3: sent to on purpose, never declared
RUN_BOUND_S = 900.0
RESOLVER = "127.0.0.53"  # the lab resolver: inside the declared network, nothing answers there

if not availability()[0]:
    pytest.skip(f"network namespaces unavailable: {availability()[1]}", allow_module_level=True)
if shutil.which("tcpdump") is None:
    pytest.skip("tcpdump is not installed", allow_module_level=True)


def _setup_way_out(ns: Namespace) -> None:
    """An outbound interface with a default route: a packet to any undeclared address would leave
    through it (and be captured there) instead of failing with "network unreachable". A veth pair
    with both ends inside; the gateway's link address is fixed (no ARP on the wire), and neither end
    has an IPv6 link-local address, so the kernel itself sends nothing (router solicitations, MLD)."""
    for argv in (["ip", "link", "add", "out0", "type", "veth", "peer", "name", "out1"],
                 ["ip", "link", "set", "out0", "addrgenmode", "none"],
                 ["ip", "link", "set", "out1", "addrgenmode", "none"],
                 ["ip", "addr", "add", "198.51.100.1/24", "dev", "out0"],
                 ["ip", "link", "set", "out0", "up"],
                 ["ip", "link", "set", "out1", "up"],
                 ["ip", "neigh", "add", "198.51.100.254", "lladdr", "02:00:00:00:00:fe", "dev", "out0", "nud", "permanent"],
                 ["ip", "route", "add", "default", "via", "198.51.100.254", "dev", "out0"]):
        done = ns.run(argv, timeout=10, capture_output=True, text=True)
        assert done.returncode == 0, (argv, done.stderr)


@contextlib.contextmanager
def _resolver(ns: Namespace) -> Iterator[None]:
    """`ip netns exec` mounts /etc/netns/NAME/resolv.conf over /etc/resolv.conf for what runs inside."""
    folder = Path("/etc/netns") / ns.name
    folder.mkdir(parents=True, exist_ok=False)
    try:
        (folder / "resolv.conf").write_text(f"nameserver {RESOLVER}\noptions timeout:1 attempts:1\n")
        yield
    finally:
        shutil.rmtree(folder, ignore_errors=True)


class Tcpdump:
    """tcpdump on every interface of the namespace, writing a pcap; armed when it says so."""

    def __init__(self, ns: Namespace, path: Path) -> None:
        self.path = path
        self.proc = ns.popen(["tcpdump", "-Z", "root", "-i", "any", "-n", "-U", "-s", "256", "-w", str(path)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        self.ready = threading.Event()
        self.lines: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        assert self.ready.wait(20), f"tcpdump did not start: {self.lines}"

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for raw in self.proc.stderr:
            line = raw.decode(errors="replace").strip()
            self.lines.append(line)
            if "listening on" in line:
                self.ready.set()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(20)


def _canary(ns: Namespace, capture: Tcpdump) -> None:
    """Send the control datagram and wait (bounded) until the capture file holds it."""
    code = f"import socket; socket.socket(socket.AF_INET, socket.SOCK_DGRAM).sendto(b'harness-canary', ('{CANARY}', 9))"
    done = ns.run([sys.executable, "-c", code], timeout=30, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    deadline = time.monotonic() + 20
    while b"harness-canary" not in capture.path.read_bytes()[-65536:] and time.monotonic() < deadline:
        try:
            capture.proc.wait(0.1)  # a bounded wait between looks at the file
        except subprocess.TimeoutExpired:
            pass


def _reverse(name: str) -> ipaddress.IPv4Address:
    octets = name.removesuffix(".in-addr.arpa").split(".")
    try:
        return ipaddress.IPv4Address(".".join(reversed(octets)))
    except ValueError:
        return ipaddress.IPv4Address("0.0.0.0")


def _outside(pcap: Path) -> tuple[int, list[str], list[str]]:
    """(packets read, packets to or from undeclared addresses, DNS packets)."""
    from scapy.layers.dns import DNS
    from scapy.layers.inet import IP, TCP, UDP
    from scapy.layers.inet6 import IPv6
    from scapy.utils import PcapReader

    count, outside, dns = 0, [], []
    with PcapReader(str(pcap)) as packets:
        for pkt in packets:
            count += 1
            layer = pkt.getlayer(IP) or pkt.getlayer(IPv6)
            if layer is None:
                outside.append(f"not IP: {pkt.summary()}")
                continue
            for address in (layer.src, layer.dst):
                if not any(ipaddress.ip_address(address) in net for net in DECLARED):
                    outside.append(pkt.summary())
                    break
            # A name lookup, wherever it goes (a port scan's bare SYN to a unit's port 53 is none).
            transport = pkt.getlayer(UDP) or pkt.getlayer(TCP)
            questions = pkt[DNS].qd if pkt.haslayer(DNS) else None
            if transport is not None and transport.dport == 53 and questions:
                question = questions[0]
                name = question.qname.decode(errors="replace").rstrip(".")
                if question.qtype == 12 and name.endswith(".in-addr.arpa") and _reverse(name) in DECLARED[0]:
                    continue  # the simulator's http.server naming the unit address it binds
                dns.append(f"{pkt.summary()} {name} (type {question.qtype})")
    return count, outside, dns


def test_a_full_simulator_run_sends_nothing_outside_the_declared_network(tmp_path: Path) -> None:
    pcap = tmp_path / "run.pcap"
    out = tmp_path / "demo"
    with Namespace.create("harness-scope") as ns, _resolver(ns):
        _setup_way_out(ns)
        capture = Tcpdump(ns, pcap)
        try:
            env = dict(os.environ)
            env.pop("HARNESS_RUN_DIR", None)
            demo = ns.popen([sys.executable, "-m", "harness.cli", "demo", "--persona", "compliant", "--units", "1",
                             "--time-scale", "0", "--no-allure", "--quiet", "--no-netns", "--out", str(out),
                             "--sim-dir", str(tmp_path / "sim")],
                            cwd=ROOT, env=env, stdout=open(tmp_path / "demo.log", "wb"),  # noqa: SIM115
                            stderr=subprocess.STDOUT)
            started = time.monotonic()
            try:
                code = demo.wait(RUN_BOUND_S)
            except subprocess.TimeoutExpired:
                pytest.fail(f"the demo did not finish within {RUN_BOUND_S:g} s")
            _canary(ns, capture)  # the control: one packet that must show as outside
        finally:
            capture.stop()
    log = (tmp_path / "demo.log").read_text(errors="replace")
    assert code in (0, 1, 3), log[-3000:]  # a verdict, not a usage error or a crash
    count, outside, dns = _outside(pcap)
    assert count > 1000, f"the capture saw only {count} packets in {time.monotonic() - started:.0f} s: {capture.lines}"
    canary = [p for p in outside if CANARY in p]
    assert canary, "the capture would not have seen a packet to an undeclared address"
    leaked = [p for p in outside if CANARY not in p]
    assert leaked == [], f"{len(leaked)} packet(s) outside 127.0.0.0/8: {leaked[:20]}"
    assert dns == [], f"DNS queries: {dns[:20]}"
    results = list(out.rglob("conformance.json"))
    assert results, f"the demo wrote no report: {log[-2000:]}"
