"""Update test cases (5.3-2-2, 5.3-7-1, 5.3-9-1, 5.3-10-1, 5.7-1-2) and the model designation
(5.3-16-2), from one update campaign per unit.

The campaign reads the firmware version first (a unit that does not answer is not judged), then
offers, each on the delivered firmware: the valid package with one payload byte changed, without
signature, signed with a foreign key, with a re-labelled version; then the valid package; then an
older, correctly signed one (rollback) on the firmware the valid package installed. When a
manipulated package was installed, the profile's ``restore_firmware`` procedure puts the delivered
firmware back before the next round; without one, later rounds are marked as not run on the
delivered firmware and their refusals prove nothing. At the end the unit is restored the same way
and the versions read at the start and the end go into every test case's evidence
(docs/updates.md). Packages reach the device as the profile's ``apply_update`` procedure says: a URL
on the harness's own package server (``{{package_url}}``) or the bytes (``{{package_b64}}``).
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.checks.updates import (
    CampaignRecord,
    UpdateCrypto,
    UpdateRound,
    judge_authenticity,
    judge_model_designation,
    judge_secure_boot,
    judge_secure_installation,
    judge_update_crypto,
)
from harness.verdict import CheckResult, Evidence, LabFault, Verdict, combine

if TYPE_CHECKING:
    from harness.device import Device

NEGATIVES = ("flip_byte", "strip_signature", "foreign_signature", "relabel_version")
OPTIONAL_NEGATIVES = ("tamper_manifest",)  # offered when the package format can make it
AUTHENTICITY = ("flip_byte", "strip_signature", "foreign_signature")
_OUTCOMES = {"ok": "installed", "installed": "installed", "rejected": "refused", "refused": "refused",
             "timeout": "timeout"}


class UpdateSetupError(LabFault):
    """The profile gives the harness no package to test with."""


class UnitNotAnswering(LabFault):
    """The firmware version could not be read before the campaign: nothing can be judged."""


def _read_file(device: Device, value: Any, what: str) -> bytes:
    path = Path(str(device.bench.resolve(value, where=f"updates.{what}")))
    if not path.is_absolute():
        path = device.bench.profile_path.parent / path
    try:
        return path.read_bytes()
    except OSError as exc:
        raise UpdateSetupError(f"updates.{what}: cannot read {path}: {exc.strerror}") from None


def _session(device: Device) -> None:
    """A console session where the profile has a console login; a web-only device needs none (its
    procedures carry their own authentication)."""
    if device.has("login"):
        device.ensure("logged_in")


def read_version(device: Device) -> str | None:
    """The firmware version on the live unit, or None when it did not answer."""
    try:
        _session(device)
        result = device.run("read_version")
    except LabFault:
        device.state.session = "unknown"
        return None
    return result.captures.get("version") if result.ok else None


def _offer(device: Device, servers: _Servers, kind: str, data: bytes, offered: str | None,
           delivered: str | None, transports: set[str]) -> UpdateRound:
    before = read_version(device)
    urls = servers.offer(data, f"{kind}.pkg")
    try:
        _session(device)
        res = device.run("apply_update", **urls, package_b64=base64.b64encode(data).decode())
        outcome, said = _OUTCOMES.get(res.outcome, "error"), res.detail or res.outcome
    except LabFault as exc:
        outcome, said = "error", str(exc)
    device.state.session = "unknown"  # an install reboots; a refusal may end the session
    device.mark_changed()
    after = read_version(device)
    fetched = servers.fetches(urls)
    transports.update(t for t, f in fetched if f.method == "GET" and f.complete)
    if not fetched and _uses(device, "package_b64"):
        transports.add("inline (package bytes in the apply_update procedure)")
    shown = [f"{t} {f.method} {f.status} {f.bytes_sent} B" for t, f in fetched]
    device.note(f"update round {kind}: {outcome}, {before} → {after}, fetches {shown}")
    from_delivered = None if kind == "rollback" else (before is not None and before == delivered)
    return UpdateRound(kind, f"{kind}.pkg sha256:{hashlib.sha256(data).hexdigest()[:16]}", offered, outcome,
                       said, before, after, from_delivered=from_delivered)


class _Restorer:
    """Puts the delivered firmware back through the profile's ``restore_firmware`` procedure."""

    def __init__(self, device: Device, server: Any, delivered: str, package: bytes | None) -> None:
        self.device, self.server, self.delivered, self.package = device, server, delivered, package
        self.log: list[str] = []
        self._stuck_on: str | None = None

    def ensure_delivered(self, why: str) -> str | None:
        """Restore when the unit runs another version; returns the version read afterwards."""
        now = read_version(self.device)
        if now == self.delivered:
            return now
        if not self.device.has("restore_firmware"):
            if now != self._stuck_on:  # said once per version, not before every round
                self._stuck_on = now
                self.log.append(f"{why}: the unit runs {now}, not the delivered {self.delivered}; the profile "
                                "declares no restore_firmware procedure, so it stays there")
            return now
        urls = (self.server.offer(self.package, "delivered.pkg") if self.package is not None
                else {"package_url": "", "package_url_https": ""})
        b64 = base64.b64encode(self.package).decode() if self.package is not None else ""
        try:
            _session(self.device)
            res = self.device.run("restore_firmware", version=self.delivered, package_b64=b64, **urls)
            said = res.outcome + (f" ({res.detail})" if res.detail else "")
        except LabFault as exc:
            said = f"error ({exc})"
        self.device.state.session = "unknown"
        self.device.mark_changed()
        after = read_version(self.device)
        self.log.append(f"{why}: restore_firmware {said}: {now} → {after}")
        return after


