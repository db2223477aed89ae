"""5.3 software updates and 5.7-1 secure boot, judged on update rounds the harness ran.

An update round is one package offered to the device: the harness notes how the device answered
(installed, refused with a reason, no answer) and the firmware version read afterwards on a live
device. A refusal counts only when the device showed it and its version was read after it.
"""

from __future__ import annotations

from dataclasses import dataclass

from harness.verdict import CheckResult, Evidence, Verdict, combine

NEGATIVE_KINDS = {
    "flip_byte": "a package with one payload byte changed (tampered)",
    "strip_signature": "an unsigned package",
    "foreign_signature": "a package signed with a foreign key",
    "relabel_version": "a package whose version label was changed after signing",
    "rollback": "a properly signed package of an older version (rollback)",
    "tamper_manifest": "a package whose signed manifest was changed",
}


@dataclass
class UpdateRound:
    kind: str  # "valid" or one of NEGATIVE_KINDS
    package: str  # file name / sha256 prefix, for the evidence
    offered_version: str | None
    outcome: str  # installed | refused | timeout | error
    device_said: str
    version_before: str | None  # None: could not be read
    version_after: str | None  # None: not read (device silent)
    booted_after: bool | None = None  # the device came back from the install (boot log seen)
    # The round started on the firmware the unit was delivered with (None: not recorded). A round
    # that ran after a manipulated package was installed proves nothing about the delivered firmware.
    from_delivered: bool | None = None


def _row(r: UpdateRound) -> dict[str, object]:
    return {"package": r.kind, "file": r.package, "offered version": r.offered_version, "outcome": r.outcome,
            "device said": r.device_said[:160], "version before": r.version_before, "version after": r.version_after,
            "from delivered firmware": r.from_delivered}


def changed(r: UpdateRound) -> bool:
    """The version read after the round differs from the one read before it. A value that could
    not be read is never evidence of a change."""
    return r.version_before is not None and r.version_after is not None and r.version_after != r.version_before


def judge_valid_update(r: UpdateRound) -> CheckResult:
    """5.3-2-2 (first part): a valid, newer, correctly signed package offered to the unit on its
    delivered firmware installs, and the version read afterwards is the package's."""
    ev = Evidence("table", "valid update", [_row(r)])
    if r.from_delivered is False:
        return CheckResult.inconclusive(
            f"the valid update ran on {r.version_before}, not on the delivered firmware (a manipulated package "
            "was installed earlier and could not be undone): it proves nothing about the delivered mechanism", ev)
    if r.version_before is None:
        return CheckResult.inconclusive("the firmware version before the valid update could not be read", ev)
    if r.outcome in ("timeout", "error") or r.version_after is None:
        return CheckResult.inconclusive(f"the valid update ended {r.outcome} ({r.device_said or 'no answer'}); "
                                        "the version afterwards is unknown", ev)
    if not _newer(r.offered_version, r.version_before):
        return CheckResult.inconclusive(f"the valid package ({r.offered_version}) is not newer than the firmware "
                                        f"the unit runs ({r.version_before}): declare a newer updates.valid", ev)
    if r.version_after == r.offered_version:
        return CheckResult.passed(f"the valid package installed: {r.version_before} → {r.version_after}", ev)
    if r.outcome == "refused":
        return CheckResult.failed(f"the device refused a valid, newer package ({r.device_said[:120]})", ev)
    return CheckResult.failed(f"after the valid update the device reports {r.version_after}, expected "
                              f"{r.offered_version}", ev)


def _newer(a: str | None, b: str | None) -> bool:
    from packaging.version import InvalidVersion, Version
    if a is None or b is None:
        return False
    try:
        return Version(a) > Version(b)
    except InvalidVersion:
        return a != b  # not comparable: only "different" can be said


def judge_negative_update(r: UpdateRound) -> CheckResult:
    what = NEGATIVE_KINDS.get(r.kind, r.kind)
    ev = Evidence("table", f"update with {what}", [_row(r)])
    if changed(r):
        return CheckResult.failed(f"the device installed {what}: {r.version_before} → {r.version_after}", ev)
    if r.outcome == "installed":
        return CheckResult.failed(f"the device reported installing {what}", ev)
    if r.version_before is None:
        return CheckResult.inconclusive(f"{what}: the firmware version before the round could not be read, so "
                                        "whether it stayed cannot be said", ev)
    if r.from_delivered is False:
        # Offered to a unit that already runs a manipulated package's version: a refusal may only
        # mean "same version", not that the device verified the package.
        return CheckResult.inconclusive(f"{what}: offered on {r.version_before}, not on the delivered firmware "
                                        "(an earlier manipulated package was installed and could not be undone)", ev)
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


# What 5.3-2's "installs updates securely" needs at the least: only genuine, unmodified packages
# install (docs/updates.md). Downgrade protection is judged under 5.3-10 (the trust relationship),
# not here: a manufacturer may allow signed downgrades by design.
SECURE_INSTALL_KINDS = ("flip_byte", "strip_signature", "foreign_signature", "relabel_version")
OPTIONAL_SECURE_KINDS = ("tamper_manifest",)  # judged when the package format could make it


