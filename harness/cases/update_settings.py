"""5.3-6-2: after a factory reset the harness reads the automatic-update setting
(``read_update_settings``, capturing ``auto_update``), switches it off and reads it back, then
switches it on again and reads it back (``set_update_settings`` with ``auto_update`` = off / on,
also spelt ``auto_update_bool`` = false / true and ``auto_update_number`` = 0 / 1 for a device
whose API wants those). A read-back is repeated until it shows the switch or the declared settle
time ``setting_apply`` has passed. The unit is left with the setting on, as delivered."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

from harness.cases.consent import online
from harness.checks.update_settings import SettingRead, judge_update_setting, reading
from harness.verdict import CheckResult, Evidence, LabFault

if TYPE_CHECKING:
    from harness.device import Device

PROCEDURES = ("factory_reset", "read_update_settings", "set_update_settings")
MAX_READS = 10  # read-backs of one switch while the declared settle time setting_apply runs
REREAD_GAP_S = 1.0  # real seconds between read-backs: the setting has no event to wait on


def _over_mqtt(device: Device) -> bool:
    return any(device.link_kind(name) == "mqtt" for p in PROCEDURES[1:] for name in device.procedure_links(p))


def _read(device: Device, step: str) -> SettingRead:
    result = device.run("read_update_settings")
    if not result.ok:
        return SettingRead(step, None, f"{result.outcome}: {result.detail}".strip(": "))
    value = result.captures.get("auto_update")
    return SettingRead(step, None if value is None else str(value),
                       "" if value is not None else "read_update_settings captured no auto_update")


def setting_variables(on: bool) -> dict[str, str]:
    """What ``set_update_settings`` may write, in the spelling of the device's API: ``on``/``off``,
    ``true``/``false`` or ``1``/``0`` (the profile picks ``{{auto_update}}``, ``{{auto_update_bool}}``
    or ``{{auto_update_number}}``)."""
    return {"auto_update": "on" if on else "off", "auto_update_bool": "true" if on else "false",
            "auto_update_number": "1" if on else "0"}


def apply_seconds(device: Device) -> float:
    """How long a switched setting may take to show in a read-back (settle ``setting_apply``,
    scaled; 0 when undeclared: read once, right after): an app setting that goes through the
    cloud reaches the unit some seconds later."""
    return float(device.profile.settle.get("setting_apply", 0.0)) * device.settle_scale


def read_back(device: Device, step: str, wanted: bool) -> SettingRead:
    """Read the setting until it shows ``wanted`` or ``setting_apply`` has passed (bounded in reads)."""
    deadline = time.monotonic() + apply_seconds(device)
    read = _read(device, step)
    for _ in range(MAX_READS - 1):
        remaining = deadline - time.monotonic()
        if read.raw is None or reading(read.raw) is wanted or remaining <= 0:
            break
        threading.Event().wait(min(REREAD_GAP_S, remaining))
        read = _read(device, step)
    return read


def _set(device: Device, value: str) -> str | None:
    result = device.run("set_update_settings", **setting_variables(value == "on"))
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
            reads.append(read_back(device, step, value == "on"))
    result = judge_update_setting(reads, waited_s=apply_seconds(device))
    result.evidence.append(Evidence("table", "steps", steps))
    return result
