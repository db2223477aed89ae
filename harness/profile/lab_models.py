"""The lab configuration: what this bench has (secrets source, runtime facts, networks probes may
enter, the lab broker, instruments, report location). Validated like the device profile, with the
same value references (``{secret: NAME}``, ``{env: NAME}``, ``{runtime: a.b}``)."""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from harness.profile.models import Strict, Value

# --- lab configuration ------------------------------------------------------------------------------

class SecretsSource(Strict):
    file: str | None = Field(None, description="JSON or YAML mapping of secret names to values (relative to the lab file).")
    environment: bool = Field(True, description="Also look secrets up in the environment.")


class FetchedCopy(Strict):
    """A published document the bench cannot reach, fetched by the lab elsewhere (5.2-1-2, 5.3-13-2)."""

    url: str = Field(description="The URL the IXIT declares (after unit templates).")
    file: Value = Field(description="The copy, relative to the lab configuration.")
    fetched: date = Field(description="When the lab fetched it.")
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256 of the file as fetched.")


class FetchPolicy(Strict):
    allow: list[str] = Field(default_factory=list, description="Networks or host names whose documents may be fetched.")
    ca: Value | None = Field(None, description="Extra CA certificate trusted for fetched documents (lab CA).")
    timeout: float = Field(10.0, gt=0)
    copies: list[FetchedCopy] = Field(default_factory=list, description=(
        "Lab copies of documents the bench cannot fetch; used only when the live fetch fails, with URL, date "
        "and hash in the evidence."))

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


def _mqtt_url(url: str) -> None:
    if not re.match(r"^mqtts?://[^/\s@:]+(:\d+)?/?$", url):
        raise ValueError(f"{url!r} is not mqtt://host[:port] or mqtts://host[:port] (no credentials in URLs)")


class ObserverAccount(Strict):
    """The harness's account on an existing broker: it subscribes and watches what units publish."""

    user: Value = Field(description="MQTT user name of the observer account.")
    password: Value = Field(description="Its password (use {secret: NAME}); redacted everywhere.")
    topics: list[str] = Field(default_factory=lambda: ["#"], min_length=1,
                              description="Topic filters the observer subscribes to.")


class BrokerConfig(Strict):
    """The lab broker: Mosquitto instances the harness starts for a run (plain, TLS, rogue), or,
    with ``start: false``, an existing broker the units are fixed to, which the harness observes."""

    start: bool = Field(True, description="Start Mosquitto for the run (false: observe the existing broker at `url`).")
    mosquitto: str = "/usr/sbin/mosquitto"
    host: str = "127.0.0.1"
    url: str | None = Field(None, description="The existing broker (mqtt:// or mqtts://) when start is false.")
    ca: Value | None = Field(None, description="CA that signs the existing broker's certificate.")
    observer: ObserverAccount | None = Field(None, description="The harness's account on the existing broker "
                                                               "(required when start is false).")
    also_observe: list[str] = Field(default_factory=list, description=(
        "Further listeners of the existing broker the observer logs in to as well, for a broker whose "
        "listeners do not share messages (mqtt:// or mqtts:// URLs)."))
    ca_dir: Value | None = Field(None, description="Folder of the lab CA (ca.pem, key) the started broker's "
                                                   "certificate comes from; created when missing. Devices must trust it.")
    accounts: dict[str, Value] = Field(default_factory=dict, description="Broker accounts (user: password) devices use.")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None:
            _mqtt_url(v)
        return v

    @field_validator("also_observe")
    @classmethod
    def _urls(cls, v: list[str]) -> list[str]:
        for url in v:
            _mqtt_url(url)
        return v

    @model_validator(mode="after")
    def _observe(self) -> BrokerConfig:
        # An existing broker without an observer account used to disable every broker test in
        # silence; now it is a configuration error that says what is missing.
        if not self.start and (self.url is None or self.observer is None):
            raise ValueError("broker: start: false observes an existing broker and needs `url` and "
                             "`observer: {user, password}`")
        return self

    @property
    def observed(self) -> bool:
        return not self.start


class CaptureConfig(Strict):
    """Passive capture of each unit's traffic (tcpdump, filtered to the unit's declared address)."""

    enabled: bool = Field(True, description="Capture the unit's packets during the traffic test cases.")
    interface: str = Field("any", description="Interface tcpdump listens on (lo for units on loopback).")
    tcpdump: str = Field("tcpdump", description="The tcpdump program (name on PATH or a path).")
    keep_pcap: bool = Field(False, description="Keep the raw capture in the run directory. Off by default: a "
                                               "plaintext capture holds the very secrets the report redacts.")


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
    capture: CaptureConfig = Field(default_factory=CaptureConfig)
    instruments: dict[str, LabInstrument] = Field(default_factory=dict)
    serve_address: str = Field("127.0.0.1", description="Address of this bench the devices can reach, where the "
                                                          "harness serves update packages.")
    firmware_formats: dict[str, str] = Field(default_factory=dict, description=(
        "Package format plugins this lab uses: name (as in a profile's updates.format) → module:attr, or the "
        "name of an entry point in group iot_harness.firmware_formats."))
    serve_ca_dir: Value | None = Field(None, description=(
        "Lab CA folder for the HTTPS package server (default: broker.ca_dir); devices must trust it."))