def judge_secure_installation(rounds: list[UpdateRound]) -> CheckResult:
    """5.3-2-2: the valid package installs from the delivered firmware AND the mechanism cannot be
    misused to install a tampered, unsigned, foreign-signed or re-labelled package."""
    by_kind = {r.kind: r for r in rounds}
    valid = by_kind.get("valid")
    parts = [judge_valid_update(valid) if valid is not None
             else CheckResult.inconclusive("the valid package was not offered")]
    for kind in SECURE_INSTALL_KINDS + tuple(k for k in OPTIONAL_SECURE_KINDS if k in by_kind):
        r = by_kind.get(kind)
        if r is None:
            parts.append(CheckResult.inconclusive(f"not offered: {NEGATIVE_KINDS[kind]}"))
            continue
        parts.append(judge_negative_update(r))
    result = combine(parts, all_passed_reason=(
        "the valid package installed from the delivered firmware and every manipulated package was refused"))
    installed = [p.reason for p in parts[1:] if p.verdict == Verdict.FAIL]
    if installed:
        result.reason = "updates are not installed securely: " + "; ".join(installed)
        if parts[0].verdict != Verdict.PASS:
            result.reason += f" (valid package: {parts[0].reason})"
    return result


@dataclass
class CampaignRecord:
    """The firmware versions read around the whole campaign and how the unit was left."""
    version_start: str | None
    version_end: str | None  # after the restore, when there was one
    restore: str  # what was done to leave the unit on its delivered firmware, in words
    delivered: str | None = None  # the delivered firmware (default: the version at the start)

    @property
    def left_on_delivered(self) -> bool:
        delivered = self.delivered or self.version_start
        return delivered is not None and self.version_end == delivered

    def evidence(self) -> Evidence:
        return Evidence("table", "update campaign", [{
            "firmware at start": self.version_start, "firmware at end": self.version_end,
            "delivered firmware": self.delivered or self.version_start,
            "left on the delivered firmware": self.left_on_delivered, "restore": self.restore}])


@dataclass
class UpdateCrypto:
    signature_algorithm: str | None  # from the package, e.g. "Ed25519"
    transports: list[str]  # how the package reached the device: https, mqtts+https, serial, http …
    declared: str | None  # IXIT 7-UpdMech text
    # Whether the package format showed a signature: False = parsed and none there; None = the
    # harness could not tell (a format it reads only byte by byte), which is never a finding.
    signature_seen: bool | None = None


_GOOD_SIGNATURES = {"ed25519", "ed448", "ecdsa-p256-sha256", "ecdsa-p384-sha384", "rsa-pss-sha256"}


def judge_update_crypto(c: UpdateCrypto) -> CheckResult:
    """5.3-7: the update mechanism relies on best-practice cryptography: a modern signature on the
    package; plaintext transport is acceptable only because the signature covers the package."""
    ev = Evidence("table", "update cryptography", [{"package signature": c.signature_algorithm,
                                                    "transports": c.transports, "IXIT 7-UpdMech": c.declared}])
    if not c.signature_algorithm:
        if c.signature_seen is False:
            return CheckResult.failed("the update package carries no signature", ev)
        return CheckResult.inconclusive("the package's signature algorithm could not be read (declare the package "
                                        "format, docs/firmware.md)", ev)
    if c.signature_algorithm.lower() not in _GOOD_SIGNATURES:
        return CheckResult.failed(f"package signature {c.signature_algorithm} is not a best-practice algorithm", ev)
    plain = [t for t in c.transports if t in ("http", "mqtt", "ftp", "tftp")]
    note = f"; plaintext transport ({', '.join(plain)}) is covered by the signature" if plain else ""
    return CheckResult.passed(f"packages are signed with {c.signature_algorithm}{note}", ev)


def judge_secure_boot(r: UpdateRound) -> CheckResult:
    """5.7-1-2 where observable: an image with a changed byte never boots."""
    ev = Evidence("table", "tampered image", [_row(r) | {"booted after": r.booted_after}])
    if changed(r):
        return CheckResult.failed(f"the device booted the tampered image (now {r.version_after})", ev)
    if r.outcome == "refused" and r.version_after is not None and r.version_before is not None:
        return CheckResult.passed(f"the tampered image was rejected; the device runs {r.version_after}", ev)
    return CheckResult.inconclusive("whether the tampered image would boot could not be observed", ev)


def judge_model_designation(read: str | None, profile_model: str, label: str | None = None) -> CheckResult:
    """5.3-16-2: the model designation can be read on an interface and matches the product."""
    ev = Evidence("table", "model designation", [{"read from device": read, "profile": profile_model,
                                                  "IXIT 2-UserInfo": label}])
    if read is None or not read.strip():
        return CheckResult.inconclusive("the model designation could not be read from the device", ev)
    if not profile_model.strip():
        return CheckResult.inconclusive("the profile names no product model to compare with", ev)
    if profile_model.lower() in read.lower():
        return CheckResult.passed(f"the device names its model: {read.strip()[:80]!r}", ev)
    return CheckResult.failed(f"the device says {read.strip()[:80]!r}, the product is {profile_model!r}", ev)
