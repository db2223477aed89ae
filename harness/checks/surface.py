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
    if not facts.tcp_complete:
        return CheckResult.inconclusive(f"{facts.address}: the TCP scan did not finish, unscanned ports may be open",
                                        *ev)
    note = f"; declared but not reachable: {', '.join(missing)}" if missing else ""
    return CheckResult.passed(f"{facts.address}: every open port is a declared, enabled interface "
                              f"({len(facts.tcp_open)} TCP, {sum(s == 'answered' for s in facts.udp.values())} UDP)"
                              f"{note}", *ev)


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
    rows, leaks, unread = [], [], []
    for a in answers:
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
    if unread and len(unread) == len(answers):
        return CheckResult.inconclusive(f"no answer was read ({', '.join(unread)})", ev)
    extra = f"; not read: {', '.join(unread)}" if unread else ""
    if unread:
        return CheckResult.inconclusive(f"answers read disclose nothing, but some requests failed{extra}", ev)
    return CheckResult.passed(f"{len(answers)} unauthenticated answer(s) disclose no version, serial or MAC", ev)


@dataclass
class DebugProbe:
    port: int
    banner: str
    reply: str  # answer to the harness's `id` command
    error: str | None = None
    declared: str | None = None  # IXIT 15-Intf name when declared


_SHELL_PROMPT = re.compile(r"(^|\n)[^\n]{0,40}[#$] ?$")
_ROOT = re.compile(r"uid=\d+\([\w-]+\)")


def judge_debug_interfaces(probes: list[DebugProbe]) -> CheckResult:
    """5.6-4-2: no network-reachable debug interface gives a shell without authentication.

    A shell is shown by a command's answer (``id`` printing ``uid=…``), not by a prompt alone."""
    rows, shells, unread = [], [], []
    for p in probes:
        shell = p.error is None and bool(_ROOT.search(p.reply))
        prompt = bool(_SHELL_PROMPT.search(p.banner.rstrip("\r\n ") + " ")) if p.banner else False
        rows.append({"port": f"tcp/{p.port}", "declared": p.declared, "banner": p.banner[:120],
                     "answer to id": p.reply[:120], "shell without authentication": shell, "error": p.error})
        if shell:
            shells.append(f"tcp/{p.port}")
        elif p.error or (prompt and not p.reply):
            unread.append(f"tcp/{p.port}")
    ev = Evidence("table", "debug interface probes", rows)
    if shells:
        return CheckResult.failed(f"a shell without authentication on {', '.join(shells)}", ev)
    if unread:
        return CheckResult.inconclusive(f"could not tell whether {', '.join(unread)} gives a shell", ev)
    return CheckResult.passed(f"{len(probes)} open port(s) probed; none gives a shell without authentication", ev)