def campaign(device: Device) -> dict[str, UpdateRound]:
    """Run (once per unit) the update rounds every update test case judges."""
    if "updates" in device.cache:
        return device.cache["updates"]
    if "updates_fault" in device.cache:
        raise device.cache["updates_fault"]
    from harness.firmware import FirmwareError

    try:
        return _campaign(device)
    except LabFault as exc:
        device.cache["updates_fault"] = exc
        raise
    except FirmwareError as exc:  # the packages could not be prepared: nothing was judged
        fault = UpdateSetupError(f"the update packages could not be prepared: {exc}")
        device.cache["updates_fault"] = fault
        raise fault from None


class _Servers:
    """The harness's package server, plain HTTP and — when the lab has a CA the devices trust — HTTPS
    too: every package is offered on both (``{{package_url}}``, ``{{package_url_https}}``)."""

    def __init__(self, device: Device) -> None:
        from harness.firmware.serve import PackageServer, https_context

        host = device.bench.lab.serve_address
        self.plain = PackageServer(host=host)
        self.tls = None
        ca_dir = _lab_ca_dir(device)
        if ca_dir is not None:
            import tempfile

            from harness.lab.ca import LabCA
            self._certs = tempfile.TemporaryDirectory(prefix="package-server-")
            self.tls = PackageServer(host=host, tls=https_context(LabCA.load_or_create(ca_dir), host,
                                                                      self._certs.name))
        elif _uses(device, "package_url_https"):
            raise UpdateSetupError("apply_update uses {{package_url_https}} but the lab configuration names no CA "
                                   "for the package server (broker.ca_dir): the devices could not trust it")

    def __enter__(self) -> _Servers:
        self.plain.start()
        if self.tls is not None:
            self.tls.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.plain.close()
        if self.tls is not None:
            self.tls.close()
            self._certs.cleanup()

    def offer(self, data: bytes, name: str) -> dict[str, str]:
        urls = {"package_url": self.plain.offer(data, name)}
        if self.tls is not None:
            urls["package_url_https"] = self.tls.offer(data, name)
        return urls

    def fetches(self, urls: dict[str, str]) -> list[tuple[str, Any]]:
        out = [("http", f) for f in self.plain.fetches(urls["package_url"])]
        if self.tls is not None and "package_url_https" in urls:
            out += [("https", f) for f in self.tls.fetches(urls["package_url_https"])]
        return out


def _lab_ca_dir(device: Device) -> Path | None:
    lab = device.bench.lab
    value = getattr(lab, "serve_ca_dir", None) or (lab.broker.ca_dir if lab.broker is not None else None)
    if value is None:
        return None
    folder = Path(str(device.bench.resolve(value, where="serve_ca_dir")))
    return folder if folder.is_absolute() else Path(device.bench.base_dir) / folder


def _uses(device: Device, variable: str) -> bool:
    return any(variable in str(step) for step in device.profile.procedures.get("apply_update") or [])


