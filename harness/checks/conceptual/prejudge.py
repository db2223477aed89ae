"""Pre-judged hints for the assessor: what the structured IXIT already shows about a test case that
only an assessor can decide (a missing document, an undeclared field, a declared fact that points
one way). Hints never decide a verdict."""

from __future__ import annotations

from collections.abc import Callable

from harness.checks.conceptual._base import supplied
from harness.checks.conceptual.surface import least_privilege
from harness.profile.ixit import Ixit

Hinter = Callable[[Ixit], list[str]]
_HINTS: dict[str, Hinter] = {}


def hint(*test_cases: str) -> Callable[[Hinter], Hinter]:
    def register(fn: Hinter) -> Hinter:
        for tc in test_cases:
            _HINTS[tc] = fn
        return fn
    return register


def prejudge(test_case: str, ixit: Ixit) -> list[str]:
    """Hints for ``test_case`` (an empty list when the IXIT shows nothing mechanical)."""
    from harness.checks.conceptual.questions import load_questions

    out = []
    question = load_questions().get(test_case)
    for document in (question.ixit if question else {}):
        if not supplied(ixit, document):
            out.append(f"IXIT {document} not supplied: ask the supplier")
    if test_case in _HINTS:
        out.extend(_HINTS[test_case](ixit))
    return out


@hint("5.1-2-1", "5.1-2-2")
def _generation(ixit: Ixit) -> list[str]:
    out = []
    for m in ixit.auth_mech:
        if m.password_kind == "shared":
            out.append(f"1-AuthMech {m.id} declares one password shared by every unit")
        if "password" in m.factor and not m.generation:
            out.append(f"1-AuthMech {m.id} declares no Password Generation Mechanism")
    return out


@hint("5.1-4-1", "5.1-4-2")
def _change(ixit: Ixit) -> list[str]:
    out = [f"1-AuthMech {m.id} declares no way to change its password (change: none)"
           for m in ixit.auth_mech if m.change == "none"]
    if ixit.user_info.change_password_guide is None:
        out.append("2-UserInfo gives no Documentation of Change Mechanisms (change_password_guide)")
    return out


@hint("5.6-7-1")
def _privilege(ixit: Ixit) -> list[str]:
    if not ixit.services:
        return []
    r = least_privilege(ixit)
    return [f"13-SoftServ ({r.verdict.value} by the structured fields alone): {r.reason}"]


@hint("5.6-3-1", "5.6-3-2")
def _physical(ixit: Ixit) -> list[str]:
    return [f"15-Intf {i.name} (physical) declares no Protection" for i in ixit.interfaces
            if (i.physical or str(i.kind or "").lower() in {"uart", "console", "serial", "usb", "jtag", "swd"})
            and not i.protection]


@hint("5.6-2-1", "5.6-2-2")
def _disclosure(ixit: Ixit) -> list[str]:
    return [f"15-Intf {i.name} answers without authentication on {', '.join(i.disclosure_paths)}"
            for i in ixit.interfaces if i.disclosure_paths]


@hint("5.5-4-1", "5.5-4-2")
def _functions(ixit: Ixit) -> list[str]:
    return [f"13-SoftServ {s.name} is reachable over the network with no Authentication Mechanism"
            for s in ixit.services if s.network and not s.auth_mechanism and s.status != "disabled"]


@hint("5.7-1-1", "5.7-2-1")
def _secure_boot(ixit: Ixit) -> list[str]:
    sb = ixit.secure_boot
    if sb is None:
        return []
    return [f"20-SecBoot gives no {name}" for name, value in
            (("mechanism", sb.mechanism), ("detection", sb.detection), ("alert", sb.alert),
             ("restriction after detection", sb.restriction)) if not value]


@hint("5.9-3-1", "5.9-3-2")
def _resilience(ixit: Ixit) -> list[str]:
    return [f"11-ComMech {m.id} declares no Resilience Measures" for m in ixit.communication if not m.resilience]


@hint("5.10-1-1")
def _examination(ixit: Ixit) -> list[str]:
    if not ixit.telemetry:
        return []
    examined = [t.data for t in ixit.telemetry if t.security_examination]
    return [f"24-TelData: {len(examined)} of {len(ixit.telemetry)} items declare a Security Examination"
            + (f" ({', '.join(examined)})" if examined else "")]


@hint("6-4-1")
def _telemetry_personal(ixit: Ixit) -> list[str]:
    return [f"24-TelData {t.data} is personal data (purpose: {t.purpose or 'not given'})"
            for t in ixit.telemetry if t.personal]


@hint("5.11-2-1", "5.11-2-2")
def _service_deletion(ixit: Ixit) -> list[str]:
    holders = sorted({d.processed_by for d in ixit.personal_data if d.processed_by})
    return [f"21-PersData names processors {', '.join(holders)}; 25-DelFunc targets: "
            f"{', '.join(f.target for f in ixit.deletion) or 'none'}"] if holders else []


@hint("5.3-13-1", "5.3-13-2")
def _support(ixit: Ixit) -> list[str]:
    sp = ixit.user_info.support_period
    if sp is None:
        return ["2-UserInfo gives no support period"]
    return [] if sp.until else ["2-UserInfo support period has no end date (until)"]
