"""The supplier's ICS (Table B.1 of TS 103 701) and IXIT documents as the profile carries them."""

from __future__ import annotations

import re
from datetime import date
from typing import Any, Literal

from pydantic import Field, ValidationInfo, field_validator

from harness.profile.values import Flag, Strict, Value

# --- ICS and IXIT ---------------------------------------------------------------------------------

PasswordKind = Literal["user-defined", "unique-per-unit", "shared"]
Guarantee = Literal["confidentiality", "integrity", "authenticity"]


class IcsEntry(Strict):
    support: Literal["Y", "N", "N/A"]
    justification: str | None = None


class Ics(Strict):
    # features before conditions: the conditions validator reads them (V3.1.3 has conditions 14..16).
    features: dict[str, bool] = Field(default_factory=dict, description=(
        "EN 303 645 V3.1.3 Table B.1 features (letters a..aa) the product has; unused with V2.1.1."))
    conditions: dict[int, Flag] = Field(default_factory=dict, description="Table B.1 conditions (1..13 in V2.1.1, 1..16 in V3.1.3).")
    provisions: dict[str, IcsEntry] = Field(default_factory=dict)

    @field_validator("conditions")
    @classmethod
    def _conds(cls, v: dict[int, bool], info: ValidationInfo) -> dict[int, bool]:
        # Conditions 14..16 exist only in V3.1.3, whose ICS also answers the features.
        last = 16 if info.data.get("features") else 13
        bad = [k for k in v if not 1 <= k <= last]
        if bad:
            raise ValueError(f"Table B.1 has conditions 1..13 (1..16 in V3.1.3, whose ICS also answers the "
                             f"features), not {bad}")
        return v

    @field_validator("features")
    @classmethod
    def _features(cls, v: dict[str, bool]) -> dict[str, bool]:
        bad = [k for k in v if not re.match(r"^[a-z]{1,2}$", str(k))]
        if bad:
            raise ValueError(f"Table B.1 features are letters a..aa, not {bad}")
        return v

    @field_validator("provisions")
    @classmethod
    def _ids(cls, v: dict[str, IcsEntry]) -> dict[str, IcsEntry]:
        for k in v:
            if not re.match(r"^(4|5\.\d+|6)-\d+[A-Z]?$", str(k)):
                raise ValueError(f"{k!r} is not an EN 303 645 provision id (e.g. 5.1-1)")
        return v


class AuthMechanism(Strict):
    id: str
    factor: str = "password"
    interface: str | None = None
    generation: str | None = Field(None, description="Password Generation Mechanism.")
    brute_force: str | None = Field(None, description="Brute Force Prevention.")
    description: str | None = None
    account: str | None = Field(None, description="User name this mechanism authenticates (default: the unit's first account).")
    change: str | None = Field(None, description=(
        "Procedure that changes this mechanism's password (variables user, password, new_password); default "
        "change_password. 'none' declares that the user has no way to change it (5.1-4 FAIL)."))
    password_kind: PasswordKind | None = Field(None, description=(
        "Authentication Factor, as far as 5.1-1 needs it: 'user-defined' (the user sets it before any use "
        "beyond the factory default), 'unique-per-unit' (pre-installed, different on every unit), 'shared' "
        "(the same on every unit)."))
    interfaces: list[str] = Field(default_factory=list, description=(
        "Further 15-Intf names where the same credential logs in (e.g. the admin password on the console, "
        "the web API and SSH)."))
    user_authentication: Flag = Field(True, description=(
        "The mechanism authenticates people (false: machine-to-machine, e.g. a device certificate)."))
    network: Flag | None = Field(None, description=(
        "Directly addressable over a network interface (5.1-5). Default: from the 15-Intf entry named "
        "by `interface` (a port or a network kind)."))
    security_guarantees: list[Guarantee] = Field(default_factory=list, description=(
        "Security Guarantees the mechanism provides (5.1-3): confidentiality, integrity, authenticity."))
    cryptography: str | None = Field(None, description=(
        "Cryptographic Details (5.1-3), e.g. 'SSH-2 with curve25519, AES-256-GCM; passwords stored as "
        "Argon2id'; 'none' when the secret travels and is stored without cryptography."))


class DisclosurePolicy(Strict):
    url: Value | None = None
    contact: str | None = None
    acknowledgement: str | None = Field(None, description="Timeline for acknowledging a report, e.g. '5 working days'.")
    status_updates: str | None = Field(None, description="Timeline for status updates, e.g. 'every 30 days'.")
    policy_url: Value | None = None


