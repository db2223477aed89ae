"""Clause 5.6 — the declared attack surface (IXIT 15-Intf, 13-SoftServ)."""

from __future__ import annotations

from harness.checks.conceptual._base import is_network_interface, rows, rule, verdict_of
from harness.profile.ixit import Interface, Ixit
from harness.verdict import CheckResult, Evidence

DEBUG_KINDS = {"debug", "jtag", "swd"}
PHYSICAL_KINDS = {"console", "uart", "serial", "jtag", "swd", "debug", "usb"}
# Accounts that hold every privilege on the usual embedded systems.
SUPERUSER = {"root", "admin", "administrator", "system", "superuser", "uid 0", "uid=0", "0"}


def _is_debug(intf: Interface) -> bool:
    return intf.debug if intf.debug is not None else str(intf.kind or "").lower() in DEBUG_KINDS


def _is_physical(intf: Interface) -> bool:
    return intf.physical if intf.physical is not None else str(intf.kind or "").lower() in PHYSICAL_KINDS


@rule("5.6-1-1", "every enabled interface has a stated purpose", ("15-Intf",), contradicted_by=("5.6-1-2",))
def enabled_interfaces_justified(ixit: Ixit) -> CheckResult:
    enabled = [i for i in ixit.interfaces if i.status == "enabled" and not _is_physical(i)]
    read = Evidence("table", "IXIT 15-Intf (enabled network and logical interfaces)",
                    rows(enabled, "name", "kind", "port", "status", "description") or
                    [{"note": "no enabled network or logical interface", "interfaces": [i.name for i in ixit.interfaces]}])
    parts = [("FAIL", f"IXIT 15-Intf {i.name}", "enabled with no stated purpose (description)")
             for i in enabled if not (i.description or "").strip()]
    return verdict_of(parts, read, passed=(
        "every enabled network or logical interface states the purpose it is enabled for: " +
        "; ".join(f"{i.name}: {i.description}" for i in enabled) if enabled else
        "no network or logical interface is enabled"))


@rule("5.6-4-1", "debug interfaces are disabled", ("15-Intf",), contradicted_by=("5.6-4-2",))
def debug_interfaces_disabled(ixit: Ixit) -> CheckResult:
    debug = [i for i in ixit.interfaces if _is_debug(i)]
    physical = [i for i in ixit.interfaces if _is_physical(i)]
    read = Evidence("table", "IXIT 15-Intf (physical and debug interfaces)",
                    rows(debug or physical, "name", "kind", "status", "debug", "intermittent", "protection") or
                    [{"note": "no physical interface declared", "interfaces": [i.name for i in ixit.interfaces]}])
    parts = []
    for i in debug:
        entry = f"IXIT 15-Intf {i.name}"
        if i.status == "enabled":
            parts.append(("FAIL", entry, "a debug interface enabled in the delivered state"
                                         + (" (intermittently required ones must be disabled by default)"
                                            if i.intermittent else "")))
        elif not (i.protection or "").strip():
            parts.append(("PENDING", entry, "disabled, but no Protection names the software mechanism that "
                                            "disables it: ask the supplier"))
    return verdict_of(parts, read, passed=(
        "every debug interface is disabled by a declared mechanism: " +
        "; ".join(f"{i.name}: {i.protection}" for i in debug) if debug else
        f"no declared physical interface is a debug interface ({', '.join(i.name for i in physical) or 'none declared'})"))


@rule("5.6-5-1", "only services the intended use needs are enabled", ("13-SoftServ",), contradicted_by=("5.6-1-2",))
def services_needed(ixit: Ixit) -> CheckResult:
    intfs = {i.name: i for i in ixit.interfaces}
    enabled = [s for s in ixit.services if s.status != "disabled"]
    read = Evidence("table", "IXIT 13-SoftServ (enabled by default)",
                    rows(enabled, "name", "status", "needed_for", "interface") or
                    [{"note": "every declared service is disabled by default", "services": [s.name for s in ixit.services]}])
    parts = []
    for s in enabled:
        entry = f"IXIT 13-SoftServ {s.name}"
        if s.status is None:
            parts.append(("PENDING", entry, "does not say whether it is enabled by default (status): ask the supplier"))
        elif not (s.needed_for or "").strip() or s.needed_for.strip().lower() in {"none", "nothing", "-"}:
            parts.append(("FAIL", entry, "enabled by default while nothing in the intended use needs it"))
        if s.interface in intfs and intfs[s.interface].status == "disabled":
            parts.append(("PENDING", entry, f"enabled on IXIT 15-Intf {s.interface}, which 15-Intf declares "
                                            f"disabled: ask the supplier which is right"))
    return verdict_of(parts, read, passed=(
        "every service enabled by default names the intended use that needs it: " +
        "; ".join(f"{s.name}: {s.needed_for}" for s in enabled) if enabled else
        "no software service is enabled by default"))


# Not a rule: TS 103 701 judges privilege control from IXIT 17-PrivlCtrl as a whole, which needs an
# assessor. What the structured 13-SoftServ shows is a pre-judged hint for that assessor.
def least_privilege(ixit: Ixit) -> CheckResult:
    intfs = {i.name: i for i in ixit.interfaces}
    exposed = [s for s in ixit.services if s.status != "disabled" and (
        s.network if s.network is not None else (s.interface in intfs and is_network_interface(intfs[s.interface])))]
    read = Evidence("table", "IXIT 13-SoftServ (network-facing services)",
                    rows(exposed, "name", "interface", "privilege") or
                    [{"note": "no network-facing service declared", "services": [s.name for s in ixit.services]}])
    parts = []
    for s in exposed:
        entry = f"IXIT 13-SoftServ {s.name}"
        if not s.privilege:
            parts.append(("PENDING", entry, "does not say which account it runs as (privilege): ask the supplier"))
        elif s.privilege.strip().lower() in SUPERUSER:
            parts.append(("FAIL", entry, f"a network-facing service running as {s.privilege}"))
    return verdict_of(parts, read, passed=(
        "every network-facing service runs under an account of its own: " +
        ", ".join(f"{s.name} as {s.privilege}" for s in exposed) if exposed else
        "no software service faces the network"))