def _campaign(device: Device) -> dict[str, UpdateRound]:
    from harness.firmware import FirmwareError
    from harness.firmware.formats import detect_format, resolve_format
    from harness.firmware.keys import load_signing_key

    spec = device.profile.updates
    if spec.valid is None:
        raise UpdateSetupError("the profile declares no valid update package (updates.valid)")
    if not device.has("apply_update"):
        raise UpdateSetupError("the profile declares no apply_update procedure")
    valid = _read_file(device, spec.valid, "valid")
    fmt = resolve_format(spec.format, container=getattr(spec, "container", None),
                         plugins=getattr(device.bench.lab, "firmware_formats", None)) or detect_format(valid)
    info = fmt.inspect(valid)
    version = (info.get("header") or {}).get("version")
    key = None
    if spec.signing_key is not None:
        key = load_signing_key(_read_file_path(device, spec.signing_key))
    delivered_pkg = None
    if getattr(spec, "delivered", None) is not None:
        delivered_pkg = _read_file(device, spec.delivered, "delivered")
    start = read_version(device)
    if start is None:
        raise UnitNotAnswering("the firmware version could not be read before the update campaign (read_version): "
                               "the unit was not answering, nothing was offered")
    # The delivered firmware is the first version the run read from the unit (an earlier test case
    # may have left another one), else the one read now.
    delivered = (device.cache.get("firmware") or {}).get("delivered") or start
    device.note(f"update campaign starts on firmware {start} (delivered {delivered}); package format {fmt.name}")
    rounds: dict[str, UpdateRound] = {}
    transports: set[str] = set()
    with _Servers(device) as servers:
        restorer = _Restorer(device, servers, delivered, delivered_pkg)
        if start != delivered:
            restorer.ensure_delivered("before the campaign")
        for kind in NEGATIVES + tuple(k for k in OPTIONAL_NEGATIVES if k in fmt.kinds):
            try:
                data = fmt.derive(valid, kind)
            except FirmwareError as exc:  # the format cannot make it: that round is "not offered"
                device.note(f"update round {kind} not offered: {exc}")
                continue
            if rounds and any(r.version_after != delivered for r in rounds.values()):
                restorer.ensure_delivered(f"before the {kind} round")
            offered = (fmt.inspect(data).get("header") or {}).get("version", version)
            rounds[kind] = _offer(device, servers, kind, data, offered, delivered, transports)
        if any(r.version_after != delivered for r in rounds.values()):
            restorer.ensure_delivered("before the valid round")
        rounds["valid"] = _offer(device, servers, "valid", valid, version, delivered, transports)
        older = None
        if spec.older is not None:
            older = _read_file(device, spec.older, "older")
        elif key is not None:
            try:
                older = fmt.derive(valid, "rollback", key=key)
            except FirmwareError as exc:
                device.note(f"update round rollback not offered: {exc}")
        if older is not None:
            old_version = (fmt.inspect(older).get("header") or {}).get("version")
            rounds["rollback"] = _offer(device, servers, "rollback", older, old_version, delivered, transports)
        end = restorer.ensure_delivered("at the end of the campaign")
    record = CampaignRecord(start, end, "; ".join(restorer.log) or f"the unit stayed on {start} throughout",
                            delivered=delivered)
    device.note(f"update campaign ends on firmware {end} (delivered {delivered})")
    firmware = device.cache.setdefault("firmware", {})
    firmware["stale"] = True  # read again before the next test case
    if end != delivered:
        device.cache.setdefault("left", set()).add("firmware")
    device.cache["updates"] = rounds
    device.cache["update_campaign"] = record
    device.cache["update_package_info"] = info
    device.cache["update_transports"] = sorted(transports)
    return rounds


def _with_campaign(device: Device, result: CheckResult) -> CheckResult:
    record = device.cache.get("update_campaign")
    if record is not None:
        result.evidence.append(record.evidence())
    return result


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
    """5.3-2-2: the valid package installs from the delivered firmware, and no manipulated package
    installs (what "securely" needs at the least, docs/updates.md)."""
    return _with_campaign(device, judge_secure_installation(list(campaign(device).values())))


def update_crypto(device: Device) -> CheckResult:
    """5.3-7-1"""
    rounds = campaign(device)
    info = device.cache.get("update_package_info", {})
    header = info.get("header") or {}
    signed = info.get("signed")
    algorithm = (header.get("sig_alg") or header.get("signature_algorithm") or (
        "Ed25519" if info.get("format") == "simfw1" and signed else None)) if signed is not False else None
    transports = device.cache.get("update_transports") or []
    result = judge_update_crypto(UpdateCrypto(algorithm, transports, str(_ixit_upd(device) or "") or None,
                                              signature_seen=signed if isinstance(signed, bool) else None))
    result = combine([result, judge_authenticity(list(rounds.values()), AUTHENTICITY)],
                     all_passed_reason=f"packages are signed with {algorithm} and the device verifies the signature")
    return _with_campaign(device, _with_ixit(device, result, "the update cryptography"))


def genuine_and_unmodified(device: Device) -> CheckResult:
    """5.3-9-1"""
    rounds = list(campaign(device).values())
    kinds = AUTHENTICITY + ("relabel_version",) + _optional(rounds)
    return _with_campaign(device, _with_ixit(device, judge_authenticity(rounds, kinds), "how updates are verified"))


def trust_anchored(device: Device) -> CheckResult:
    """5.3-10-1"""
    rounds = list(campaign(device).values())
    return _with_campaign(device, _with_ixit(
        device, judge_authenticity(rounds, AUTHENTICITY + ("relabel_version", "rollback") + _optional(rounds)),
        "the trust relationship updates are verified against"))


def _optional(rounds: list[UpdateRound]) -> tuple[str, ...]:
    return tuple(k for k in OPTIONAL_NEGATIVES if k in {r.kind for r in rounds})


def secure_boot(device: Device) -> CheckResult:
    """5.7-1-2"""
    return _with_campaign(device, judge_secure_boot(campaign(device)["flip_byte"]))


def model_designation(device: Device) -> CheckResult:
    """5.3-16-2: the model read from the device (``read_model``, else ``read_version``'s ``model``)."""
    read = None
    try:
        _session(device)
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
