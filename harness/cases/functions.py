"""Clause 5.5-4 — device functions reachable over the network need authentication (TS 103 701 5.5-4-2)."""

from __future__ import annotations

from harness.checks.functions import FunctionProbe, judge_functions_need_auth
from harness.device import Device
from harness.testcase import TestCaseContext
from harness.verdict import CheckResult, Evidence


def probe_procedure(service: object) -> str:
    """The probe a 13-SoftServ entry names (`probe`), else `probe_<name>` by convention."""
    declared = getattr(service, "probe", None)
    if declared:
        return str(declared)
    return "probe_" + str(getattr(service, "name", "")).replace("-", "_").replace(" ", "_")


def functions_need_auth(tc: TestCaseContext, device: Device) -> CheckResult:
    """Call every 13-SoftServ function declared `authenticated: true` through its probe procedure,
    with no credentials; after a refusal, prove the unit is alive (`alive_network`)."""
    services = [s for s in device.profile.ixit.services if s.authenticated]
    rows, probes = [], []
    for s in services:
        proc = probe_procedure(s)
        rows.append({"service": s.name, "probe": proc, "declared": device.has(proc)})
        if not device.has(proc):
            probes.append(FunctionProbe(s.name, proc, "not_probed", "the profile declares no such procedure"))
            continue
        got = device.run(proc)
        alive = device.prove_alive_network() if got.outcome == "rejected" else None
        if got.outcome == "ok":
            # The function did its work (a reboot, for one): the session the harness had is gone.
            device.forget_session()
            device.state.session = "unknown"
        probes.append(FunctionProbe(s.name, proc, got.outcome, got.detail, alive))
    tc.add(Evidence("table", "IXIT 13-SoftServ authenticated services", rows))
    return judge_functions_need_auth(probes)
