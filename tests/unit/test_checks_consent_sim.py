"""The hub's privacy and update settings (harness.sim.privacy) on a real simulated unit: consent
gates the usage message, a factory reset restores the factory settings, the defects switch it."""

from __future__ import annotations

import asyncio
import dataclasses
import json
from pathlib import Path

from harness.sim.catalog import PERSONAS
from harness.sim.flash import Flash
from harness.sim.privacy import PrivacySettings
from harness.sim.timing import Delays
from harness.sim.unit import Unit


def unit(tmp: Path, **behaviour: object) -> Unit:
    persona = PERSONAS["compliant"]
    b = dataclasses.replace(persona.behaviour, **behaviour)
    return Unit(persona.unit(1), b, Flash(tmp / "u1.json"), Delays(scale=0.0))


def test_consent_gates_usage_and_a_reset_restores_the_factory_settings(tmp_path: Path) -> None:
    u = unit(tmp_path)
    p = PrivacySettings(u)
    assert not p.usage_allowed() and p.auto_update()
    assert p.consent_command("1") == {"Consent": "given"} and p.usage_allowed()
    assert p.owner_command(json.dumps({"name": "Alex", "location": "Tampere"})) == {"Owner": "saved"}
    assert p.usage()["location"] == "Tampere" and p.profile_upload() is None  # TLS only on compliant firmware
    assert p.auto_update_command("off") == {"AutoUpdate": "off"} and not p.auto_update()
    assert p.consent_command("0") == {"Consent": "withdrawn"} and not p.usage_allowed()
    assert json.loads((tmp_path / "u1.json").read_text())["user_data"]["privacy"]["auto_update"] is False

    async def reset() -> None:
        u.power_on()
        await u.wait_running(5)
        u.factory_reset()
        await asyncio.sleep(0)
        await u.wait_running(5)
        await u.shutdown()
    asyncio.run(reset())
    assert not p.usage_allowed() and p.auto_update() and "owner" not in p.usage()


def test_the_defects(tmp_path: Path) -> None:
    before = PrivacySettings(unit(tmp_path / "a", telemetry_before_consent=True))
    assert before.usage_allowed()
    after = PrivacySettings(unit(tmp_path / "b", telemetry_after_withdrawal=True))
    assert not after.usage_allowed()
    after.consent_command("1")
    after.consent_command("0")
    assert after.usage_allowed()
    assert not PrivacySettings(unit(tmp_path / "c", auto_update_default=False)).auto_update()
    plain = PrivacySettings(unit(tmp_path / "d", personal_data_plaintext=True))
    plain.owner_command(json.dumps({"name": "Alex", "location": "Tampere"}))
    request = plain.profile_upload()
    assert request is not None and request.startswith(b"POST /v1/owner-profile HTTP/1.1") and b"Tampere" in request
