"""The lab configuration: what this bench has (secrets source, runtime facts, networks probes may
enter, the lab broker, instruments, report location). Validated like the device profile, with the
same value references (``{secret: NAME}``, ``{env: NAME}``, ``{runtime: a.b}``)."""

from __future__ import annotations

import ipaddress
from datetime import date
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from harness.profile.models import AccountName, Strict, Value, check_mqtt_url
from harness.profile.values import (
    Count,
    Flag,
    PositiveSeconds,
    SchemaVersion,
    check_account_name,
    check_directory,
    check_host,
    check_network,
    check_one_line,
    check_visa_resource,
    is_host_name,
)


def _network_or_name(item: str) -> str:
    """A network (CIDR), an address, or a host name the lab declares by listing it."""
    try:
        return check_network(item)
    except ValueError as exc:
        if "/" in item or not is_host_name(item) or item.replace(".", "").isdigit():
            raise ValueError(f"{exc}, nor a host name") from None
    return item


def _path(v: Any, what: str) -> Any:
    return check_one_line(v, what) if isinstance(v, str) else v


def _folder(v: Any, what: str) -> Any:
    return check_directory(v, what) if isinstance(v, str) else v

# --- lab configuration ------------------------------------------------------------------------------

class SecretsSource(Strict):
    file: str | None = Field(None, description="JSON or YAML mapping of secret names to values (relative to the lab file).")
    environment: Flag = Field(True, description="Also look secrets up in the environment.")

    @field_validator("file")
    @classmethod
    def _file(cls, v: str | None) -> str | None:
        return _path(v, "the secrets file")


class FetchedCopy(Strict):
    """A published document the bench cannot reach, fetched by the lab elsewhere (5.2-1-2, 5.3-13-2)."""

    url: str = Field(description="The URL the IXIT declares (after unit templates).")
    file: Value = Field(description="The copy, relative to the lab configuration.")
    fetched: date = Field(description="When the lab fetched it.")
    sha256: str = Field(pattern=r"^[0-9a-fA-F]{64}$", description="SHA-256 of the file as fetched.")


class FetchPolicy(Strict):
    allow: list[str] = Field(default_factory=list, description="Networks or host names whose documents may be fetched.")
    ca: Value | None = Field(None, description="Extra CA certificate trusted for fetched documents (lab CA).")
    timeout: PositiveSeconds = 10.0
    copies: list[FetchedCopy] = Field(default_factory=list, description=(
        "Lab copies of documents the bench cannot fetch; used only when the live fetch fails, with URL, date "
        "and hash in the evidence."))

    @field_validator("allow")
    @classmethod
    def _nets(cls, v: list[str]) -> list[str]:
        for item in v:
            _network_or_name(item)
        return v


def _mqtt_url(url: str) -> None:
    check_mqtt_url(url)


class ObserverAccount(Strict):
    """The harness's account on an existing broker: it subscribes and watches what units publish."""

    user: Value = Field(description="MQTT user name of the observer account.")
    password: Value = Field(description="Its password (use {secret: NAME}); redacted everywhere.")
    topics: list[str] = Field(default_factory=lambda: ["#"], min_length=1,
                              description="Topic filters the observer subscribes to.")

    @field_validator("user")
    @classmethod
    def _user(cls, v: Any) -> Any:
        return check_account_name(v, "observer user name") if isinstance(v, str) else v

    @field_validator("password")
    @classmethod
    def _password(cls, v: Any) -> Any:
        return check_one_line(v, "the observer's password") if isinstance(v, str) else v


class BrokerConfig(Strict):
    """The lab broker: Mosquitto instances the harness starts for a run (plain, TLS, rogue), or,
    with ``start: false``, an existing broker the units are fixed to, which the harness observes."""

    start: Flag = Field(True, description="Start Mosquitto for the run (false: observe the existing broker at `url`).")
    mosquitto: str = "/usr/sbin/mosquitto"
    host: str = Field("127.0.0.1", description="Address of this bench the started broker listens on (devices connect to it).")
    url: str | None = Field(None, description="The existing broker (mqtt:// or mqtts://) when start is false.")
    ca: Value | None = Field(None, description="CA that signs the existing broker's certificate.")
    observer: ObserverAccount | None = Field(None, description="The harness's account on the existing broker "
                                                               "(required when start is false).")
    also_observe: list[str] = Field(default_factory=list, description=(
        "Further listeners of the existing broker the observer logs in to as well, for a broker whose "
        "listeners do not share messages (mqtt:// or mqtts:// URLs)."))
    ca_dir: Value | None = Field(None, description="Folder of the lab CA (ca.pem, key) the started broker's "
                                                   "certificate comes from; created when missing. Devices must trust it.")
    accounts: dict[AccountName, Value] = Field(default_factory=dict, description="Broker accounts (user: password) devices use.")

    @field_validator("url")
    @classmethod
    def _url(cls, v: str | None) -> str | None:
        if v is not None:
            _mqtt_url(v)
        return v

    @field_validator("host")
    @classmethod
    def _host(cls, v: str) -> str:
        try:
            ipaddress.ip_address(v)
        except ValueError:
            raise ValueError(f"{v!r}: the address the lab broker listens on is an IP address of this bench") from None
        return v

    @field_validator("mosquitto")
    @classmethod
    def _program(cls, v: str) -> str:
        return check_one_line(v, "the mosquitto program")

    @field_validator("ca_dir")
    @classmethod
    def _ca_dir(cls, v: Any) -> Any:
        return _folder(v, "broker.ca_dir")

    @field_validator("accounts")
    @classmethod
    def _accounts(cls, v: dict[str, Any]) -> dict[str, Any]:
        for user, password in v.items():
            if isinstance(password, str):
                check_one_line(password, f"the password of broker account {user!r}")
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

    enabled: Flag = Field(True, description="Capture the unit's packets during the traffic test cases.")
    interface: str = Field("any", pattern=r"^[A-Za-z0-9_.:@-]{1,15}$",
                           description="Interface tcpdump listens on (lo for units on loopback).")
    tcpdump: str = Field("tcpdump", description="The tcpdump program (name on PATH or a path).")
    keep_pcap: Flag = Field(False, description="Keep the raw capture in the run directory. Off by default: a "
                                               "plaintext capture holds the very secrets the report redacts.")

    @field_validator("tcpdump")
    @classmethod
    def _program(cls, v: str) -> str:
        return check_one_line(v, "the tcpdump program")