class SupportPeriod(Strict):
    until: date | None = None
    description: str | None = None
    published_at: Value | None = None


class UserInfo(Strict):
    disclosure_policy: DisclosurePolicy | None = None
    support_period: SupportPeriod | None = None
    model_designation: str | None = None
    privacy_notice: Value | None = Field(None, description="URL of the published information on personal data processing (6-1, 5.8-3).")
    telemetry_notice: Value | None = Field(None, description="URL saying which telemetry is collected and why (6-5); default: the privacy notice.")
    deletion_instructions: Value | None = Field(None, description="URL of the instructions for deleting personal data (5.11-3).")
    setup_guide: Value | None = Field(None, description="URL of the guidance on setting the device up securely (5.12-2).")
    setup_check_guide: Value | None = Field(None, description="URL of the guidance on checking that the set-up is secure (5.12-3).")
    change_password_guide: Value | None = Field(None, description=(
        "Documentation of Change Mechanisms: URL of the user guidance on changing each password (5.1-4)."))
    sensors_documentation: Value | None = Field(None, description=(
        "Documentation of Sensors: where the user documentation describes the external sensing capabilities (5.8-3)."))
    non_updatable_rationale: Value | None = Field(None, description=(
        "Publication of Non-Updatable: URL of the published rationale for a product without software updates (5.3-14)."))
    replacement_documentation: Value | None = Field(None, description=(
        "Documentation of Replacement: URL of the published hardware replacement support (5.3-14)."))

    @field_validator("disclosure_policy", mode="before")
    @classmethod
    def _url_only(cls, v: Any) -> Any:
        # A bare URL is the short form of {url: ...}.
        return {"url": v} if isinstance(v, str) else v


class Interface(Strict):
    name: str
    kind: str | None = Field(None, description="e.g. console, https, ssh, telnet, mqtt, coap, debug")
    port: str | None = Field(None, pattern=r"^(tcp|udp)/\d{1,5}$")
    status: Literal["enabled", "disabled"]
    authenticated: Flag | None = None
    description: str | None = None
    tls: Flag | None = Field(None, description="The service speaks TLS (assessed against the TLS policy).")
    login: str | None = Field(None, description="Procedure that logs in over this interface (5.1-1, 5.1-5).")
    probe: str | None = Field(None, description="UDP probe payload as hex, for declared UDP services.")
    disclosure_paths: list[str] = Field(
        default_factory=list, description="Paths an unauthenticated client may request (5.6-2), e.g. /api/status.")
    physical: Flag | None = Field(
        None, description="The interface is reachable by touching the device (UART header or pads, "
        "USB, JTAG): a console without authentication on it FAILs 5.6-4. Default for kind console/"
        "uart/serial/jtag: true.")
    debug: Flag | None = Field(None, description=(
        "Debug Interface (5.6-4): the interface can be used for debugging (JTAG, SWD, a root console). "
        "Default for kind debug/jtag/swd: true."))
    intermittent: Flag | None = Field(None, description=(
        "Only intermittently required (e.g. a service port used in repair): must be disabled by default (5.6-3, 5.6-4)."))
    protection: str | None = Field(None, description=(
        "Protection of the interface (5.6-3, 5.6-4), e.g. 'inside the sealed casing; disabled by an eFuse "
        "in production'."))


class DeletionFunction(Strict):
    target: str
    initiation: str
    interaction: str | None = None
    procedure: str | None = Field(None, description="Procedure that performs it (default factory_reset).")
    confirmation: str | None = Field(None, description=(
        "Regular expression of the confirmation the device shows once the deletion is done (5.11-4), "
        "matched in the procedure's transcript."))
    covers: list[Literal["personal-data", "configuration", "credentials"]] = Field(default_factory=list, description=(
        "Target Type as 5.11-1 needs it: which user data the function erases from the device (personal "
        "data, user configuration, user-related cryptographic material)."))


