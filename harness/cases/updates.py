"""Update test cases (5.3-2-2, 5.3-7-1, 5.3-9-1, 5.3-10-1, 5.7-1-2) and the model designation
(5.3-16-2), from one update campaign per unit.

The campaign offers, in this order, while the unit still runs its original firmware: the valid
package with one payload byte changed, without signature, signed with a foreign key, with a
re-labelled version; then the valid package; then an older, correctly signed one (rollback).
Each round reads the version on the live unit afterwards: a refusal counts only with that read.
Packages reach the device as the profile's ``apply_update`` procedure says: a URL on the
harness's own package server (``{{package_url}}``) or the bytes (``{{package_b64}}``).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.checks.updates import (
    UpdateCrypto,
    UpdateRound,
    judge_authenticity,
    judge_model_designation,
    judge_secure_boot,
    judge_update_crypto,
    judge_valid_update,
)
from harness.verdict import CheckResult, Evidence, LabFault, Verdict, combine

if TYPE_CHECKING:
    from harness.device import Device

NEGATIVES = ("flip_byte", "strip_signature", "foreign_signature", "relabel_version")
AUTHENTICITY = ("flip_byte", "strip_signature", "foreign_signature")
_OUTCOMES = {"ok": "installed", "installed": "installed", "rejected": "refused", "refused": "refused",
             "timeout": "timeout"}


class UpdateSetupError(LabFault):
    """The profile gives the harness no package to test with."""


def _read_file(device: Device, value: Any, what: str) -> bytes:
    path = Path(str(device.bench.resolve(value, where=f"updates.{what}")))
    if not path.is_absolute():
        path = device.bench.profile_path.parent / path
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UpdateSetupError(f"updates.{what}: cannot read {path}: {exc.strerror}") from None


def read_version(device: Device) -> str | None:
    """The firmware version on the live unit, or None when it did not answer."""
    try:
        device.ensure("logged_in")
        result = device.run("read_version")
    except LabFault:
        device.state.session = "unknown"
        return None
    return result.captures.get("version") if result.ok else None


def _offer(device: Device, server: Any, kind: str, data: bytes, offered: str | None) -> UpdateRound:
    before = read_version(device)
    url = server.offer(data, f"{kind}.pkg")
    try:
        device.ensure("logged_in")
        res = device.run("apply_update", package_url=url, package_b64=base64.b64encode(data).decode())
        outcome, said = _OUTCOMES.get(res.outcome, "error"), res.detail or res.outcome
    except LabFault as exc:
        outcome, said = "error", str(exc)
    device.state.session = "unknown"  # an install reboots; a refusal may end the session
    device.mark_changed()
    after = read_version(device)
    fetched = [f"{f.method} {f.status} {f.bytes_sent} B" for f in server.fetches(url)]
    device.note(f"update round {kind}: {outcome}, {before} → {after}, fetches {fetched}")
    return UpdateRound(kind, f"{kind}.pkg sha256:{hashlib.sha256(data).hexdigest()[:16]}", offered, outcome,
                       said, before, after)


def campaign(device: Device) -> dict[str, UpdateRound]:
    """Run (once per unit) the update rounds every update test case judges."""
    if "updates" in device.cache:
        return device.cache["updates"]
    from harness.firmware import derive, inspect_package
    from harness.firmware.keys import load_private_key
    from harness.firmware.serve import PackageServer

    spec = device.profile.updates
    if spec.valid is None:
        raise UpdateSetupError("the profile declares no valid update package (updates.valid)")
    if not device.has("apply_update"):
        raise UpdateSetupError("the profile declares no apply_update procedure")
    valid = _read_file(device, spec.valid, "valid")
    info = inspect_package(valid, format=spec.format)
    version = (info.get("header") or {}).get("version")
    key = None
    if spec.signing_key is not None:
        key = load_private_key(_read_file_path(device, spec.signing_key))
    rounds: dict[str, UpdateRound] = {}
    with PackageServer(host=device.bench.lab.serve_address) as server:
        for kind in NEGATIVES:
            data = derive(valid, kind, format=spec.format)
            offered = (inspect_package(data, format=spec.format).get("header") or {}).get("version", version)
            rounds[kind] = _offer(device, server, kind, data, offered)
        rounds["valid"] = _offer(device, server, "valid", valid, version)
        older = None
        if spec.older is not None:
            older = _read_file(device, spec.older, "older")
        elif key is not None:
            older = derive(valid, "rollback", format=spec.format, key=key)
        if older is not None:
            old_version = (inspect_package(older, format=spec.format).get("header") or {}).get("version")
            rounds["rollback"] = _offer(device, server, "rollback", older, old_version)
    device.cache["updates"] = rounds
    device.cache["update_package_info"] = info
    return rounds


def _read_file_path(device: Device, value: Any) -> Path:
    path = Path(str(device.bench.resolve(value, where="updates.signing_key")))
    return path if path.is_absolute() else device.bench.profile_path.parent / path


def _ixit_upd(device: Device) -> Any:
    return device.profile.ixit.other.get("7-UpdMech")


def _with_ixit(device: Device, functional: CheckResult, what: str) -> CheckResult:
    """A conceptual test case judged with functional evidence: the IXIT must describe the
    mechanism, and what the device did must not contradict it."""
    declared = _ixit_upd(device)
    functional.evidence.append(Evidence("table", "IXIT 7-UpdMech", [{"declared": declared}]))
    if functional.verdict == Verdict.FAIL or functional.verdict == Verdict.INCONCLUSIVE:
        return functional
    if not declared:
        return CheckResult.failed(f"IXIT 7-UpdMech does not describe {what}", *functional.evidence)
    functional.reason += f" (IXIT 7-UpdMech describes {what}; functional evidence attached)"
    return functional


def valid_update(device: Device) -> CheckResult:
    """5.3-2-2"""
    return judge_valid_update(campaign(device)["valid"])


def update_crypto(device: Device) -> CheckResult:
    """5.3-7-1"""
    rounds = campaign(device)
    info = device.cache.get("update_package_info", {})
    header = info.get("header") or {}
    algorithm = header.get("sig_alg") or header.get("signature_algorithm") or (
        "Ed25519" if info.get("format") == "simfw1" and info.get("signed") else None)
    result = judge_update_crypto(UpdateCrypto(algorithm, ["http"], str(_ixit_upd(device) or "") or None))
    result = combine([result, judge_authenticity(list(rounds.values()), AUTHENTICITY)],
                     all_passed_reason=f"packages are signed with {algorithm} and the device verifies the signature")
    return _with_ixit(device, result, "the update cryptography")


def genuine_and_unmodified(device: Device) -> CheckResult:
    """5.3-9-1"""
    rounds = list(campaign(device).values())
    return _with_ixit(device, judge_authenticity(rounds, AUTHENTICITY + ("relabel_version",)),
                      "how updates are verified")


def trust_anchored(device: Device) -> CheckResult:
    """5.3-10-1"""
    rounds = list(campaign(device).values())
    return _with_ixit(device, judge_authenticity(rounds, AUTHENTICITY + ("relabel_version", "rollback")),
                      "the trust relationship updates are verified against")


def secure_boot(device: Device) -> CheckResult:
    """5.7-1-2"""
    return judge_secure_boot(campaign(device)["flip_byte"])


def model_designation(device: Device) -> CheckResult:
    """5.3-16-2: the model read from the device (``read_model``, else ``read_version``'s ``model``)."""
    read = None
    try:
        device.ensure("logged_in")
        for proc in ("read_model", "read_version"):
            if device.has(proc):
                res = device.run(proc)
                read = res.captures.get("model") if res.ok else None
                if read:
                    break
    except LabFault as exc:
        return CheckResult.inconclusive(f"the model could not be read: {exc}")
    return judge_model_designation(read, device.profile.product.model,
                                   device.profile.ixit.user_info.model_designation)
