"""The generic container format (tar/zip + manifest + detached signature), described as data:
every negative package differs from the valid one in exactly the change under test."""

from __future__ import annotations

import io
import tarfile
import zipfile

import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from harness.firmware import FirmwareError, PackageError
from harness.firmware.container import ContainerFormat, build_container

IMAGE = bytes(range(256)) * 64


def spec(archive: str = "tar", algorithm: str = "ed25519", encoding: str = "raw", signs: list[str] | None = None):
    return {"archive": archive, "manifest": "manifest.json", "version_field": "firmware.version",
            "payload": ["rootfs.img"], "digests": {"rootfs.img": "files.rootfs.sha256"},
            "signature": {"member": "manifest.sig", "algorithm": algorithm, "encoding": encoding,
                          "signs": signs or []}}


def key_for(algorithm: str):  # type: ignore[no-untyped-def]
    if algorithm == "ed25519":
        return Ed25519PrivateKey.generate()
    if algorithm.startswith("ecdsa-p256"):
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm.startswith("ecdsa-p384"):
        return ec.generate_private_key(ec.SECP384R1())
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def package(archive: str = "tar", algorithm: str = "ed25519", encoding: str = "raw"):  # type: ignore[no-untyped-def]
    key = key_for(algorithm)
    fmt = ContainerFormat(spec(archive, algorithm, encoding))
    data = build_container(fmt.spec, {"rootfs.img": IMAGE}, {"model": "Cam C3", "firmware": {"version": "2.1.0"}},
                           key)
    return fmt, data, key


@pytest.mark.parametrize("archive,algorithm,encoding", [
    ("tar", "ed25519", "raw"), ("zip", "ecdsa-p256-sha256", "base64"), ("tar", "rsa-pss-sha256", "hex"),
    ("zip", "rsa-pkcs1v15-sha256", "raw"), ("tar", "ecdsa-p384-sha384", "raw"),
])
def test_every_negative_is_caught_by_the_signature_or_the_digest(archive: str, algorithm: str, encoding: str) -> None:
    fmt, data, key = package(archive, algorithm, encoding)
    info = fmt.inspect(data)
    assert info["header"] == {"version": "2.1.0", "sig_alg": algorithm} and info["signed"]
    assert info["payload_digest_ok"] is True
    assert fmt.verify(data, [key]) == {"valid": True, "reason": "ok"}
    assert fmt.detect(data)

    flipped = fmt.derive(data, "flip_byte")
    assert fmt.inspect(flipped)["payload_digest_ok"] is False
    assert fmt.inspect(flipped)["header"]["version"] == "2.1.0"
    assert fmt.verify(flipped, [key])["reason"] == "digest mismatch for rootfs.img"

    stripped = fmt.derive(data, "strip_signature")
    assert not fmt.inspect(stripped)["signed"] and fmt.verify(stripped, [key])["reason"] == "unsigned package"

    foreign = fmt.derive(data, "foreign_signature")
    assert fmt.inspect(foreign)["signed"] and fmt.verify(foreign, [key])["reason"] == "signature invalid"

    relabelled = fmt.derive(data, "relabel_version")
    assert fmt.inspect(relabelled)["header"]["version"] == "2.1.1"
    assert fmt.verify(relabelled, [key])["reason"] == "signature invalid"

    tampered = fmt.derive(data, "tamper_manifest")
    assert fmt.inspect(tampered)["manifest"]["x-harness-tampered"] is True
    assert fmt.verify(tampered, [key])["reason"] == "signature invalid"

    older = fmt.derive(data, "rollback", key=key)
    assert fmt.inspect(older)["header"]["version"] == "2.0.0" and fmt.verify(older, [key])["valid"]

    with pytest.raises(FirmwareError, match="private key"):
        fmt.derive(data, "rollback")
    with pytest.raises(PackageError):
        fmt.inspect(fmt.derive(data, "truncate"))


def test_derived_archives_keep_members_order_and_metadata() -> None:
    fmt, data, _ = package("tar")
    with tarfile.open(fileobj=io.BytesIO(data)) as tf:
        before = [(m.name, m.mtime, m.mode) for m in tf.getmembers()]
    with tarfile.open(fileobj=io.BytesIO(fmt.derive(data, "flip_byte"))) as tf:
        after = [(m.name, m.mtime, m.mode) for m in tf.getmembers()]
    assert before == after and before[0][0] == "manifest.json"
    fmt, data, _ = package("zip")
    with zipfile.ZipFile(io.BytesIO(fmt.derive(data, "strip_signature"))) as zf:
        assert zf.namelist() == ["manifest.json", "rootfs.img"]


def test_compressed_tar_stays_compressed() -> None:
    fmt, data, key = package("tar")
    buf = io.BytesIO()
    with tarfile.open(fileobj=io.BytesIO(data)) as src, tarfile.open(fileobj=buf, mode="w:gz") as dst:
        for m in src.getmembers():
            dst.addfile(m, src.extractfile(m))
    gz = buf.getvalue()
    assert fmt.inspect(gz)["archive"] == "tar+gz" and fmt.verify(gz, [key])["valid"]
    assert fmt.derive(gz, "relabel_version")[:2] == b"\x1f\x8b"


def test_what_a_description_cannot_derive_is_refused() -> None:
    unsigned = ContainerFormat({"archive": "zip", "manifest": "m.json", "payload": ["fw.bin"]})
    assert "strip_signature" not in unsigned.kinds and "rollback" not in unsigned.kinds
    images_only = ContainerFormat(spec(signs=["rootfs.img"]))
    assert "tamper_manifest" not in images_only.kinds
    with pytest.raises(FirmwareError):
        unsigned.derive(b"", "foreign_signature")
    with pytest.raises(PackageError, match="not a readable"):
        unsigned.inspect(b"not an archive")
    assert not unsigned.detect(b"not an archive")


def test_cli_inspects_verifies_and_derives_a_described_container(tmp_path, capsys) -> None:  # type: ignore[no-untyped-def]
    import json

    import yaml
    from cryptography.hazmat.primitives import serialization

    from harness.firmware.cli import main

    fmt, data, key = package("zip", "ecdsa-p256-sha256", "base64")
    (tmp_path / "pkg.zip").write_bytes(data)
    (tmp_path / "maker.key").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))
    (tmp_path / "maker.pub").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    (tmp_path / "profile.yaml").write_text(yaml.safe_dump({"updates": {"container": fmt.spec.model_dump()}}))
    c = ["--container", str(tmp_path / "profile.yaml")]
    assert main(["inspect", str(tmp_path / "pkg.zip"), "--json", "--trust", str(tmp_path / "maker.pub"), *c]) == 0
    assert json.loads(capsys.readouterr().out)["header"]["version"] == "2.1.0"
    out = tmp_path / "older.zip"
    assert main(["derive", str(tmp_path / "pkg.zip"), "--kind", "rollback", "--key", str(tmp_path / "maker.key"),
                 "--out", str(out), *c]) == 0
    assert fmt.inspect(out.read_bytes())["header"]["version"] == "2.0.0"
    assert main(["derive", str(tmp_path / "pkg.zip"), "--kind", "tamper_manifest", "--out", str(out), *c]) == 0
    assert main(["inspect", str(out), "--trust", str(tmp_path / "maker.pub"), *c]) == 1  # signature invalid
    (tmp_path / "bad.yaml").write_text("archive: rar\n")
    assert main(["inspect", str(tmp_path / "pkg.zip"), "--container", str(tmp_path / "bad.yaml")]) == 2
    assert "--container" in capsys.readouterr().err
