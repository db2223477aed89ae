"""Table B.1 applicability: does a provision apply to the product an ICS describes?

Rules (TS 103 701: N/A is only valid where a provision's condition does not hold):

- unconditional (M, R): applies to every product; an ICS N/A for it has no basis.
- conditional (MC, RC): applies only when every listed condition holds. A condition the ICS
  states false makes it not applicable. A condition the ICS leaves unanswered counts as
  applicable, because a lab must not skip a test on a supplier's missing answer.
- an ICS N/A where the conditions hold (or are unanswered) does not make it not applicable.
- feature-dependent (V3.1.3 MF, RF, MCF): the same rule over the listed features (the ICS says under
  ``features`` whether the product has each, by Table B.1 letter), together with any conditions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from harness.standard.model import Applicability, Provision


def decide(prov: Provision, condition_texts: Mapping[int, str], ics: Any,
           feature_texts: Mapping[str, str] | None = None) -> Applicability:
    conditions, entries = read_ics(ics)
    support = _support(entries.get(prov.id))
    na = support == "N/A"
    head = f"{prov.id} ({prov.status})"
    features = getattr(prov, "features", ())

    if features:
        return _decide_features(prov, condition_texts, feature_texts or {}, conditions, read_features(ics),
                                support, head)

    if not prov.conditions:
        reason = f"{head} applies to every product because it has no Table B.1 condition"
        if na:
            reason += "; the ICS answer N/A is not supported by Table B.1"
        return Applicability(True, reason + ".", support)

    false = [c for c in prov.conditions if conditions.get(c) is False]
    unanswered = [c for c in prov.conditions if conditions.get(c) is None]
    held = [c for c in prov.conditions if conditions.get(c) is True]

    if false:
        verb = "does" if len(false) == 1 else "do"
        reason = f"{head} does not apply because the ICS states that {_cite(false, condition_texts)} {verb} not hold"
        if support == "Y":
            reason += ", although the ICS marks the provision as supported"
        return Applicability(False, reason + ".", support)

    if unanswered:
        reason = f"{head} is treated as applicable because the ICS "
        if held:
            reason += f"states that {_cite(held, condition_texts)} {_holds(held)} but "
        reason += (f"does not answer {_cite(unanswered, condition_texts)}, and a missing answer must not "
                   "make the lab skip a test")
        if na:
            reason += "; the ICS answer N/A has no basis until the condition is answered"
        return Applicability(True, reason + ".", support, tuple(unanswered))

    reason = f"{head} applies because the ICS states that {_cite(held, condition_texts)} {_holds(held)}"
    if na:
        reason += "; the ICS answer N/A is not supported by Table B.1"
    return Applicability(True, reason + ".", support)


def read_ics(ics: Any) -> tuple[dict[int, bool | None], Mapping[str, Any]]:
    """The conditions and provision entries of an ICS model, a plain dict of the same shape, or None."""
    if ics is None:
        return {}, {}
    if isinstance(ics, Mapping):
        raw_conditions = ics.get("conditions") or {}
        entries = ics.get("provisions") or {}
    else:
        raw_conditions = getattr(ics, "conditions", None) or {}
        entries = getattr(ics, "provisions", None) or {}
    conditions: dict[int, bool | None] = {}
    for key, value in raw_conditions.items():
        try:
            number = int(key)
        except (TypeError, ValueError):
            raise ValueError(f"ICS condition {key!r} is not a Table B.1 condition number") from None
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"ICS condition {number} must be true or false, not {value!r}")
        conditions[number] = value
    return conditions, entries


def _support(entry: Any) -> str | None:
    if entry is None:
        return None
    value = entry.get("support") if isinstance(entry, Mapping) else getattr(entry, "support", None)
    return None if value is None else str(value)


def _cite(numbers: Iterable[int], texts: Mapping[int, str]) -> str:
    parts = [f"{n} ({texts.get(n, 'not in Table B.1')})" for n in numbers]
    if len(parts) == 1:
        return f"condition {parts[0]}"
    return f"conditions {', '.join(parts[:-1])} and {parts[-1]}"


def _holds(numbers: list[int]) -> str:
    return "holds" if len(numbers) == 1 else "hold"


def read_features(ics: Any) -> dict[str, bool | None]:
    """The ICS answers on Table B.1 features (V3.1.3), by letter; empty when it gives none."""
    if ics is None:
        return {}
    raw = ics.get("features") if isinstance(ics, Mapping) else getattr(ics, "features", None)
    out: dict[str, bool | None] = {}
    for key, value in (raw or {}).items():
        if value is not None and not isinstance(value, bool):
            raise ValueError(f"ICS feature {key!r} must be true or false, not {value!r}")
        out[str(key)] = value
    return out


def _decide_features(prov: Provision, condition_texts: Mapping[int, str], feature_texts: Mapping[str, str],
                     conditions: Mapping[int, bool | None], features: Mapping[str, bool | None],
                     support: str | None, head: str) -> Applicability:
    items = [(f"condition {c} ({condition_texts.get(c, 'not in Table B.1')})", conditions.get(c))
             for c in prov.conditions]
    items += [(f"feature {f} ({feature_texts.get(f, 'not in Table B.1')})", features.get(f))
              for f in prov.features]
    na = support == "N/A"
    absent = [text for text, value in items if value is False]
    unanswered = [text for text, value in items if value is None]
    if absent:
        reason = f"{head} does not apply because the ICS states that {_join(absent)} does not hold"
        if support == "Y":
            reason += ", although the ICS marks the provision as supported"
        return Applicability(False, reason + ".", support)
    if unanswered:
        reason = (f"{head} is treated as applicable because the ICS does not answer {_join(unanswered)}, "
                  "and a missing answer must not make the lab skip a test")
        if na:
            reason += "; the ICS answer N/A has no basis until that is answered"
        return Applicability(True, reason + ".", support,
                             tuple(c for c in prov.conditions if conditions.get(c) is None),
                             tuple(f for f in prov.features if features.get(f) is None))
    reason = f"{head} applies because the ICS states that {_join([t for t, _ in items])} hold"
    if na:
        reason += "; the ICS answer N/A is not supported by Table B.1"
    return Applicability(True, reason + ".", support)


def _join(parts: list[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
