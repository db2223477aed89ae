"""The device profile (what the device is and how to drive it) and the lab configuration (what
this bench has). Both are YAML files validated into these pydantic models.

Design rules:
- Unknown keys are errors (a typo must not silently disable a test).
- Anything secret or bench-specific may be given by reference instead of inline:
  ``{secret: NAME}`` (secrets source of the lab), ``{env: NAME}`` (environment), ``{runtime: a.b}``
  (runtime facts a bench tool such as the simulator publishes, e.g. a pty path).
- Templates in procedure steps are ``{{name}}``: the double braces never clash with JSON bodies or
  regular expressions (``\\d{3}``).
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationInfo, field_validator, model_validator

from harness.firmware.container import ContainerSpec
from harness.profile.ixit import (  # noqa: F401
    IXIT_DOCUMENTS,
    AuthMechanism,
    DeletionFunction,
    DisclosurePolicy,
    Ics,
    IcsEntry,
    Interface,
    Ixit,
    SupportPeriod,
    UserInfo,
    _split_ixit,
)
from harness.profile.values import (  # noqa: F401  (re-exported: the profile's public names)
    Count,
    EnvRef,
    Flag,
    Port,
    PositiveSeconds,
    Ref,
    RuntimeRef,
    SchemaVersion,
    Seconds,
    SecretRef,
    Strict,
    Value,
    _to_value,
    check_account_name,
    check_host,
    check_one_line,
    check_visa_resource,
    normal_mac,
    split_host_port,
)

SCHEMA_VERSION = 1

# --- product and units --------------------------------------------------------------------------

class Product(Strict):
    manufacturer: str
    model: str
    hardware: str = ""
    firmware: str = Field("", description="Firmware version the lab expects to find on the units.")


class StandardChoice(Strict):
    edition: Literal["v2.1.1", "v3.1.3"] = Field(
        "v2.1.1", description="EN 303 645 edition the conformance report is written against. The test "
        "cases are TS 103 701 V1.1.1 (which assesses V2.1.1); for v3.1.3 their verdicts are mapped onto "
        "the V3.1.3 provisions and the new ones await an assessor.")


class Account(Strict):
    password: Value | None = Field(None, description="Label (pre-installed) password; by reference.")
    user_defined: Flag = Field(False, description="True when the device forces the user to set a password before use.")

    @field_validator("password")
    @classmethod
    def _password(cls, v: Any) -> Any:
        return check_one_line(v, "a password") if isinstance(v, str) else v


# An account name as a mapping key: checked (no ':' ...) and located at the key itself.
AccountName = Annotated[str, AfterValidator(check_account_name)]


def _is_template(text: str) -> bool:
    return "{{" in text


_MAC = re.compile(r"^[0-9A-Fa-f]{2}([:-]?)[0-9A-Fa-f]{2}(\1[0-9A-Fa-f]{2}){4}$")
_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"


class Unit(Strict):
    id: str = Field(pattern=_ID, description="Bench name of this physical unit, e.g. U1.")
    serial: str
    mac: str | None = None
    address: Value | None = Field(None, description="IP address of the unit (probes go only to declared addresses).")
    accounts: dict[AccountName, Account] = Field(default_factory=dict)
    links: dict[str, dict[str, Value]] = Field(
        default_factory=dict, description="Per-unit link settings that override `links:`, e.g. {console: {url: /dev/ttyUSB0}}.")
    vars: dict[str, Value] = Field(
        default_factory=dict, description="Unit variables for procedures, `{{unit.vars.NAME}}` (inline or by reference).")

    @field_validator("vars")
    @classmethod
    def _var_names(cls, v: dict[str, Any]) -> dict[str, Any]:
        bad = [k for k in v if not re.match(r"^[A-Za-z_]\w*$", k)]
        if bad:
            raise ValueError(f"variable names are identifiers (letters, digits, _): {bad}")
        return v

    @field_validator("mac")
    @classmethod
    def _mac(cls, v: str | None) -> str | None:
        if v is not None and not _MAC.match(v):
            raise ValueError(f"{v!r} is not a MAC address (six hex octets)")
        return v

    @field_validator("address")
    @classmethod
    def _address(cls, v: Any) -> Any:
        if isinstance(v, str):
            try:
                ipaddress.ip_address(v)
            except ValueError:
                raise ValueError(f"{v!r} is not an IP address") from None
        return v


# --- links ------------------------------------------------------------------------------------------

def check_encoding(v: str) -> str:
    import codecs
    try:
        codecs.lookup(v)
    except (LookupError, ValueError):
        raise ValueError(f"{v!r} is not a text encoding Python knows (e.g. utf-8, latin-1)") from None
    return v


def check_http_url(v: str) -> str:
    """http(s)://host[:port][/path], the host possibly a template such as {{unit.address}}."""
    from urllib.parse import urlsplit

    if v.startswith("{{"):
        return v  # the whole URL (or its scheme) is a unit's value: checked when the link opens
    probe = _TEMPLATE_HOST.sub("template.invalid", v)
    if probe != probe.strip() or any(c in probe for c in "\r\n\0 "):
        raise ValueError(f"{v!r}: a URL has no spaces or newline")
    parts = urlsplit(probe)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{v!r} is not an http:// or https:// URL")
    if parts.username is not None or parts.password is not None:
        raise ValueError(f"{v!r}: no credentials in URLs (use the link's auth)")
    try:
        port = parts.port
    except ValueError:
        raise ValueError(f"{v!r}: the port is not a number in 0..65535") from None
    if port == 0:
        raise ValueError(f"{v!r}: port 0")
    if parts.hostname and parts.hostname != "template.invalid":
        check_host(parts.hostname, "URL host")
    return v


