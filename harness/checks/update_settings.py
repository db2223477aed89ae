"""5.3-6: automatic updates (or update notifications) are on in the factory state and the user can
switch them off and on again. Judged on the setting as the device reports it: in the factory
state, after the user switched it off, and after the user switched it on again."""

from __future__ import annotations

from dataclasses import dataclass

from harness.verdict import CheckResult, Evidence

_ON = {"on", "true", "1", "enabled", "yes", "auto", "automatic"}
_OFF = {"off", "false", "0", "disabled", "no", "manual"}


def reading(raw: str | None) -> bool | None:
    """A read-back as on (True) / off (False); None when unread or not understood."""
    if raw is None:
        return None
    value = raw.strip().lower()
    return True if value in _ON else False if value in _OFF else None


@dataclass
class SettingRead:
    step: str  # "factory state", "after switching off", "after switching on again"
    raw: str | None  # the value as the device reported it (None: not read)
    detail: str = ""  # why it was not read


def judge_update_setting(reads: list[SettingRead], setting: str = "automatic updates", *,
                         waited_s: float = 0.0) -> CheckResult:
    """``reads``: the factory state, then after switching off, then after switching on again;
    ``waited_s``: how long the read-back was repeated after a switch (settle ``setting_apply``)."""
    rows = [{"step": r.step, "device reported": r.raw if r.raw is not None else f"(not read: {r.detail or 'no answer'})"}
            for r in reads]
    evidence = Evidence("table", f"the {setting} setting as the device reported it", rows)
    expected = [("factory state", True), ("after switching off", False), ("after switching on again", True)]
    if not reads:
        return CheckResult.inconclusive(f"the {setting} setting was never read")
    for (step, wanted), read in zip(expected, reads, strict=False):
        value = reading(read.raw)
        if value is None:
            why = f"reported {read.raw!r}, neither on nor off" if read.raw is not None else (read.detail or "no answer")
            return CheckResult.inconclusive(f"the {setting} setting could not be read {step} ({why})", evidence)
        if value != wanted:
            if step == "factory state":
                return CheckResult.failed(f"{setting} are off in the factory state (after a factory reset the device "
                                          f"reported {read.raw!r})", evidence)
            verb = "off" if not wanted else "on again"
            waited = (f"{waited_s:g} s (settle setting_apply)" if waited_s > 0 else
                      "right after (declare settle setting_apply if the unit applies a setting later)")
            return CheckResult.failed(f"the user cannot switch {setting} {verb}: after doing so the device still "
                                      f"reported {read.raw!r}, read back {waited}", evidence)
    if len(reads) < len(expected):
        return CheckResult.inconclusive(f"the {setting} setting was read only {reads[-1].step}; switching it "
                                        f"{'off' if len(reads) == 1 else 'on again'} was not shown", evidence)
    return CheckResult.passed(f"{setting} on in the factory state, off after the user switched them off, on again "
                              f"after switching them on", evidence)
