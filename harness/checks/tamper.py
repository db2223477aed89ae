"""5.7-2 — after an unauthorised change of its software the device alerts and restricts its network
access (TS 103 701 5.7-2-2).

The lab changes the installed software the way the profile declares (an engineering write, not an
update), then looks for the alert IXIT 20-SecBoot describes and probes the network services. PASS:
the alert was shown, the network services stopped answering, and the unit itself was still alive (so
the silence is the restriction, not a dead unit)."""

from __future__ import annotations

from dataclasses import dataclass

from harness.verdict import CheckResult, Evidence


@dataclass(frozen=True)
class TamperObservation:
    modified: str  # outcome of the modification procedure
    alert: str  # outcome of the alert procedure: ok (shown), another outcome (not shown), "" (not looked for)
    network_answered: bool | None  # the network services answered after the change (None: not probed)
    alive: bool | None  # the unit answered on its console after the change
    network_before: bool | None = None  # the same probe before the change (it must answer then)
    detail: str = ""


def judge_tamper_response(obs: TamperObservation | None) -> CheckResult:
    if obs is None or obs.modified != "ok":
        return CheckResult.inconclusive("the software could not be modified (procedure `modify_software`: "
                                        f"{obs.modified if obs else 'not run'})")
    row = Evidence("observation", "after the unauthorised software change", {
        "modification": obs.modified, "alert": obs.alert or "not looked for",
        "network answered before": obs.network_before, "network answered after": obs.network_answered,
        "unit alive": obs.alive, "detail": obs.detail[:200] or None})
    if obs.network_before is False:
        return CheckResult.inconclusive("the network services did not answer even before the change: the "
                                        "restriction cannot be told from a lab fault", row)
    failures = []
    if obs.alert and obs.alert != "ok":
        failures.append(f"no alert was shown ({obs.alert})")
    if obs.network_answered:
        failures.append("the network services still answered")
    if failures:
        return CheckResult.failed("after an unauthorised software change " + " and ".join(failures), row)
    if not obs.alert:
        return CheckResult.inconclusive("no way to see the alert: the profile declares no `read_alert` procedure", row)
    if obs.network_answered is None:
        return CheckResult.inconclusive("the network services were not probed (no `probe_network` procedure)", row)
    if not obs.alive:
        return CheckResult.inconclusive("the network went silent but the unit did not answer on its console "
                                        "either: a dead unit is not a restriction", row)
    return CheckResult.passed("the device alerted and its network services stopped answering while the unit "
                              "stayed alive", row)
