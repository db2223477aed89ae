"""5.3 software updates and 5.7-1 secure boot, judged on update rounds the harness ran.

An update round is one package offered to the device: the harness notes how the device answered
(installed, refused with a reason, no answer) and the firmware version read afterwards on a live
device. A refusal counts only when the device showed it and its version was read after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.verdict import CheckResult, Evidence, combine

NEGATIVE_KINDS = {
    "flip_byte": "a package with one payload byte changed (tampered)",
    "strip_signature": "an unsigned package",
    "foreign_signature": "a package signed with a foreign key",
    "relabel_version": "a package whose version label was changed after signing",
    "rollback": "a properly signed package of an older version (rollback)",
}


@dataclass
class UpdateRound:
    kind: str  # "valid" or one of NEGATIVE_KINDS
    package: str  # file name / sha256 prefix, for the evidence
    offered_version: str | None
    outcome: str  # installed | refused | timeout | error
    device_said: str
    version_before: str | None
    version_after: str | None  # None: not read (device silent)
    booted_after: bool | None = None  # the device came back from the install (boot log seen)


def _row(r: UpdateRound) -> dict[str, object]:
    return {"package": r.kind, "file": r.package, "offered version": r.offered_version, "outcome": r.outcome,
            "device said": r.device_said[:160], "version before": r.version_before, "version after": r.version_after}


def judge_valid_update(r: UpdateRound) -> CheckResult:
    """5.3-2-2: a valid, newer, correctly signed package installs and the version changes."""
    ev = Evidence("table", "valid update", [_row(r)])
    if r.outcome in ("timeout", "error") or r.version_after is None:
        return CheckResult.inconclusive(f"the valid update ended {r.outcome} ({r.device_said or 'no answer'}); "
                                        "the version afterwards is unknown", ev)
    if r.version_after == r.offered_version and r.version_after != r.version_before:
        return CheckResult.passed(f"the valid package installed: {r.version_before} → {r.version_after}", ev)
    if r.version_after == r.offered_version and r.outcome == "installed":
        # Already at that version (an earlier, manipulated package was installed): the device
        # still installed the valid package and runs it.
        return CheckResult.passed(f"the valid package installed (the unit already ran {r.version_before})", ev)
    if r.outcome == "refused" and _newer(r.version_before, r.offered_version):
        # An earlier manipulated package left the unit on a higher version: refusing the valid one
        # is then rollback protection, not a broken update mechanism.
        return CheckResult.inconclusive(f"the unit already ran {r.version_before} (a manipulated package was "
                                        f"installed earlier), newer than the valid {r.offered_version}", ev)
    if r.outcome == "refused":
        return CheckResult.failed(f"the device refused a valid, newer package ({r.device_said[:120]})", ev)
    return CheckResult.failed(f"after the valid update the device reports {r.version_after}, expected "
                              f"{r.offered_version}", ev)


def _newer(a: str | None, b: str | None) -> bool:
    from packaging.version import InvalidVersion, Version
    try:
        return a is not None and b is not None and Version(a) > Version(b)
    except InvalidVersion:
        return False


def judge_negative_update(r: UpdateRound) -> CheckResult:
    what = NEGATIVE_KINDS.get(r.kind, r.kind)
    ev = Evidence("table", f"update with {what}", [_row(r)])
    if r.version_after is not None and r.version_after != r.version_before:
        return CheckResult.failed(f"the device installed {what}: {r.version_before} → {r.version_after}", ev)
    if r.outcome == "installed":
        return CheckResult.failed(f"the device reported installing {what}", ev)
    if r.outcome == "refused" and r.version_after is not None:
        return CheckResult.passed(f"{what} refused ({r.device_said[:120]}); version stays {r.version_after}", ev)
    return CheckResult.inconclusive(f"{what}: the device ended {r.outcome} without showing a refusal on a live "
                                    f"device ({r.device_said or 'no answer'})", ev)


def judge_authenticity(rounds: list[UpdateRound], kinds: tuple[str, ...]) -> CheckResult:
    """5.3-9 / 5.3-10: the listed negative packages are all refused and the version stays."""
    parts = [judge_negative_update(r) for r in rounds if r.kind in kinds]
    missing = [k for k in kinds if k not in {r.kind for r in rounds}]
    if missing:
        parts.append(CheckResult.inconclusive(f"not offered: {', '.join(missing)}"))
    return combine(parts, all_passed_reason="every manipulated package was refused and the version stayed")


@dataclass
class UpdateCrypto:
    signature_algorithm: str | None  # from the package, e.g. "Ed25519"
    transports: list[str]  # how the package reached the device: https, mqtts+https, serial, http …
    declared: str | None  # IXIT 7-UpdMech text


_GOOD_SIGNATURES = {"ed25519", "ed448", "ecdsa-p256-sha256", "ecdsa-p384-sha384", "rsa-pss-sha256"}


def judge_update_crypto(c: UpdateCrypto) -> CheckResult:
    """5.3-7: the update mechanism relies on best-practice cryptography: a modern signature on the
    package; plaintext transport is acceptable only because the signature covers the package."""
    ev = Evidence("table", "update cryptography", [{"package signature": c.signature_algorithm,
                                                    "transports": c.transports, "IXIT 7-UpdMech": c.declared}])
    if c.signature_algorithm is None:
        return CheckResult.failed("the update package carries no signature", ev)
    if c.signature_algorithm.lower() not in _GOOD_SIGNATURES:
        return CheckResult.failed(f"package signature {c.signature_algorithm} is not a best-practice algorithm", ev)
    plain = [t for t in c.transports if t in ("http", "mqtt", "ftp", "tftp")]
    note = f"; plaintext transport ({', '.join(plain)}) is covered by the signature" if plain else ""
    return CheckResult.passed(f"packages are signed with {c.signature_algorithm}{note}", ev)


def judge_secure_boot(r: UpdateRound) -> CheckResult:
    """5.7-1-2 where observable: an image with a changed byte never boots."""
    ev = Evidence("table", "tampered image", [_row(r) | {"booted after": r.booted_after}])
    if r.version_after is not None and r.version_after != r.version_before:
        return CheckResult.failed(f"the device booted the tampered image (now {r.version_after})", ev)
    if r.outcome == "refused" and r.version_after is not None:
        return CheckResult.passed(f"the tampered image was rejected; the device runs {r.version_after}", ev)
    return CheckResult.inconclusive("whether the tampered image would boot could not be observed", ev)


def judge_model_designation(read: str | None, profile_model: str, label: str | None = None) -> CheckResult:
    """5.3-16-2: the model designation can be read on an interface and matches the product."""
    ev = Evidence("table", "model designation", [{"read from device": read, "profile": profile_model,
                                                  "IXIT 2-UserInfo": label}])
    if read is None:
        return CheckResult.inconclusive("the model designation could not be read from the device", ev)
    if profile_model.lower() in read.lower():
        return CheckResult.passed(f"the device names its model: {read.strip()[:80]!r}", ev)
    return CheckResult.failed(f"the device says {read.strip()[:80]!r}, the product is {profile_model!r}", ev)
