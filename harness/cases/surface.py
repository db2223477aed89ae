"""5.6 test cases over the network: the unit's reachable ports against IXIT 15-Intf (5.6-1-2),
unauthenticated disclosure (5.6-2-2) and debug shells (5.6-4-2).

The port scan of 5.6-1-2 is kept as a per-unit observation so 5.6-4-2 probes the very ports it
found without scanning again (both run in one process or in different ones)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

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
from harness.verdict import CheckResult, LabFault, Verdict

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
    return PortFacts(address, tcp.open, tcp.complete, tcp.filtered, udp, round(tcp.duration_s, 2),
                     alive_after=alive_now(device, tcp.open))


def alive_now(device: Device, open_ports: list[int] | None = None) -> bool | None:
    """Proof of life at the application level (open ports alone are not: the kernel answers for
    a frozen process): the profile's ``alive_network`` or ``attention``; without either, any
    declared enabled service among ``open_ports`` that answers (a banner, or an HTTP status)."""
    if device.has("alive_network") or device.has("attention"):
        try:
            return device.prove_alive_network()
        except LabFault as exc:
            device.note(f"the unit did not answer its liveness probe: {exc}")
            return False
    address = _address(device)
    candidates = [i for i in device.profile.ixit.interfaces if i.status == "enabled" and i.port
                  and i.port.startswith("tcp/") and int(i.port[4:]) in (open_ports or [])]
    if address is None or not candidates:
        return None
    from harness.net.banner import grab_banner

    for iface in candidates:
        web = (iface.kind or "").lower() in ("http", "https")
        try:
            answer = grab_banner(address, int(iface.port[4:]), scope=device.scope, timeout=3.0,
                                 send=b"HEAD / HTTP/1.0\r\n\r\n" if web else None)
        except LabFault:
            continue
        if answer.text.strip():
            device.note(f"proof of life: {iface.name} answered {answer.text.strip()[:60]!r}")
            return True
    return False


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
            # A service that says nothing first (HTTP) gave no answer: status None, not "200".
            answers.append(Disclosure(f"{iface.name} tcp/{port} banner", 200 if banner.text.strip() else None,
                                      banner.text))
        except LabFault as exc:
            answers.append(Disclosure(f"{iface.name} tcp/{port} banner", None, "", error=str(exc)))
        scheme = "https" if iface.tls or iface.kind == "https" else "http"
        paths = list(iface.disclosure_paths)
        if not paths and (iface.kind or "").lower() in ("http", "https"):
            paths = ["/"]  # what any stranger asks a web server first; its banner is silence
        for path in paths:
            # Verification off: this request only reads what the device tells anyone who asks.
            resp = fetch(f"{scheme}://{address}:{port}{path}", device.scope, verify=False, timeout=5.0,
                         legacy_tls=True)
            answers.append(Disclosure(f"GET {path} on {iface.name}", resp.status, resp.text, error=resp.error))
    product = device.profile.product.model_dump()
    unit = {"serial": device.unit.serial, "mac": device.unit.mac}
    return judge_unauthenticated_disclosure(answers, sensitive_markers(product, unit))


CONSOLE_KINDS = {"console", "uart", "serial", "jtag", "swd", "debug"}
# Declared network interfaces that may hand out a shell: asked for one whatever the IXIT says
# about their authentication (a telnetd that drops straight into /bin/sh is declared "authenticated").
SHELL_KINDS = {"debug", "telnet", "shell", "rlogin", "rsh"}


def _consoles(device: Device) -> list[Any]:
    """IXIT 15-Intf entries that are physical consoles (no network port)."""
    return [i for i in device.profile.ixit.interfaces if not i.port and (i.kind or "").lower() in CONSOLE_KINDS]


def _console_fact(device: Device, procedure: str = "attention") -> tuple[bool | None, str]:
    """Whether the console gives a shell without a login: the device's own observation when it
    offers one, else logout (if a session is open) and the profile's ``attention``."""
    fact = getattr(device, "console_login_fact", None)
    try:
        if fact is not None:
            if not device.has(procedure):
                return None, f"the profile declares no {procedure} procedure to reach the console"
            seen = fact(procedure)
            return seen.without_login, str(seen.evidence)
        if not device.has("attention"):
            return None, "the profile declares no attention procedure to reach the console"
        if device.state.session == "logged_in":
            if not device.has("logout"):
                return None, "a session is open and the profile declares no logout"
            device.logout()
        probe = device.run("attention")
    except LabFault as exc:  # DeviceStateError is a LabFault too
        return None, f"the console could not be observed: {exc}"
    if probe.outcome == "logged_in":
        device.state.session = "logged_in"
        return True, "attention reached a shell with no login"
    if probe.outcome == "logged_out":
        device.state.session = "logged_out"
        return False, "attention reached the login prompt"
    return None, f"attention ended {probe.outcome!r} ({probe.detail or 'no answer'})"