class SecurityParameter(Strict):
    """IXIT 10-SecParam: one sensitive or critical security parameter (5.4-1 .. 5.4-4, 5.5-8)."""

    id: str
    kind: Literal["password", "key", "token", "certificate", "psk", "identity", "other"] = "other"
    used_for: str | None = None
    storage: str | None = Field(None, description="Where and how it is stored (e.g. 'encrypted partition, key in the SoC').")
    protection: str | None = Field(None, description="How it is protected at rest; 'none' declares plaintext storage.")
    location: str | None = Field(None, description="Where it can be read on the unit (a file path), for the storage probe.")
    per_device: Flag | None = Field(None, description="Unique to each unit (5.4-4).")
    hard_coded: Flag | None = Field(None, description="Fixed in the software (5.4-3: must be false for critical parameters).")
    generation: str | None = None
    description: str | None = None
    critical: Flag | None = Field(None, description=(
        "A critical security parameter (its disclosure or change breaks the device's security: keys, "
        "passwords) as opposed to a sensitive one (5.4-3, 5.4-4, 5.5-6, 5.5-7)."))
    protects: list[Literal["software-updates", "associated-services", "user-authentication", "storage",
                           "identity", "other"]] = Field(default_factory=list, description=(
        "What the parameter protects: 'software-updates' and 'associated-services' make 5.4-4 apply."))
    replaced_before_use: Flag | None = Field(None, description=(
        "Provisioning Mechanism of a hard-coded parameter: it is replaced before the device operates, so "
        "the hard-coded value is never used in operation (5.4-3)."))


class CommunicationMechanism(Strict):
    """IXIT 11-ComMech: one way the device communicates (5.5-x, 5.8-x)."""

    id: str
    interface: str | None = Field(None, description="IXIT 15-Intf name, or the remote service it talks to.")
    protocol: str | None = None
    security: str | None = Field(None, description="Security guarantees, e.g. 'TLS 1.2+ with server authentication'; 'none' for plaintext.")
    cryptography: str | None = Field(None, description="Cryptographic details (protocol versions, suites, key sizes).")
    carries: list[str] = Field(default_factory=list, description="What it carries: ids of 10-SecParam and 21-PersData entries.")
    description: str | None = None
    security_guarantees: list[Guarantee] = Field(default_factory=list, description=(
        "Security Guarantees the mechanism provides: confidentiality, integrity, authenticity."))
    remote: Flag | None = Field(None, description="Remotely accessible (reachable from beyond the local network, 5.5-7).")
    peer: Literal["associated-service", "local-device", "user-app", "other"] | None = Field(None, description=(
        "The communication partner; 'associated-service' makes 5.8-2 apply to sensitive personal data."))
    resilience: str | None = Field(None, description=(
        "Resilience Measures (5.9-3): how connections are (re)established in an orderly way, e.g. "
        "'exponential back-off with jitter, 1 s to 10 min'."))


class SoftwareService(Strict):
    """IXIT 13-SoftServ: one software service (5.5-4, 5.6-5)."""

    name: str
    needed_for: str | None = Field(None, description="The intended use that needs it; empty for a service nothing needs.")
    interface: str | None = None
    authenticated: Flag | None = None
    privilege: str | None = Field(None, description="The account or privilege it runs with (5.6-7), e.g. 'root', 'svc-web'.")
    description: str | None = None
    status: Literal["enabled", "disabled"] | None = Field(None, description="Status in the initialized state (5.6-5).")
    network: Flag | None = Field(None, description="Reachable over a network interface (5.5-4).")
    auth_mechanism: str | None = Field(None, description="Authentication Mechanism: the 1-AuthMech id protecting it (5.5-4, 5.5-5).")
    allows_configuration: Flag | None = Field(None, description=(
        "Allows Configuration: security-relevant settings can be changed through it (5.5-5)."))
    probe: str | None = Field(None, description=(
        "Procedure that calls this service's function without credentials (5.5-4): outcome 'rejected' "
        "(HTTP 401/403, an auth prompt) when the device refuses, 'ok' when it answers."))


class SecureBoot(Strict):
    """IXIT 20-SecBoot: secure boot and what happens on an unauthorised change (5.7-1, 5.7-2)."""

    mechanism: str | None = None
    detection: str | None = Field(None, description="How an unauthorised change of the software is detected.")
    alert: str | None = Field(None, description="How the user and/or manufacturer is told (e.g. MQTT topic, app notification).")
    restriction: str | None = Field(None, description="How network access is restricted after a detection.")
    description: str | None = None


