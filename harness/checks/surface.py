"""5.6 attack surface: open ports against IXIT 15-Intf, unauthenticated disclosure, debug shells.

Pure: the scan, the probes and the banner grabs are done by harness.net; these functions judge
the facts they return.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from harness.verdict import CheckResult, Evidence


@dataclass
class PortFacts:
    """What the lab saw on one address."""

    address: str
    tcp_open: list[int]
    tcp_complete: bool
    tcp_filtered: list[int] = field(default_factory=list)
    udp: dict[int, str] = field(default_factory=dict)  # declared UDP port → answered|closed|silent
    duration_s: float | None = None
    # The unit answered at the application level after the scan (profile's alive_network or
    # console attention). A kernel still completes TCP handshakes for a frozen process, so open
    # ports alone do not prove the unit was alive. None: not checked.
    alive_after: bool | None = None


def _declared(interfaces: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {i["port"]: i for i in interfaces if i.get("port")}


def judge_open_ports(facts: PortFacts, interfaces: list[dict[str, Any]]) -> CheckResult:
    """5.6-1-2: every reachable port is an interface the IXIT declares as enabled.

    An open port that is undeclared, or declared disabled, is a FAIL listing the ports. A scan cut
    short by its deadline proves nothing about the ports it did not reach: INCONCLUSIVE.
    """
    declared = _declared(interfaces)
    rows = []
    undeclared: list[str] = []
    for port in facts.tcp_open:
        key = f"tcp/{port}"
        entry = declared.get(key)
        status = entry["status"] if entry else "undeclared"
        rows.append({"port": key, "state": "open", "IXIT 15-Intf": entry.get("name") if entry else None,
                     "declared status": status})
        if status != "enabled":
            undeclared.append(key + (" (declared disabled)" if entry else ""))
    for port, state in sorted(facts.udp.items()):
        key = f"udp/{port}"
        entry = declared.get(key)
        rows.append({"port": key, "state": state, "IXIT 15-Intf": entry.get("name") if entry else None,
                     "declared status": entry["status"] if entry else "undeclared"})
        if state == "answered" and (entry is None or entry["status"] != "enabled"):
            undeclared.append(key + (" (declared disabled)" if entry else ""))
    missing = [k for k, e in declared.items() if e.get("status") == "enabled" and k.startswith("tcp/")
               and int(k[4:]) not in facts.tcp_open]
    ev = [Evidence("table", f"reachable ports of {facts.address}", rows),
          Evidence("table", "scan", [{"address": facts.address, "TCP ports scanned": "1-65535",
                                      "complete": facts.tcp_complete, "open": len(facts.tcp_open),
                                      "timed out": len(facts.tcp_filtered), "duration s": facts.duration_s,
                                      "declared but not reachable": missing}])]
    if undeclared:
        return CheckResult.failed(f"{facts.address}: open port(s) the IXIT does not declare as enabled: "
                                  f"{', '.join(undeclared)}", *ev)
    unreachable = _unreachable(facts, declared)
    if unreachable:
        return CheckResult.inconclusive(f"{facts.address}: {unreachable}", *ev)
    if not facts.tcp_complete:
        return CheckResult.inconclusive(f"{facts.address}: the TCP scan did not finish, unscanned ports may be open",
                                        *ev)
    note = f"; declared but not reachable: {', '.join(missing)}" if missing else ""
    return CheckResult.passed(f"{facts.address}: every open port is a declared, enabled interface "
                              f"({len(facts.tcp_open)} TCP, {sum(s == 'answered' for s in facts.udp.values())} UDP)"
                              f"{note}", *ev)


def _unreachable(facts: PortFacts, declared: dict[str, dict[str, Any]]) -> str | None:
    """Why the scan says nothing about the unit (it was not shown reachable and alive), or None.

    An empty scan of a dead unit looks exactly like a unit with every interface off; a unit is
    judged only when at least one declared enabled interface answered and the unit answered after
    the scan."""
    answered_udp = [p for p, st in facts.udp.items() if st == "answered"]
    if not facts.tcp_open and not answered_udp:
        return "no port answered (0 TCP ports open, no UDP answer): the unit was not reachable"
    enabled = [k for k, e in declared.items() if e.get("status") == "enabled"]
    reached = [k for k in enabled if (k.startswith("tcp/") and int(k[4:]) in facts.tcp_open)
               or (k.startswith("udp/") and int(k[4:]) in answered_udp)]
    if enabled and not reached:
        return (f"none of the declared enabled interfaces ({', '.join(enabled)}) answered: the unit was not "
                "shown reachable")
    if facts.alive_after is False:
        return "the unit did not answer after the scan (dead or frozen), so the scan is not evidence"
    if facts.alive_after is None:
        return ("the unit was not shown alive after the scan (no alive_network or attention procedure, and no "
                "declared service answered)")
    return None


@dataclass
class Disclosure:
    """One unauthenticated request and what came back."""

    where: str  # e.g. "https://127.77.0.1:8443/api/status" or "tcp/23 banner"
    status: int | None
    text: str
    error: str | None = None


def sensitive_markers(product: dict[str, Any], unit: dict[str, Any]) -> dict[str, str]:
    """Strings whose presence in an unauthenticated answer discloses security-relevant facts."""
    out = {}
    if product.get("firmware"):
        out["firmware version"] = str(product["firmware"])
    for key, label in (("serial", "serial number"), ("mac", "MAC address")):
        if unit.get(key):
            out[label] = str(unit[key])
    return out


_GENERIC = {"kernel version": re.compile(r"\bLinux(?: version)? \d+\.\d+\.\d+", re.I),
            "build string": re.compile(r"\bbuild[\s:=\"]+[\w.-]*\d{6,}", re.I)}


def judge_unauthenticated_disclosure(answers: list[Disclosure], markers: dict[str, str]) -> CheckResult:
    """5.6-2-2: without authentication the device discloses no security-relevant information
    (firmware and kernel versions, serial number, MAC, build) on its network interfaces."""
    rows, leaks, unread, silent = [], [], [], []
    for a in answers:
        if a.error is None and a.status is None:
            silent.append(a.where)  # the service said nothing first: no answer to judge
        found = []
        if a.error is None and a.status is not None and a.status < 300:
            low = a.text.lower()
            found += [label for label, value in markers.items() if value.lower() in low]
            found += [label for label, rx in _GENERIC.items() if rx.search(a.text)]
        if a.error:
            unread.append(a.where)
        rows.append({"request": a.where, "status": a.status, "error": a.error, "disclosed": found,
                     "excerpt": a.text[:200]})
        if found:
            leaks.append(f"{a.where}: {', '.join(found)}")
    ev = Evidence("table", "unauthenticated requests", rows)
    if leaks:
        return CheckResult.failed("unauthenticated answers disclose " + "; ".join(leaks), ev)
    if not answers:
        return CheckResult.inconclusive("no unauthenticated request could be made (nothing declared to ask)", ev)
    if len(unread) + len(silent) == len(answers):
        return CheckResult.inconclusive(f"no answer was read ({', '.join(unread + silent) or 'none'})", ev)
    extra = f"; not read: {', '.join(unread)}" if unread else ""
    if unread:
        return CheckResult.inconclusive(f"answers read disclose nothing, but some requests failed{extra}", ev)
    read = len(answers) - len(silent)
    quiet = f"; silent: {', '.join(silent)}" if silent else ""
    return CheckResult.passed(f"{read} unauthenticated answer(s) disclose no version, serial or MAC{quiet}", ev)


@dataclass
class DebugProbe:
    port: int
    banner: str
    reply: str  # answer to the harness's `id` command
    error: str | None = None
    declared: str | None = None  # IXIT 15-Intf name when declared


@dataclass
class ConsoleProbe:
    """A console/UART interface (IXIT 15-Intf entry without a port, or a serial link of the
    profile) and what the profile's procedures showed on it."""

    name: str
    without_login: bool | None  # a shell answered with no login; None: not observed
    physical: bool | None = True  # ICS/IXIT: reachable by touching the device
    detail: str = ""


