"""5.3-6-2: after a factory reset the harness reads the automatic-update setting
(``read_update_settings``, capturing ``auto_update``), switches it off and reads it back, then
switches it on again and reads it back (``set_update_settings`` with ``auto_update`` = off / on).
The unit is left with the setting on, as delivered."""

from __future__ import annotations

from typing import TYPE_CHECKING

from harness.cases.consent import online
from harness.checks.update_settings import SettingRead, judge_update_setting
from harness.verdict import CheckResult, Evidence, LabFault

if TYPE_CHECKING:
    from harness.device import Device

PROCEDURES = ("factory_reset", "read_update_settings", "set_update_settings")


def _over_mqtt(device: Device) -> bool:
    return any(device._link_kind(name) == "mqtt" for p in PROCEDURES[1:] for name in device.procedure_links(p))


def _read(device: Device, step: str) -> SettingRead:
    result = device.run("read_update_settings")
    if not result.ok:
        return SettingRead(step, None, f"{result.outcome}: {result.detail}".strip(": "))
    value = result.captures.get("auto_update")
    return SettingRead(step, None if value is None else str(value),
                       "" if value is not None else "read_update_settings captured no auto_update")


def _set(device: Device, value: str) -> str | None:
    result = device.run("set_update_settings", auto_update=value)
    return None if result.ok else f"{result.outcome}: {result.detail}".strip(": ")


def automatic_updates_default(device: Device) -> CheckResult:
    """5.3-6-2"""
    absent = [p for p in PROCEDURES if not device.has(p)]
    if absent:
        return CheckResult.inconclusive(f"the profile declares no {' and no '.join(absent)} procedure, so the "
                                        f"automatic-update setting cannot be read and changed by the harness")
    reset = device.factory_reset()
    device.mark_changed(user_data=True)
    if not reset.ok:
        raise LabFault(f"the factory reset did not complete ({reset.outcome}: {reset.detail})")
    if _over_mqtt(device):
        online(device)  # the setting is reached through the unit's cloud connection
    reads = [_read(device, "factory state")]
    steps = [{"step": "factory reset", "result": "done"}]
    if reads[-1].raw is not None:
        for value, step in (("off", "after switching off"), ("on", "after switching on again")):
            refused = _set(device, value)
            steps.append({"step": f"switch {value}", "result": refused or "acknowledged"})
            if refused is not None:
                reads.append(SettingRead(step, None, f"set_update_settings {refused}"))
                break
            reads.append(_read(device, step))
    result = judge_update_setting(reads)
    result.evidence.append(Evidence("table", "steps", steps))
    return result