_TEMPLATE_HOST = re.compile(r"\{\{[^}]*\}\}")


def check_mqtt_url(v: str, *, port_required: bool = False) -> str:
    """mqtt://host[:port] or mqtts://host[:port], without credentials or a path."""
    m = re.fullmatch(r"(mqtts?)://(?P<where>[^/\s@]+)/?", v)
    if not m:
        raise ValueError(f"{v!r} is not mqtt://host[:port] or mqtts://host[:port] (no credentials in URLs)")
    where = m.group("where")
    if re.search(r":\d*$", where) and not where.endswith("]"):
        split_host_port(where, "MQTT broker URL")
    elif port_required:
        raise ValueError(f"{v!r} names no port")
    else:
        host = where[1:-1] if where.startswith("[") and where.endswith("]") else where
        check_host(host, "MQTT broker host")
    return v


def _host_value(cls: type, v: Any) -> Any:
    """A link's host given inline: an address or host name (a template is filled per unit)."""
    if isinstance(v, str) and not _is_template(v):
        check_host(v, "host")
    return v


_SERIAL_URL = re.compile(r"(/dev/\S+|[A-Z]:?COM\d+|COM\d+|(loop|spy|alt|hwgrep|cp2110)://\S*)")
_NETWORK_SERIAL = re.compile(r"(rfc2217|socket)://(?P<where>[^/?#]*)(?P<rest>[/?#]\S*)?")


def check_serial_url(v: str) -> str:
    """A serial port: /dev/…, COMn, a pyserial URL, or any absolute path that is (or links to) a
    character device — a pty, /dev/serial/by-id/…, a udev symlink elsewhere. A network port
    (``socket://``, ``rfc2217://``) names its host and a port in 1..65535."""
    if v != v.strip() or any(c in v for c in "\r\n\0"):
        raise ValueError(f"{v!r}: a serial port or URL has no surrounding spaces or newline")
    network = _NETWORK_SERIAL.fullmatch(v)
    if network:
        split_host_port(network.group("where"), f"{v.split(':')[0]} serial URL")
        return v
    if _SERIAL_URL.fullmatch(v):
        if v.startswith("/dev/") and "/../" in v + "/":
            raise ValueError(f"{v!r}: a device path without '..'")
        return v
    if v.startswith("/"):
        import os
        import stat
        try:
            if stat.S_ISCHR(os.stat(v).st_mode):
                return v
        except OSError:
            pass
        raise ValueError(f"{v!r} is not a character device (nor a link to one) on this machine")
    raise ValueError(f"{v!r} is not a serial port or pyserial URL (/dev/tty…, rfc2217://host:port, socket://host:port)")


