"""5.6 test cases over the network: the unit's reachable ports against IXIT 15-Intf (5.6-1-2),
unauthenticated disclosure (5.6-2-2) and debug shells (5.6-4-2).

The port scan of 5.6-1-2 is kept as a per-unit observation so 5.6-4-2 probes the very ports it
found without scanning again (both run in one process or in different ones)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from harness.checks.surface import (
    DebugProbe,
    Disclosure,
    PortFacts,
    judge_debug_interfaces,
    judge_open_ports,
    judge_unauthenticated_disclosure,
    sensitive_markers,
)
from harness.verdict import CheckResult, LabFault

if TYPE_CHECKING:
    from harness.device import Device
    from harness.results import Observations

# A scan of 65,535 ports must not run away on a slow or filtering device.
SCAN_DEADLINE_S = 300.0


def _interfaces(device: Device) -> list[dict[str, Any]]:
    return [i.model_dump() for i in device.profile.ixit.interfaces]


def _address(device: Device) -> str | None:
    return device.bench.address(device.unit_id)


def scan_unit(device: Device) -> PortFacts:
    from harness.net.scan import scan_tcp
    from harness.net.udp import probe_udp

    address = _address(device)
    assert address is not None
    tcp = scan_tcp(address, scope=device.scope, timeout=float(device.bench.lab.timeouts.get("tcp_connect", 1.0)),
                   deadline=float(device.bench.lab.timeouts.get("port_scan", SCAN_DEADLINE_S)))
    udp: dict[int, str] = {}
    for iface in device.profile.ixit.interfaces:
        if iface.port and iface.port.startswith("udp/"):
            port = int(iface.port[4:])
            payload = bytes.fromhex(iface.probe) if iface.probe else b"\r\n"
            udp[port] = probe_udp(address, port, payload, scope=device.scope).state
    device.note(f"scan of {address}: open tcp {tcp.open}, udp {udp}, {tcp.duration_s:.1f} s")
    return PortFacts(address, tcp.open, tcp.complete, tcp.filtered, udp, round(tcp.duration_s, 2))


def unused_interfaces_off(device: Device, observations: Observations) -> CheckResult:
    """5.6-1-2"""
    if _address(device) is None:
        return CheckResult.inconclusive(f"unit {device.unit_id} declares no network address to scan")
    facts = scan_unit(device)
    observations.record(device.unit_id, "open_tcp_ports", facts.tcp_open)
    return judge_open_ports(facts, _interfaces(device))


def _open_ports(device: Device, observations: Observations) -> list[int]:
    seen = observations.read().get(device.unit_id, {}).get("open_tcp_ports")
    return list(seen) if seen is not None else scan_unit(device).tcp_open


def unauthenticated_disclosure(device: Device) -> CheckResult:
    """5.6-2-2: ask every declared interface what it says to a stranger: its banner, and the
    paths the IXIT names as readable without authentication."""
    from harness.links.http import fetch
    from harness.net.banner import grab_banner

    address = _address(device)
    if address is None:
        return CheckResult.inconclusive(f"unit {device.unit_id} declares no network address")
    answers: list[Disclosure] = []
    for iface in device.profile.ixit.interfaces:
        if iface.status != "enabled" or not iface.port or not iface.port.startswith("tcp/"):
            continue
        port = int(iface.port[4:])
        try:
            banner = grab_banner(address, port, scope=device.scope)
            answers.append(Disclosure(f"{iface.name} tcp/{port} banner", 200, banner.text))
        except LabFault as exc:
            answers.append(Disclosure(f"{iface.name} tcp/{port} banner", None, "", error=str(exc)))
        scheme = "https" if iface.tls or iface.kind == "https" else "http"
        for path in iface.disclosure_paths:
            # Verification off: this request only reads what the device tells anyone who asks.
            resp = fetch(f"{scheme}://{address}:{port}{path}", device.scope, verify=False, timeout=5.0,
                         legacy_tls=True)
            answers.append(Disclosure(f"GET {path} on {iface.name}", resp.status, resp.text, error=resp.error))
    product = device.profile.product.model_dump()
    unit = {"serial": device.unit.serial, "mac": device.unit.mac}
    return judge_unauthenticated_disclosure(answers, sensitive_markers(product, unit))


def debug_interfaces_off(device: Device, observations: Observations) -> CheckResult:
    """5.6-4-2: every open port that is undeclared or declared as a debug interface is asked for
    a shell: what it says first, then its answer to ``id``."""
    from harness.net.banner import grab_banner

    address = _address(device)
    if address is None:
        return CheckResult.inconclusive(f"unit {device.unit_id} declares no network address")
    declared = {int(i.port[4:]): i for i in device.profile.ixit.interfaces if i.port and i.port.startswith("tcp/")}
    probes: list[DebugProbe] = []
    for port in _open_ports(device, observations):
        iface = declared.get(port)
        if iface is not None and iface.kind != "debug":
            continue
        name = iface.name if iface else None
        try:
            first = grab_banner(address, port, scope=device.scope, timeout=2.0)
            reply = grab_banner(address, port, scope=device.scope, timeout=2.0, send=b"id\n")
            probes.append(DebugProbe(port, first.text, reply.text, declared=name))
        except LabFault as exc:
            probes.append(DebugProbe(port, "", "", error=str(exc), declared=name))
    return judge_debug_interfaces(probes)
