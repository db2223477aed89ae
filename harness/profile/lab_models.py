"""The lab configuration: what this bench has (secrets source, runtime facts, networks probes may
enter, the lab broker, instruments, report location). Validated like the device profile, with the
same value references (``{secret: NAME}``, ``{env: NAME}``, ``{runtime: a.b}``)."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator

from harness.profile.models import Strict, Value

# --- lab configuration ------------------------------------------------------------------------------

class SecretsSource(Strict):
    file: str | None = Field(None, description="JSON or YAML mapping of secret names to values (relative to the lab file).")
    environment: bool = Field(True, description="Also look secrets up in the environment.")


class FetchPolicy(Strict):
    allow: list[str] = Field(default_factory=list, description="Networks or host names whose documents may be fetched.")
    ca: Value | None = Field(None, description="Extra CA certificate trusted for fetched documents (lab CA).")
    timeout: float = Field(10.0, gt=0)

    @field_validator("allow")
    @classmethod
    def _nets(cls, v: list[str]) -> list[str]:
        for item in v:
            try:
                ipaddress.ip_network(item, strict=False)
            except ValueError:
                if not re.match(r"^[A-Za-z0-9.-]+$", item):
                    raise ValueError(f"{item!r} is neither a network nor a host name") from None
        return v


class BrokerConfig(Strict):
    """The lab broker: Mosquitto instances the harness starts for a run (plain, TLS, rogue)."""

    start: bool = Field(True, description="Start Mosquitto for the run (false: use `url`).")
    mosquitto: str = "/usr/sbin/mosquitto"
    host: str = "127.0.0.1"
    url: str | None = Field(None, description="An existing lab broker when start is false.")
    ca: Value | None = Field(None, description="CA that signs the existing broker's certificate.")
    ca_dir: Value | None = Field(None, description="Folder of the lab CA (ca.pem, key) the started broker's "
                                                   "certificate comes from; created when missing. Devices must trust it.")
    accounts: dict[str, Value] = Field(default_factory=dict, description="Broker accounts (user: password) devices use.")


class LabInstrument(Strict):
    resource: Value = Field(description="VISA resource string, e.g. TCPIP::10.0.0.5::5025::SOCKET.")
    backend: str = "@py"
    role: Literal["supply", "relay"] = "supply"
    channels: dict[str, int] = Field(default_factory=dict, description="Unit id → channel.")


class LabConfig(Strict):
    schema_version: Literal[1]
    name: str = "bench"
    reports_dir: str = Field("reports", description="Where run directories are created (relative to the working directory).")
    runtime: str | None = Field(None, description="Runtime facts file (JSON/YAML) published by bench tooling, e.g. the simulator.")
    secrets: SecretsSource = Field(default_factory=SecretsSource)
    fetch: FetchPolicy = Field(default_factory=FetchPolicy)
    networks: list[str] = Field(default_factory=list, description="Networks probes may enter.")
    timeouts: dict[str, float] = Field(default_factory=dict)
    broker: BrokerConfig | None = None
    instruments: dict[str, LabInstrument] = Field(default_factory=dict)
    serve_address: str = Field("127.0.0.1", description="Address of this bench the devices can reach, where the "
                                                          "harness serves update packages.")