# The rates UARTs and pyserial's platforms share; anything else must be declared (custom_baud).
STANDARD_BAUDS = (50, 75, 110, 134, 150, 200, 300, 600, 1200, 1800, 2400, 4800, 9600, 19200, 38400, 57600,
                  115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1152000, 1500000, 2000000,
                  2500000, 3000000, 3500000, 4000000)


class SerialLink(Strict):
    type: Literal["serial"] = "serial"
    url: Value | None = Field(None, description="Port or pyserial URL; usually set per unit.")
    custom_baud: Flag = Field(False, description="The console runs at a non-standard baud rate (e.g. 74880).")
    baud: Count = Field(115200, gt=0, description="Baud rate: one of the standard rates unless custom_baud is set.")
    hotplug: Flag = Field(False, description=(
        "The port appears only when the unit is connected or powered (a USB-UART on the unit): a device path "
        "need not exist when the run starts."))
    newline: str = Field("\r\n", description="Line ending the harness sends after each `send`.")
    encoding: str = "utf-8"
    timeout: PositiveSeconds = Field(10.0, description="Default timeout of an expect step, seconds.")
    prompts: dict[str, str] = Field(
        default_factory=dict, description="Named patterns (regular expressions) steps can refer to by name.")
    max_buffer: Count = Field(65536, gt=1024, description="Bytes of unmatched console output kept for matching.")
    settle: Seconds = Field(0.0, le=10, description=(
        "Seconds of quiet (no byte received) the console needs before each send: some consoles drop "
        "input typed right after the prompt. Event-driven: the wait ends as soon as the line is quiet."))
    reopen_timeout: Seconds = Field(10.0, le=300, description=(
        "How long to wait for a port that vanished (a pty or USB-UART re-created by a power cycle) to come "
        "back; 0: never reopen."))

    @field_validator("url")
    @classmethod
    def _url(cls, v: Any) -> Any:
        return check_serial_url(v) if isinstance(v, str) else v

    @field_validator("encoding")
    @classmethod
    def _encoding(cls, v: str) -> str:
        return check_encoding(v)

    @field_validator("baud")
    @classmethod
    def _baud(cls, v: int, info: ValidationInfo) -> int:
        if v not in STANDARD_BAUDS and not info.data.get("custom_baud"):
            raise ValueError(f"baud {v} is not a standard rate ({', '.join(map(str, STANDARD_BAUDS[8:20]))} "
                             f"...); set custom_baud: true if the console really runs at it")
        return v

    @field_validator("prompts")
    @classmethod
    def _prompts(cls, v: dict[str, str]) -> dict[str, str]:
        for name, pattern in v.items():
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"prompt {name!r}: invalid regular expression: {exc}") from None
        return v


class Credentials(Strict):
    user: str = Field(description="User name; templates allowed, e.g. '{{user}}'.")
    password: str = Field(description="Password; a template such as '{{accounts.admin.password}}' (redacted in transcripts).")

    @field_validator("user")
    @classmethod
    def _user(cls, v: str) -> str:
        return check_account_name(v, "user name")

    @field_validator("password")
    @classmethod
    def _password(cls, v: str) -> str:
        return check_one_line(v, "a password")


class HttpAuth(Strict):
    """How an HTTP step authenticates. Exactly one of the fields."""

    basic: Credentials | None = Field(None, description="HTTP Basic (RFC 7617), sent with the request.")
    digest: Credentials | None = Field(None, description="HTTP Digest (RFC 7616): challenge and response by the client.")
    bearer: str | None = Field(None, description="Authorization: Bearer TOKEN; e.g. '{{session.token}}'.")

    @model_validator(mode="after")
    def _one(self) -> HttpAuth:
        given = [k for k in ("basic", "digest", "bearer") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"auth takes exactly one of basic, digest, bearer (got {given or 'none'})")
        return self