_SHELL_PROMPT = re.compile(r"(^|\n)[^\n]{0,40}[#$] ?$")
_ROOT = re.compile(r"uid=\d+\([\w-]+\)")


def _network_rows(probes: list[DebugProbe]) -> tuple[list[dict[str, Any]], list[str], list[str]]:
    rows, shells, unread = [], [], []
    for p in probes:
        shell = p.error is None and bool(_ROOT.search(p.reply))
        prompt = bool(_SHELL_PROMPT.search(p.banner.rstrip("\r\n ") + " ")) if p.banner else False
        silent = not p.banner.strip() and not p.reply.strip()
        rows.append({"interface": f"tcp/{p.port}", "declared": p.declared, "banner": p.banner[:120],
                     "answer to id": p.reply[:120], "shell without authentication": shell, "error": p.error})
        if shell:
            shells.append(f"tcp/{p.port}")
        elif p.error or silent or (prompt and not p.reply):
            # A port that says nothing (a frozen process still completes TCP handshakes) or a
            # prompt that ignores `id` does not show whether it gives a shell.
            unread.append(f"tcp/{p.port}")
    return rows, shells, unread


def judge_debug_interfaces(probes: list[DebugProbe], *, open_ports: list[int] | None = None,
                           declared_enabled: list[int] | None = None,
                           consoles: list[ConsoleProbe] | None = None) -> CheckResult:
    """5.6-4-2: no debug interface gives a shell without authentication — neither a network port
    that is undeclared or declared as debug, nor a physically accessible console/UART.

    A network shell is shown by a command's answer (``id`` printing ``uid=…``), not by a prompt
    alone; a console shell by the profile's ``attention`` reaching ``logged_in`` with no login.
    ``open_ports`` is what the scan found (None: unknown), ``declared_enabled`` the TCP ports the
    IXIT declares enabled: when those do not answer, the network was not reached. Nothing observed
    is never a PASS."""
    consoles = list(consoles or [])
    rows, shells, unread = _network_rows(probes)
    for c in consoles:
        rows.append({"interface": c.name, "declared": c.name, "physically accessible": c.physical,
                     "shell without login": c.without_login, "detail": c.detail[:200]})
    open_shells = [c.name for c in consoles if c.without_login is True and c.physical is not False]
    sealed = [c.name for c in consoles if c.without_login is True and c.physical is False]
    consoles_unread = [c.name for c in consoles if c.without_login is None]
    ev = Evidence("table", "debug interface probes", rows)
    if shells or open_shells:
        where = [*shells, *(f"{n} (console without login)" for n in open_shells)]
        return CheckResult.failed(f"a shell without authentication on {', '.join(where)}", ev)
    network_unreached = (open_ports is not None and not open_ports and bool(declared_enabled))
    problems = []
    if unread:
        problems.append(f"could not tell whether {', '.join(unread)} gives a shell")
    if consoles_unread:
        problems.append(f"the console {', '.join(consoles_unread)} was not observed "
                        f"({'; '.join(c.detail for c in consoles if c.without_login is None and c.detail)})")
    if network_unreached:
        problems.append("no declared enabled port answered: the unit was not reachable over the network")
    consoles_seen = [c for c in consoles if c.without_login is not None]
    if open_ports is None and not probes and not consoles_seen:
        problems.append("no open port was known and no console was observed")
    elif not open_ports and not probes and not consoles_seen:
        problems.append("0 open ports and no console observed: nothing was probed")
    if problems:
        return CheckResult.inconclusive("; ".join(problems), ev)
    summary = {"open TCP ports": list(open_ports or []), "ports probed for a shell": [p.port for p in probes],
               "consoles observed": [c.name for c in consoles_seen]}
    ev_summary = Evidence("observation", "what 5.6-4 reached", summary)
    note = (f"; {', '.join(sealed)} gives a shell without login but is declared not physically accessible"
            if sealed else "")
    return CheckResult.passed(f"{len(probes)} port(s) probed of {len(open_ports or [])} open, "
                              f"{len(consoles_seen)} console(s) observed; none gives a shell without "
                              f"authentication{note}", ev, ev_summary)
