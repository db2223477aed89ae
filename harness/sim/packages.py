"""The manufacturer's side of updates: the trust anchor the units ship with, and the packages the
simulator publishes in its run directory for the harness (`runtime.json` → `firmware`).

The key pair is the SimIoT manufacturer TEST key (package data, copied from fixtures/firmware/ so
an installed simulator needs no repository checkout). Packages are built with harness.firmware —
the tester's tool plays the manufacturer's build system here; the device's own verifier
(harness.sim.updates) parses them independently. Ed25519 signatures are deterministic and the build
dates are fixed, so every start writes byte-identical files (the 1.5.0 one equals
fixtures/firmware/simiot-h1-1.5.0.simfw).
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from harness.sim import runtime
from harness.sim.catalog import MODEL

KEY_NAME = "manufacturer-test"
VALID_VERSION, VALID_BUILD_DATE = "1.5.0", "2025-01-15T12:00:00Z"
OLDER_VERSION, OLDER_BUILD_DATE = "1.4.1", "2024-09-02T12:00:00Z"  # older than the 1.4.2 units run
FIRMWARE_DIR = "firmware"


def _data(name: str) -> bytes:
    return resources.files("harness.sim").joinpath("data", name).read_bytes()


def trust_anchor() -> bytes:
    """The public key (PEM, with its label line) every unit trusts for updates."""
    return _data(f"{KEY_NAME}.pub")


# What the hardcoded_key_in_firmware defect bakes into every image: a private key (the same in every
# unit) and a fixed password for a maintenance service, as a careless build would ship them.
EMBEDDED_SERVICE_PASSWORD = "changeme"


def _embedded_secrets() -> bytes:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    seed = bytes(range(32))  # fixed: every build carries the same key, which is the defect
    pem = Ed25519PrivateKey.from_private_bytes(seed).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return (b"\n# /etc/simiot/cloud-client.key\n" + pem
            + f"# /etc/simiot/maintenance.conf\nservice_user=maint\nservice_password={EMBEDDED_SERVICE_PASSWORD}\n".encode())


def _payload(version: str, embedded_secrets: bool = False) -> bytes:
    """The test payload for `version`: the 1.5.0 one with its first line naming the version."""
    base = _data(f"payload-{VALID_VERSION}.bin")
    if version != VALID_VERSION:
        _, _, rest = base.partition(b"\n")
        base = f"{MODEL} firmware {version} (TEST PAYLOAD, not real firmware)\n".encode() + rest
    return base + _embedded_secrets() if embedded_secrets else base


@dataclass(frozen=True)
class PublishedPackages:
    valid: Path  # 1.5.0, signed: installs on a 1.4.2 unit
    older: Path  # 1.4.1, signed: the rollback test
    signing_key: Path  # the private test key (labs normally lack it; the harness derives packages with it)
    public_key: Path

    def facts(self) -> dict[str, str]:
        return {"valid": str(self.valid), "older": str(self.older), "signing_key": str(self.signing_key),
                "public_key": str(self.public_key)}


def publish(run_dir: Path, embedded_secrets: bool = False) -> PublishedPackages:
    """Write the key pair and the two packages into DIR/firmware/ (the key 0600). `embedded_secrets`
    (behaviour firmware_embedded_key): the images carry a private key and a service password."""
    # Imported here: harness.firmware is the harness's tool; the simulator needs it only at start.
    from harness.firmware import build_package
    from harness.firmware.keys import load_private_key

    folder = run_dir / FIRMWARE_DIR
    folder.mkdir(parents=True, exist_ok=True)
    key_path, pub_path = folder / f"{KEY_NAME}.key", folder / f"{KEY_NAME}.pub"
    runtime.write_atomic(key_path, _data(f"{KEY_NAME}.key"), mode=0o600)
    runtime.write_atomic(pub_path, trust_anchor())
    key = load_private_key(key_path)
    paths = {}
    for version, date in ((VALID_VERSION, VALID_BUILD_DATE), (OLDER_VERSION, OLDER_BUILD_DATE)):
        data = build_package(_payload(version, embedded_secrets), model=MODEL, version=version, private_key=key, build_date=date)
        paths[version] = folder / f"simiot-h1-{version}.simfw"
        runtime.write_atomic(paths[version], data)
    return PublishedPackages(paths[VALID_VERSION], paths[OLDER_VERSION], key_path, pub_path)