class HttpLink(Strict):
    type: Literal["http"] = "http"
    base_url: Value | None = Field(None, description="e.g. https://{{unit.address}}:443")
    ca: Value | None = Field(None, description=(
        "CA certificate file that signs the device's certificate (relative: to the lab configuration's folder), "
        "or `lab` for the lab CA (the lab configuration's fetch.ca, else the broker's ca_dir)."))
    verify: Flag = True
    timeout: PositiveSeconds = 10.0
    auth: HttpAuth | None = Field(
        None, description="Authentication of every step on this link unless a step says its own `auth` (or `auth: none`).")

    @field_validator("base_url")
    @classmethod
    def _base_url(cls, v: Any) -> Any:
        if isinstance(v, str):
            check_http_url(v)
        return v


class TelnetLink(Strict):
    """A console reached over telnet: the same steps as a serial console."""

    type: Literal["telnet"] = "telnet"
    host: Value | None = Field(None, description="Default: the unit's address.")
    port: Port = 23
    newline: str = "\r\n"
    encoding: str = "utf-8"
    timeout: PositiveSeconds = 10.0
    prompts: dict[str, str] = Field(default_factory=dict)
    max_buffer: Count = Field(65536, gt=1024)
    settle: Seconds = Field(0.0, le=10, description="Seconds of quiet before each send (see serial links).")
    closed_outcome: str = Field("rejected", description=(
        "Outcome of an expect_one_of that names it when the device ends the session instead of answering "
        "(BusyBox telnetd after 3 failed logins); '' keeps waiting across the reconnect."))

    _prompts = field_validator("prompts")(SerialLink._prompts.__func__)  # type: ignore[attr-defined]
    _host = field_validator("host")(_host_value)
    _encoding = field_validator("encoding")(SerialLink._encoding.__func__)  # type: ignore[attr-defined]


class SshLink(Strict):
    type: Literal["ssh"] = "ssh"
    host: Value | None = Field(None, description="Default: the unit's address.")
    port: Port = 22
    timeout: PositiveSeconds = 10.0

    _host = field_validator("host")(_host_value)


class MqttLink(Strict):
    """The device's MQTT side as the harness sees it: a client of the broker the device uses.

    ``broker: lab`` (or ``lab:tls``, ``lab:plain``, ``lab:rogue``) means a broker the harness starts
    for the run (see the lab configuration's ``broker``); otherwise a ``mqtt://``/``mqtts://`` URL.
    """

    type: Literal["mqtt"] = "mqtt"
    broker: Value = Field("lab:tls", description="lab[:plain|tls|rogue] or mqtt(s)://host:port")
    username: Value | None = None
    password: Value | None = None
    ca: Value | None = Field(None, description="CA that signs the broker certificate (default: the lab CA).")
    client_id: str | None = None
    timeout: PositiveSeconds = 10.0
    keepalive: Count = Field(30, ge=5, le=65535)
    topics: dict[str, str] = Field(default_factory=dict, description="Named topic templates, e.g. cmnd: 'cmnd/{{unit.serial}}/'")

    @field_validator("broker")
    @classmethod
    def _broker(cls, v: Any) -> Any:
        if isinstance(v, str) and not re.fullmatch(r"lab(:(plain|tls|rogue))?", v):
            try:
                check_mqtt_url(v, port_required=True)
            except ValueError as exc:
                raise ValueError(f"{exc}; expected lab, lab:plain, lab:tls, lab:rogue or mqtt(s)://host:port") from None
        return v

    @field_validator("username", "password")
    @classmethod
    def _one_line(cls, v: Any) -> Any:
        return check_one_line(v, "an MQTT user name or password") if isinstance(v, str) else v


