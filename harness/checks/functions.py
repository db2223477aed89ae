"""5.5-4 — device functionality reachable over the network needs authentication (TS 103 701 5.5-4-2).

Each function the IXIT 13-SoftServ declares authenticated is called without credentials. The device
must refuse in a way it shows (HTTP 401/403, an authentication prompt: the probe's outcome
`rejected`) and answer right after; a function that does its work anyway is a FAIL. Anything else —
no answer, 404, 429, a dead unit — did not judge the function: INCONCLUSIVE."""

from __future__ import annotations

from dataclasses import dataclass

from harness.verdict import CheckResult, Evidence, combine


@dataclass(frozen=True)
class FunctionProbe:
    service: str  # 13-SoftServ name
    procedure: str  # the probe that called it without credentials
    outcome: str  # ok | rejected | locked | timeout | http_<code> | not_sent
    detail: str = ""
    alive_after: bool | None = None  # the unit answered right after a refusal (None: not asked)


def _one(p: FunctionProbe) -> CheckResult:
    row = Evidence("observation", f"{p.service} without credentials",
                   {"probe": p.procedure, "outcome": p.outcome, "detail": p.detail[:200], "alive after": p.alive_after})
    if p.outcome == "ok":
        return CheckResult.failed(f"{p.service}: the function answered a call without credentials ({p.procedure})",
                                  Evidence("finding", "function reachable without authentication",
                                           {"service": p.service, "probe": p.procedure}), row)
    if p.outcome == "rejected":
        if p.alive_after:
            return CheckResult.passed(f"{p.service}: refused without credentials", row)
        return CheckResult.inconclusive(f"{p.service}: refused, but the unit did not answer right after "
                                        "(a refusal counts only from a live unit)", row)
    return CheckResult.inconclusive(f"{p.service}: the call did not reach a judgement ({p.outcome}"
                                    f"{': ' + p.detail[:120] if p.detail else ''})", row)


def judge_functions_need_auth(probes: list[FunctionProbe]) -> CheckResult:
    if not probes:
        return CheckResult.inconclusive("no network function to call: the profile declares no IXIT 13-SoftServ "
                                        "service with `authenticated: true` and a probe procedure")
    return combine([_one(p) for p in probes],
                   all_passed_reason=f"all {len(probes)} declared network function(s) refused a call without "
                                     "credentials: " + ", ".join(p.service for p in probes))