class LabInstrument(Strict):
    resource: Value = Field(description="VISA resource string, e.g. TCPIP::10.0.0.5::5025::SOCKET.")
    backend: str = "@py"
    role: Literal["supply", "relay"] = "supply"
    channels: dict[str, Count] = Field(default_factory=dict, description="Unit id → channel.")

    @field_validator("resource")
    @classmethod
    def _resource(cls, v: Any) -> Any:
        return check_visa_resource(v) if isinstance(v, str) else v

    @field_validator("channels")
    @classmethod
    def _channels(cls, v: dict[str, int]) -> dict[str, int]:
        bad = [unit for unit, channel in v.items() if channel < 1]
        if bad:
            raise ValueError(f"channels are numbered from 1 (units {', '.join(bad)})")
        return v


class LabConfig(Strict):
    schema_version: SchemaVersion
    name: str = "bench"
    reports_dir: str = Field("reports", description="Where run directories are created (relative to the working directory).")
    runtime: str | None = Field(None, description="Runtime facts file (JSON/YAML) published by bench tooling, e.g. the simulator.")
    secrets: SecretsSource = Field(default_factory=SecretsSource)
    fetch: FetchPolicy = Field(default_factory=FetchPolicy)
    networks: list[str] = Field(default_factory=list, description=(
        "Networks probes and links may enter: CIDR networks (10.0.0.0/24), addresses, or host names (a listed "
        "name may be looked up in DNS; any other name is refused before a lookup)."))
    hosts: dict[str, str] = Field(default_factory=dict, description=(
        "Host names the bench knows without DNS: name → IP address (the address must be in `networks`)."))
    timeouts: dict[str, PositiveSeconds] = Field(default_factory=dict)
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
    places: dict[str, str] = Field(default_factory=dict, description=(
        "labgrid places of this bench's units (the farm extra): unit id → place name, a tag filter "
        "(key=value[,key=value]) or +reservation token. `harness run` reserves, acquires and releases them "
        "and takes the unit's console, power and address from the place (docs/farm.md)."))
    coordinator: str | None = Field(None, description="labgrid coordinator HOST:PORT (default: LG_COORDINATOR).")

    @field_validator("networks")
    @classmethod
    def _networks(cls, v: list[str]) -> list[str]:
        for item in v:
            _network_or_name(item)
        return v

    @field_validator("hosts")
    @classmethod
    def _hosts(cls, v: dict[str, str]) -> dict[str, str]:
        for name, address in v.items():
            if not is_host_name(str(name)):
                raise ValueError(f"{name!r} is not a host name")
            try:
                ipaddress.ip_address(address)
            except ValueError:
                raise ValueError(f"hosts.{name}: {address!r} is not an IP address") from None
        return v

    @field_validator("reports_dir")
    @classmethod
    def _reports_dir(cls, v: str) -> str:
        return check_directory(v, "reports_dir")

    @field_validator("serve_ca_dir")
    @classmethod
    def _serve_ca_dir(cls, v: Any) -> Any:
        return _folder(v, "serve_ca_dir")

    @field_validator("runtime")
    @classmethod
    def _runtime(cls, v: str | None) -> str | None:
        return _path(v, "the runtime facts file")

    @field_validator("serve_address")
    @classmethod
    def _serve_address(cls, v: str) -> str:
        return check_host(v, "serve_address")

    @model_validator(mode="after")
    def _hosts_in_scope(self) -> LabConfig:
        nets = []
        for item in self.networks:
            try:
                nets.append(ipaddress.ip_network(item, strict=False))
            except ValueError:
                continue
        outside = [f"{name} ({address})" for name, address in self.hosts.items()
                   if not any(ipaddress.ip_address(address) in net for net in nets)]
        if outside:
            raise ValueError(f"hosts outside the declared networks: {', '.join(outside)}")
        return self