class InstrumentLink(Strict):
    """A bench instrument channel that governs this unit: a power supply or a relay (button line)."""

    type: Literal["instrument"] = "instrument"
    role: Literal["supply", "relay"]
    instrument: str | None = Field(None, description="Name of an instrument in the lab configuration.")
    resource: Value | None = Field(None, description="VISA resource, e.g. TCPIP::10.0.0.5::5025::SOCKET (else from the lab).")
    backend: str = Field("@py", description="pyvisa backend: @py, or FILE.yaml@sim for pyvisa-sim.")
    channel: Count | None = Field(None, ge=1, description="Output or relay channel of this unit.")
    voltage: PositiveSeconds | None = Field(None, description="Supply voltage the unit needs (volts).")
    timeout: PositiveSeconds = 5.0
    labgrid_power: Value | None = Field(None, description=(
        "A labgrid power port that powers this unit instead of a VISA instrument (the farm extra): "
        "usually {runtime: units.U1.power}, the {model, host, index} a labgrid place resolves to (docs/farm.md)."))

    @field_validator("resource")
    @classmethod
    def _resource(cls, v: Any) -> Any:
        return check_visa_resource(v) if isinstance(v, str) and not _is_template(v) else v


Link = Annotated[SerialLink | HttpLink | TelnetLink | SshLink | MqttLink | InstrumentLink, Field(discriminator="type")]

# Verbs each link type understands in procedure steps.
LINK_VERBS: dict[str, set[str]] = {
    "serial": {"send", "write", "expect", "expect_one_of", "send_secret", "drain", "expect_silence"},
    "telnet": {"send", "write", "expect", "expect_one_of", "send_secret", "drain", "expect_silence"},
    "http": {"get", "post", "put", "patch", "delete", "head", "options"},
    "ssh": {"login"},
    "mqtt": {"publish", "expect", "expect_one_of", "subscribe", "connect"},
    "instrument": {"power_off", "power_on", "power_cycle", "hold_button", "set_voltage", "measure_current"},
}
CONTROL_VERBS = {"wait_for", "settle", "call", "python", "bench.run", "set", "forget_session"}
STEP_OPTIONS = {"timeout", "capture", "outcomes", "expect_status", "body", "json", "form", "note", "payload",
                "qos", "retain", "match", "user", "password", "headers", "query", "auth", "files", "body_file",
                "content_type", "env", "cwd", "quiet"}
# Options each kind of step accepts (anything else on such a step is a profile error).
HTTP_OPTIONS = {"timeout", "capture", "outcomes", "expect_status", "body", "json", "form", "note", "headers", "query",
                "auth", "files", "body_file", "content_type"}
BENCH_OPTIONS = {"timeout", "capture", "outcomes", "env", "cwd", "note"}
LINK_OPTIONS: dict[str, set[str]] = {
    "serial": {"timeout", "note", "quiet"},
    "telnet": {"timeout", "note", "quiet"},
    "http": HTTP_OPTIONS,
    "ssh": {"timeout", "note", "user", "password"},
    "mqtt": {"timeout", "note", "payload", "qos", "retain", "user", "password"},
    "instrument": {"timeout", "note"},
}
FILTERS = ("base64", "urlencode", "json", "hex", "lower", "upper", "shellquote")
# A placeholder in a step: {{name}}, {{unit.vars.x}}, {{accounts.admin.password | base64}}.
TEMPLATE = re.compile(r"\{\{\s*([A-Za-z_][\w.]*)\s*((?:\|\s*[A-Za-z_]\w*\s*)*)\}\}")