class PersonalData(Strict):
    """IXIT 21-PersData: one kind of personal data the device or its services process (5.8, 6-x)."""

    data: str
    sensitive: Flag = False
    purpose: str | None = None
    processed_by: str | None = Field(None, description="Who processes it (manufacturer, cloud provider, ...).")
    transmitted_via: list[str] = Field(default_factory=list, description="11-ComMech ids that carry it.")
    consent: Flag | None = Field(None, description="Processing rests on consent (condition 7, 6-2, 6-3).")
    keywords: list[str] = Field(default_factory=list, description=(
        "Words that name it in the published privacy notice and in captured traffic (default: the data name)."))
    description: str | None = None
    obtaining_consent: str | None = Field(None, description="Obtaining Consent: how and when the user is asked (6-2).")
    consent_default: Literal["opt-in", "opt-out"] | None = Field(None, description=(
        "'opt-in': nothing is processed until the user agrees; 'opt-out': processing runs until the user "
        "objects (not an explicit consent, 6-2 FAIL)."))
    withdrawing_consent: str | None = Field(None, description=(
        "Withdrawing Consent: how the user withdraws it at any time (6-3); 'none' declares there is no way."))


class ExternalSensor(Strict):
    """IXIT 22-ExtSens: one external sensing capability (5.8-3)."""

    name: str
    kind: str | None = Field(None, description="camera, microphone, motion, temperature, location, ...")
    documented_at: Value | None = Field(None, description="Where the user documentation names it (URL).")
    description: str | None = None


class TelemetryItem(Strict):
    """IXIT 24-TelData: one item of telemetry collected (5.10-1, 6-4, 6-5)."""

    data: str
    purpose: str | None = None
    personal: Flag = False
    keywords: list[str] = Field(default_factory=list, description="Words that name it in the published notice.")
    description: str | None = None
    security_examination: str | None = Field(None, description=(
        "Security Examination (5.10-1): how this telemetry is examined for security anomalies."))


IXIT_DOCUMENTS = [
    "1-AuthMech", "2-UserInfo", "3-VulnTypes", "4-Conf", "5-VulnMon", "6-SoftComp", "7-UpdMech",
    "8-UpdProc", "9-ReplSup", "10-SecParam", "11-ComMech", "12-NetSecImpl", "13-SoftServ",
    "14-SecMgmt", "15-Intf", "16-CodeMin", "17-PrivlCtrl", "18-AccCtrl", "19-SecDev", "20-SecBoot",
    "21-PersData", "22-ExtSens", "23-ResMech", "24-TelData", "25-DelFunc", "26-UserDec",
    "27-UserIntf", "28-ExtAPI", "29-InpVal",
]


class Ixit(Strict):
    auth_mech: list[AuthMechanism] = Field(default_factory=list, alias="1-AuthMech")
    user_info: UserInfo = Field(default_factory=UserInfo, alias="2-UserInfo")
    interfaces: list[Interface] = Field(default_factory=list, alias="15-Intf")
    deletion: list[DeletionFunction] = Field(default_factory=list, alias="25-DelFunc")
    security_parameters: list[SecurityParameter] = Field(default_factory=list, alias="10-SecParam")
    communication: list[CommunicationMechanism] = Field(default_factory=list, alias="11-ComMech")
    services: list[SoftwareService] = Field(default_factory=list, alias="13-SoftServ")
    secure_boot: SecureBoot | None = Field(None, alias="20-SecBoot")
    personal_data: list[PersonalData] = Field(default_factory=list, alias="21-PersData")
    sensors: list[ExternalSensor] = Field(default_factory=list, alias="22-ExtSens")
    telemetry: list[TelemetryItem] = Field(default_factory=list, alias="24-TelData")
    # The other documents are kept as given until a check needs their structure.
    other: dict[str, Any] = Field(default_factory=dict)


def _split_ixit(v: Any) -> Any:
    if not isinstance(v, dict):
        return v
    typed = {"1-AuthMech", "2-UserInfo", "10-SecParam", "11-ComMech", "13-SoftServ", "15-Intf", "20-SecBoot",
             "21-PersData", "22-ExtSens", "24-TelData", "25-DelFunc"}
    out = {k: val for k, val in v.items() if k in typed}
    other = {k: val for k, val in v.items() if k not in typed}
    unknown = [k for k in other if k not in IXIT_DOCUMENTS]
    if unknown:
        raise ValueError(f"unknown IXIT document(s) {unknown}; TS 103 701 names them like '7-UpdMech'")
    out["other"] = other
    return out
