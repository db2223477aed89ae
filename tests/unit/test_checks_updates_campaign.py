"""The update campaign's order and restore, on a scripted unit: the valid round runs on the
delivered firmware (restored through ``restore_firmware`` when a manipulated package got in), the
unit is left on its delivered firmware, and the versions at start and end are evidence."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.cases import updates
from harness.checks.updates import judge_valid_update
from harness.firmware import build_package
from harness.procedures import ProcedureResult
from harness.verdict import LabFault, Verdict


class ScriptedUnit:
    """Just enough of harness.device.Device for the campaign: a unit that installs what its
    ``accepts`` says (by package kind) and reports its version."""

    def __init__(self, tmp: Path, *, accepts: set[str], restore: bool, answers: bool = True) -> None:
        key = Ed25519PrivateKey.generate()
        (tmp / "valid.pkg").write_bytes(build_package(b"payload 1.5.0\n" * 64, model="Sim", version="1.5.0",
                                                      private_key=key))
        (tmp / "older.pkg").write_bytes(build_package(b"payload 1.4.1\n" * 64, model="Sim", version="1.4.1",
                                                      private_key=key))
        self.version, self.accepts, self.answers = "1.4.2", accepts, answers
        procs = {"apply_update": [], "read_version": []} | ({"restore_firmware": []} if restore else {})
        self.profile = SimpleNamespace(
            updates=SimpleNamespace(valid="valid.pkg", older="older.pkg", signing_key=None, format=None),
            procedures=procs, ixit=SimpleNamespace(other={}))
        self.bench = SimpleNamespace(resolve=lambda v, where: v, profile_path=tmp / "profile.yaml",
                                     lab=SimpleNamespace(serve_address="127.0.0.1", broker=None),
                                     base_dir=tmp)
        self.cache: dict[str, Any] = {}
        self.state = SimpleNamespace(session="logged_in")
        self.calls: list[str] = []

    def has(self, name: str) -> bool:
        return name in self.profile.procedures

    def ensure(self, wanted: str) -> None:
        if not self.answers:
            raise LabFault("no answer on the console")

    def note(self, text: str) -> None:
        pass

    def mark_changed(self) -> None:
        pass

    def run(self, name: str, **kw: Any) -> ProcedureResult:
        self.calls.append(name)
        if not self.answers:
            raise LabFault("no answer on the console")
        if name == "read_version":
            return ProcedureResult(name, captures={"version": self.version})
        if name == "restore_firmware":
            self.version = kw["version"]
            return ProcedureResult(name)
        kind = kw["package_url"].rsplit("/", 1)[-1].removesuffix(".pkg")
        offered = {"valid": "1.5.0", "rollback": "1.4.1", "relabel_version": "1.5.1"}.get(kind, "1.5.0")
        if kind == "valid" or kind in self.accepts:
            self.version = offered
            return ProcedureResult(name, captures={"version": offered})
        return ProcedureResult(name, outcome="rejected", detail="update: rejected")


def test_compliant_unit_is_restored_after_the_valid_update(tmp_path: Path) -> None:
    unit = ScriptedUnit(tmp_path, accepts=set(), restore=True)
    rounds = updates.campaign(unit)  # type: ignore[arg-type]
    assert rounds["valid"].from_delivered and rounds["valid"].version_after == "1.5.0"
    assert unit.version == "1.4.2" and unit.calls.count("restore_firmware") == 1
    record = unit.cache["update_campaign"]
    assert record.version_start == "1.4.2" and record.version_end == "1.4.2" and record.left_on_delivered
    result = updates.valid_update(unit)  # type: ignore[arg-type]
    assert result.verdict == Verdict.PASS, result.reason
    assert any(e.name == "update campaign" for e in result.evidence)


def test_valid_round_runs_on_the_delivered_firmware_after_a_tampered_install(tmp_path: Path) -> None:
    unit = ScriptedUnit(tmp_path, accepts={"flip_byte"}, restore=True)
    rounds = updates.campaign(unit)  # type: ignore[arg-type]
    assert rounds["flip_byte"].version_after == "1.5.0"
    # Restored before every later round: each is judged from the delivered firmware.
    assert all(rounds[k].version_before == "1.4.2" and rounds[k].from_delivered
               for k in ("strip_signature", "foreign_signature", "relabel_version", "valid"))
    result = updates.valid_update(unit)  # type: ignore[arg-type]
    assert result.verdict == Verdict.FAIL and "not installed securely" in result.reason
    assert unit.version == "1.4.2" and unit.cache["update_campaign"].left_on_delivered


def test_without_restore_the_later_rounds_prove_nothing(tmp_path: Path) -> None:
    unit = ScriptedUnit(tmp_path, accepts={"flip_byte"}, restore=False)
    rounds = updates.campaign(unit)  # type: ignore[arg-type]
    assert rounds["valid"].from_delivered is False
    assert judge_valid_update(rounds["valid"]).verdict == Verdict.INCONCLUSIVE
    record = unit.cache["update_campaign"]
    assert not record.left_on_delivered and "no restore_firmware" in record.restore
    assert "firmware" in unit.cache["left"]


def test_a_unit_that_does_not_answer_is_not_judged(tmp_path: Path) -> None:
    unit = ScriptedUnit(tmp_path, accepts=set(), restore=True, answers=False)
    with pytest.raises(LabFault, match="could not be read before"):
        updates.campaign(unit)  # type: ignore[arg-type]
    assert "apply_update" not in unit.calls
    with pytest.raises(LabFault):  # the next update test case does not try again
        updates.valid_update(unit)  # type: ignore[arg-type]


class ContainerUnit(ScriptedUnit):
    """A unit with a vendor tar package (manifest + detached ECDSA signature) that accepts only
    https:// update URLs and verifies the package the way its manufacturer describes."""

    SPEC = {"archive": "tar", "manifest": "manifest.json", "payload": ["rootfs.img"],
            "digests": {"rootfs.img": "sha256"},
            "signature": {"member": "manifest.sig", "algorithm": "ecdsa-p256-sha256", "encoding": "base64"}}

    def __init__(self, tmp: Path) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec

        from harness.firmware.container import ContainerFormat, build_container
        from harness.lab.ca import LabCA

        super().__init__(tmp, accepts=set(), restore=False)
        self.key = ec.generate_private_key(ec.SECP256R1())
        (tmp / "maker.key").write_bytes(self.key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
        self.fmt = ContainerFormat(self.SPEC)
        (tmp / "valid.pkg").write_bytes(build_container(self.fmt.spec, {"rootfs.img": b"image 2.1.0\n" * 500},
                                                        {"model": "Cam", "version": "2.1.0"}, self.key))
        self.version = "2.0.3"
        self.ca = LabCA.create(tmp / "lab-ca", key_type="ec")
        self.profile.updates = SimpleNamespace(valid="valid.pkg", older=None, signing_key="maker.key",
                                               format="container", container=self.SPEC)
        self.profile.procedures["apply_update"] = [{"console.send": "upgrade {{package_url_https}}"}]
        self.bench.lab = SimpleNamespace(serve_address="127.0.0.1", broker=SimpleNamespace(ca_dir="lab-ca"))
        self.profile.ixit.other["7-UpdMech"] = {"verification": "ECDSA P-256 over the manifest, image SHA-256"}
        self.fetched: list[str] = []

    def run(self, name: str, **kw: Any) -> ProcedureResult:
        if name != "apply_update":
            return super().run(name, **kw)
        import ssl
        import urllib.request

        from packaging.version import Version

        url = kw["package_url_https"]
        self.fetched.append(url.split(":", 1)[0])
        ctx = ssl.create_default_context(cafile=str(self.ca.ca_path))
        with urllib.request.urlopen(url, timeout=5, context=ctx) as resp:
            data = resp.read()
        verdict = self.fmt.verify(data, [self.key.public_key()])
        version = self.fmt.inspect(data)["header"]["version"]
        if not verdict["valid"] or Version(version) < Version(self.version):
            return ProcedureResult(name, outcome="rejected", detail=f"upgrade: {verdict['reason']}")
        self.version = version
        return ProcedureResult(name)


def test_container_package_over_https_is_judged_end_to_end(tmp_path: Path) -> None:
    unit = ContainerUnit(tmp_path)
    rounds = updates.campaign(unit)  # type: ignore[arg-type]
    assert set(rounds) == {"flip_byte", "strip_signature", "foreign_signature", "relabel_version",
                           "tamper_manifest", "valid", "rollback"}
    assert all(r.outcome == "refused" for k, r in rounds.items() if k != "valid"), rounds
    assert rounds["valid"].version_after == "2.1.0" and unit.fetched and set(unit.fetched) == {"https"}
    assert unit.cache["update_transports"] == ["https"]
    for case in (updates.valid_update, updates.genuine_and_unmodified, updates.trust_anchored):
        result = case(unit)  # type: ignore[arg-type]
        assert result.verdict == Verdict.PASS, (case.__name__, result.reason)
    crypto = updates.update_crypto(unit)  # type: ignore[arg-type]
    assert crypto.verdict == Verdict.PASS and "ecdsa-p256-sha256" in crypto.reason