class BruteForcePolicy(Strict):
    """Time budget and lockout behaviour of the dictionary and brute-force tests (5.1-1, 5.1-5)."""

    budget_s: PositiveSeconds = Field(1800.0, description=(
        "Wall-clock budget of one dictionary attack on one interface; credentials left untried are reported INCONCLUSIVE."))
    per_interface: dict[str, PositiveSeconds] = Field(default_factory=dict, description=(
        "Budget in seconds per IXIT 15-Intf interface name (console login: 'console'), overriding budget_s."))
    independent_counters: list[str] = Field(default_factory=list, description=(
        "Interfaces whose failed-login counter is their own (not shared with any other interface): attacked "
        "concurrently with the rest."))
    reset_on_success: Flag = Field(True, description=(
        "A successful login resets the device's failed-login counter (the harness logs in with the known-good "
        "password to start from a known counter state and to avoid silent lockouts)."))
    lockout_poll_s: PositiveSeconds = Field(5.0, description=(
        "Interval between known-good login attempts while measuring how long a (silent) lockout lasts."))
    max_lockout_wait_s: PositiveSeconds = Field(600.0, description=(
        "Longest a test waits for a lockout to end before it reports the rest INCONCLUSIVE."))
    attempt_s: dict[str, PositiveSeconds] = Field(default_factory=dict, description=(
        "Expected seconds per failed login per interface, for the estimate printed before a run "
        "(defaults: telnet/ssh 2.5, console 1, http 0.3)."))
    probe_every: Count = Field(2, ge=1, le=1000, description=(
        "Wrong passwords between two known-good logins in a dictionary attack: an accepted known-good login "
        "proves the refusals before it were judged (and resets the counter); a refused one reveals a silent "
        "lockout. Keep it below the device's lockout threshold."))


class Policies(Strict):
    """Which published policy the cryptography and brute-force checks judge against."""

    tls: Literal["mozilla-intermediate", "mozilla-modern", "rfc8996"] = "mozilla-intermediate"
    # NIST P-curves are approved best practice (ETSI TR 103 621, NIST SP 800-186); ssh-audit's own
    # default fails them, so it is a choice a lab makes explicitly.
    ssh: Literal["ssh-audit-nist-curves-accepted", "ssh-audit-default"] = "ssh-audit-nist-curves-accepted"
    brute_force_attempts: Count = Field(
        50, ge=5, le=10000, description="Wrong passwords tried at concurrency 1 before brute force is judged (5.1-5).")
    brute_force: BruteForcePolicy = Field(default_factory=BruteForcePolicy)


class UpdatePackages(Strict):
    """Firmware packages from the manufacturer for the update test cases (5.3-2, 5.3-9, 5.3-10,
    5.7-1). The harness derives the manipulated packages (tampered, unsigned, foreign-signed,
    re-labelled) from ``valid`` itself."""

    valid: Value | None = Field(None, description="A newer package, correctly signed (file path).")
    older: Value | None = Field(None, description="An older package, correctly signed: the rollback test.")
    signing_key: Value | None = Field(
        None, description="Manufacturer test key, only when the lab may sign (derives the rollback package).")
    format: str | None = Field(None, description="Package format plugin (default: detected).")
    container: ContainerSpec | None = Field(None, description=(
        "The package is a tar/zip archive with a manifest and a detached signature: where each part is "
        "(format: container; docs/firmware.md)."))
    delivered: Value | None = Field(None, description=(
        "The package of the firmware the units are delivered with (the update campaign's restore_firmware "
        "gets it as {{package_url}}/{{package_b64}})."))


# --- procedures -------------------------------------------------------------------------------------

Step = dict[str, Any]


class DeviceProfile(Strict):
    schema_version: SchemaVersion = Field(description="Profile format version; this harness reads 1.")
    product: Product
    standard: StandardChoice = Field(default_factory=StandardChoice)
    units: list[Unit] = Field(min_length=1)
    links: dict[str, Link] = Field(default_factory=dict)
    procedures: dict[str, list[Step] | str] = Field(
        default_factory=dict,
        description="Named procedures: a list of steps, or 'module:Class' for a Python implementation.")
    ics: Ics = Field(default_factory=Ics)
    ixit: Annotated[Ixit, BeforeValidator(_split_ixit)] = Field(default_factory=Ixit)
    settle: dict[str, Seconds] = Field(
        default_factory=dict, description="Named settle times the device needs (seconds), usable as {settle: name}.")
    policies: Policies = Field(default_factory=Policies)
    updates: UpdatePackages = Field(default_factory=UpdatePackages)

    def unit(self, unit_id: str) -> Unit:
        for u in self.units:
            if u.id == unit_id:
                return u
        raise KeyError(unit_id)
