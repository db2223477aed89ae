"""Clause 5.4 — secure storage of security parameters (TS 103 701 5.4-1-2 and 5.4-3-2)."""

from __future__ import annotations

import secrets
from pathlib import Path

from harness.checks.firmware_secrets import ScannedImage, judge_hardcoded_secrets, scan_image
from harness.checks.passwords import Credential
from harness.checks.storage import KnownSecret, StoredLocation, judge_secrets_at_rest
from harness.device import Device
from harness.profile.resolve import Bench
from harness.profile.yamlpos import ConfigError
from harness.redact import REDACTOR
from harness.testcase import TestCaseContext
from harness.verdict import CheckResult, Evidence, LabFault


def _parameter(device: Device, kind: str, fallback: str) -> str:
    return next((p.id for p in device.profile.ixit.security_parameters if p.kind == kind), fallback)


def secrets_at_rest(tc: TestCaseContext, device: Device) -> CheckResult:
    """5.4-1-2 on a logged-in unit: store a Wi-Fi key the harness made up, then read every location
    IXIT 10-SecParam declares through the profile's `read_stored` procedure (variable `location`,
    capture `content`) and look for the secrets the harness knows."""
    params = [p for p in device.profile.ixit.security_parameters if p.location]
    tc.add(Evidence("table", "IXIT 10-SecParam", [p.model_dump(exclude_none=True) for p in
                                                  device.profile.ixit.security_parameters]))
    known: list[KnownSecret] = []
    if params and device.has("set_user_data"):
        planted = {"ssid": f"harness-{secrets.token_hex(4)}", "psk": secrets.token_urlsafe(15)}
        REDACTOR.add(planted["psk"], "planted Wi-Fi key")
        stored = device.run("set_user_data", **planted)
        device.mark_changed(user_data=stored.ok)
        tc.add(Evidence("observation", "Wi-Fi key stored by the harness", {"ssid": planted["ssid"],
                                                                          "set": stored.outcome}))
        if stored.ok:
            known.append(KnownSecret(_parameter(device, "psk", "Wi-Fi key"), "the Wi-Fi key the harness stored",
                                     planted["psk"]))
    password = device.current_password()
    if password:
        known.append(KnownSecret(_parameter(device, "password", "account password"),
                                 "the account's current password", password))
    by_location: dict[str, list[str]] = {}
    for p in params:
        by_location.setdefault(str(p.location), []).append(p.id)
    locations: list[StoredLocation] = []
    for location, ids in by_location.items():
        owners = ", ".join(ids)
        if not device.has("read_stored"):
            locations.append(StoredLocation(owners, location, None, "the profile declares no `read_stored` procedure"))
            continue
        got = device.run("read_stored", location=location)
        content = got.captures.get("content") if got.ok else None
        locations.append(StoredLocation(owners, location, None if content is None else str(content),
                                        got.detail or got.outcome))
    return judge_secrets_at_rest(locations, known)


def _package_paths(bench: Bench) -> list[tuple[str, Path]]:
    spec = bench.profile.updates
    out = []
    for what in ("delivered", "valid"):
        value = getattr(spec, what, None)
        if value is None:
            continue
        path = Path(str(bench.resolve(value, where=f"updates.{what}")))
        out.append((f"updates.{what}", path if path.is_absolute() else bench.profile_path.parent / path))
    return out


def _known_secrets(bench: Bench) -> dict[str, str]:
    """Secrets the lab knows that must not be in any image: every unit's label password."""
    out = {}
    for unit in bench.profile.units:
        for user in unit.accounts:
            try:
                label = bench.password(unit.id, user)
            except (LabFault, ConfigError):
                label = None  # a unit whose secret is not at hand is simply not searched for
            if label:
                out[f"label password of {unit.id}/{user}"] = label
    return out


def hardcoded_secrets(tc: TestCaseContext, bench: Bench, dictionary: list[Credential]) -> CheckResult:
    """5.4-3-2: scan the firmware images the profile provides for hard-coded critical security
    parameters (no device I/O: the image is what the manufacturer ships)."""
    from harness.firmware import FirmwareError, detect_format
    from harness.firmware.formats import resolve_format

    spec = bench.profile.updates
    defaults = {c.password for c in dictionary if c.password}
    declared = _known_secrets(bench)
    images = []
    for name, path in _package_paths(bench):
        try:
            data = path.read_bytes()
        except OSError as exc:
            images.append(ScannedImage(name, 0, [], f"cannot read {path.name}: {exc.strerror}"))
            continue
        label, decoded = name, b""
        try:
            fmt = resolve_format(spec.format, container=getattr(spec, "container", None),
                                 plugins=getattr(bench.lab, "firmware_formats", None)) or detect_format(data)
            version = (fmt.inspect(data).get("header") or {}).get("version")
            label = f"{name} ({fmt.name}{' ' + str(version) if version else ''})"
            # A format plugin that can decode (decompress, decrypt) its payload offers `payload(data)`.
            decode = getattr(fmt, "payload", None)
            decoded = decode(data) if callable(decode) else b""
        except FirmwareError as exc:
            tc.add(Evidence("observation", f"{name}: not decoded", {"error": str(exc)}))
        images.append(ScannedImage(label, len(data), scan_image(data, defaults, declared)))
        if decoded and decoded not in data:
            images.append(ScannedImage(f"{label}, decoded payload", len(decoded), scan_image(decoded, defaults, declared)))
    tc.add(Evidence("observation", "scan rules", {"default passwords": len(defaults),
                                                  "declared secrets": sorted(declared)}))
    return judge_hardcoded_secrets(images)
