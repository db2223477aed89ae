"""5.5 test cases: best-practice cryptography on every declared TLS and SSH service and toward the
broker (5.5-1-2), and configuration changes refused without authentication (5.5-5-2)."""

from __future__ import annotations

import secrets
from typing import TYPE_CHECKING

from harness.checks.network_auth import judge_unauthenticated_change
from harness.verdict import CheckResult, LabFault, combine

if TYPE_CHECKING:
    from harness.device import Device


def _tcp_port(port: str | None) -> int | None:
    return int(port[4:]) if port and port.startswith("tcp/") else None


def crypto_services(device: Device) -> list[CheckResult]:
    """TLS (sslyze) and SSH (algorithm lists) of every enabled declared service, against the
    profile's policies. A service the lab could not reach is INCONCLUSIVE, never a pass."""
    from harness.checks.crypto import judge_ssh, judge_tls
    from harness.links.ssh import assess_ssh
    from harness.links.tls import assess_tls

    address = device.bench.address(device.unit_id)
    if address is None:
        return [CheckResult.inconclusive(f"unit {device.unit_id} declares no network address")]
    out: list[CheckResult] = []
    policies = device.profile.policies
    for iface in device.profile.ixit.interfaces:
        port = _tcp_port(iface.port)
        if iface.status != "enabled" or port is None:
            continue
        kind = (iface.kind or "").lower()
        try:
            if iface.tls or kind in ("https", "mqtts", "tls"):
                result = judge_tls(assess_tls(address, port, scope=device.scope), policies.tls)
            elif kind == "ssh":
                result = judge_ssh(assess_ssh(address, port, scope=device.scope, timeout=10.0), policies.ssh)
            else:
                continue
        except LabFault as exc:
            result = CheckResult.inconclusive(f"{iface.name} (tcp/{port}) could not be assessed: {exc}")
        result.reason = f"{iface.name} (tcp/{port}): {result.reason}"
        out.append(result)
    return out


def best_practice_crypto(device: Device, *, extra: list[CheckResult] | None = None) -> CheckResult:
    """5.5-1-2: ``extra`` carries the rogue-broker part when the profile has an MQTT link."""
    parts = crypto_services(device) + list(extra or [])
    if not parts:
        return CheckResult.inconclusive("IXIT 15-Intf declares no TLS or SSH service and no broker connection "
                                        "to assess")
    return combine(parts, all_passed_reason="; ".join(p.reason for p in parts))


def unauthenticated_change(device: Device) -> CheckResult:
    """5.5-5-2: the profile's ``change_config_unauthenticated`` procedure tries to set a value
    without credentials; ``read_config`` (authenticated) shows whether it took."""
    if not device.has("change_config_unauthenticated"):
        return CheckResult.inconclusive("the profile declares no change_config_unauthenticated procedure, so "
                                        "an unauthenticated change cannot be attempted")
    marker = "harness-" + secrets.token_hex(4)
    res = device.run("change_config_unauthenticated", value=marker)
    alive = device.prove_alive_network() if res.outcome == "rejected" else None
    changed = None
    if device.has("read_config"):
        read = device.run("read_config")
        if read.ok:
            changed = read.captures.get("value") == marker
            alive = True if alive is None else alive
    if res.outcome == "ok":
        device.mark_changed()
    return judge_unauthenticated_change(res.outcome, res.detail, changed, alive)