def console_probes(device: Device) -> list[ConsoleProbe]:
    """5.6-4 on the physical side: every console interface of IXIT 15-Intf (or the profile's serial
    link when the IXIT declares none) and whether it gives a shell without a login."""
    declared = _consoles(device)
    serial_links = [n for n, link in device.profile.links.items() if getattr(link, "type", "") == "serial"]
    if not declared and not serial_links:
        return []
    if not declared:
        without_login, detail = _console_fact(device)
        return [ConsoleProbe(f"serial link {serial_links[0]}", without_login, None, detail)]
    out = []
    for n, iface in enumerate(declared):
        physical = getattr(iface, "physical", None)
        physical = True if physical is None else physical  # a console kind is a connector on the board
        # `attention_<name>` reaches a console other than the login console (e.g. a UART next to a
        # telnet login); plain `attention` stands for the first one.
        own = f"attention_{iface.name}"
        if device.has(own) or n > 0:
            without_login, detail = _console_fact(device, own)
        else:
            without_login, detail = _console_fact(device)
        out.append(ConsoleProbe(iface.name, without_login, physical, detail))
    return out


def debug_interfaces_off(device: Device, observations: Observations) -> CheckResult:
    """5.6-4-2: every open port that is undeclared or declared as a debug or remote-shell interface
    is asked for a shell (what it says first, then its answer to ``id``), and every console/UART is asked
    whether it gives a shell without a login."""
    from harness.net.banner import grab_banner

    consoles = console_probes(device)
    address = _address(device)
    if address is None:
        return judge_debug_interfaces([], open_ports=None, consoles=consoles)
    declared = {int(i.port[4:]): i for i in device.profile.ixit.interfaces if i.port and i.port.startswith("tcp/")}
    enabled = [p for p, i in declared.items() if i.status == "enabled"]
    open_ports = _open_ports(device, observations)
    probes: list[DebugProbe] = []
    for port in open_ports:
        iface = declared.get(port)
        if iface is not None and (iface.kind or "").lower() not in SHELL_KINDS:
            continue
        name = iface.name if iface else None
        try:
            first = grab_banner(address, port, scope=device.scope, timeout=2.0)
            reply = grab_banner(address, port, scope=device.scope, timeout=2.0, send=b"id\n")
            probes.append(DebugProbe(port, first.text, reply.text, declared=name))
        except LabFault as exc:
            probes.append(DebugProbe(port, "", "", error=str(exc), declared=name))
    result = judge_debug_interfaces(probes, open_ports=open_ports, declared_enabled=enabled, consoles=consoles)
    if result.verdict == Verdict.PASS and open_ports and alive_now(device, open_ports) is not True:
        return CheckResult.inconclusive("the unit was not shown alive after the probes: the ports found open "
                                        f"({', '.join(map(str, open_ports))}) are not evidence", *result.evidence)
    return result
