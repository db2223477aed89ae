"""Personas and defect switches as data: a persona is a baseline `Behaviour`, a defect overrides
exactly one of its fields. Behaviour modules read `Behaviour`, never defect names."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

MANUFACTURER = "SimIoT Ltd"
MODEL = "SimIoT Hub H1"
HARDWARE = "rev B"
FIRMWARE = "1.4.2"
BUILD = "20240611-3f9c2e1"
KERNEL = "5.15.0-simiot"
ADMIN_USER = "admin"
MODEL_DESIGNATION = f"{MODEL} {HARDWARE}"  # what `version` prints on its `model` line
GENERIC_MODEL = "IoT Hub"  # generic_model_name: a designation that names no product
MAX_UNITS = 9  # serial SIM-X-000<n> and MAC ...:3<n> have one digit for the unit


@dataclass(frozen=True)
class Behaviour:
    """Everything a persona or defect can change. One field per observable behaviour."""

    label_scheme: str  # see harness.sim.passwords.SCHEMES
    reset_password: str  # "label" (the unit's own) or "admin"
    reset_wipes_user_data: bool
    accepts_any_password: bool = False
    announces_rejection: bool = True
    applies_password_change: bool = True
    hang_after_logins: int | None = None
    noisy_console: bool = False
    security_txt: str = "valid"  # valid | absent | no_contact | expired
    policy_timelines: bool = True
    support_end_date: bool = True
    # Network services (one front-end module each; see docs/simulator.md for the ports).
    login_lockout: bool = True  # 5 consecutive failures lock every login surface, growing periods
    telnet: bool = False  # legacy telnetd on 2323
    debug_shell: bool = False  # undocumented root shell on 4444, no authentication
    ssh_algorithms: str = "modern"  # modern | legacy (ssh-rsa host key, SHA-1 kex and MACs)
    tls: str = "modern"  # modern (TLS 1.2+, ECDHE+AEAD) | legacy (TLS 1.0+, CBC/RSA-kex, RSA-1024 key)
    status_public: bool = False  # GET /api/status answers without a token (version, build, kernel)
    config_requires_auth: bool = True  # /api/config needs a bearer token
    mqtt_plaintext: bool = False  # mqtt:// allowed and telemetry carries the Wi-Fi PSK and an API token
    mqtt_verifies_broker: bool = True  # mqtts:// checks the broker certificate chain and host name
    # Power, updates and resilience (docs/simulator.md: Power, Firmware updates, Malformed input).
    update_accepts_unsigned: bool = False  # an update without signature is installed
    update_accepts_tampered: bool = False  # an update whose signature or payload digest fails is installed
    update_accepts_rollback: bool = False  # a signed update older than the installed firmware is installed
    config_survives_power_loss: bool = True  # a power cut keeps user data and broker settings
    mqtt_reconnects: bool = True  # after a lost broker connection the client retries (bounded backoff)
    crashes_on_malformed: bool = False  # the console, MQTT command and update parsers crash on malformed input
    model_designation: str = MODEL_DESIGNATION
    # Published material beyond disclosure and support (5.11-3, 5.12-2, 5.12-3, 6-1, 6-5).
    deletion_instructions: bool = True  # the web site explains how to delete personal data
    setup_guide: bool = True  # the web site explains how to set the hub up securely
    setup_check_guide: bool = True  # the web site explains how to check that the set-up is secure
    privacy_notice: str = "complete"  # complete | absent | incomplete (omits a declared data item)
    telemetry_notice: bool = True  # the privacy notice says which telemetry is collected and why
    deletion_confirmation: bool = True  # a factory reset / data deletion confirms it is done
    # Storage, identity, access and integrity (5.4-1, 5.4-2, 5.4-3, 5.5-4, 5.7-2, 5.8-3).
    secrets_at_rest: str = "protected"  # protected | plaintext (the stored configuration holds the PSK in clear)
    firmware_embedded_key: bool = False  # the firmware image carries a private key and a service password
    identity_writable: bool = False  # the per-device identity (serial, device id) can be rewritten
    functions_require_auth: bool = True  # device functions over the network (reboot, scan, logs) need a token
    tamper_response: bool = True  # an unauthorised change of the software is reported and connectivity restricted
    undocumented_sensor: bool = False  # a microphone the documentation does not mention is active
    # Traffic, consent, connection behaviour and update defaults (5.8-1, 5.5-6, 6-2, 6-3, 5.9-3, 5.3-6).
    personal_data_plaintext: bool = False  # the user's name and location leave the hub unencrypted
    telemetry_before_consent: bool = False  # telemetry is sent before the user consented
    telemetry_after_withdrawal: bool = False  # telemetry goes on after consent was withdrawn
    reconnect_storm: bool = False  # after a lost connection the client reconnects without backoff
    auto_update_default: bool = True  # automatic updates are on in the factory state


@dataclass(frozen=True)
class UnitIdentity:
    uid: str  # U1..Un
    index: int  # 1..n
    serial: str
    mac: str


@dataclass(frozen=True)
class Persona:
    name: str
    letter: str  # in the serial number: SIM-<letter>-0001
    summary: str
    behaviour: Behaviour

    def unit(self, index: int) -> UnitIdentity:
        return UnitIdentity(f"U{index}", index, f"SIM-{self.letter}-{index:04d}", f"02:53:49:A1:7C:3{index}")


PERSONAS: dict[str, Persona] = {p.name: p for p in (
    Persona("compliant", "C", "random per-unit label passwords, reset wipes user data, RFC 9116 security.txt, "
            "policy with timelines, support period with an end date",
            Behaviour(label_scheme="random", reset_password="label", reset_wipes_user_data=True)),
    Persona("legacy", "L", "admin/admin on every unit, user data survives reset, no security.txt, "
            "support page without an end date, no login lockout, telnet and an open debug shell, legacy SSH "
            "and TLS, version disclosed and configuration writable without authentication, plaintext MQTT "
            "with secrets in the telemetry (it still verifies the broker's certificate over mqtts://), "
            "unsigned and older updates installed (a modified signed one is still refused), configuration "
            "lost on a power cut",
            Behaviour(label_scheme="admin", reset_password="label", reset_wipes_user_data=False,
                      security_txt="absent", support_end_date=False, login_lockout=False, telnet=True,
                      debug_shell=True, ssh_algorithms="legacy", tls="legacy", status_public=True,
                      config_requires_auth=False, mqtt_plaintext=True, update_accepts_unsigned=True,
                      update_accepts_rollback=True, config_survives_power_loss=False)),
)}


@dataclass(frozen=True)
class Defect:
    name: str
    summary: str
    overrides: dict[str, Any] = field(default_factory=dict)
    value_field: str | None = None  # the field NAME=VALUE sets (an integer >= 1)
    default_value: int | None = None

    def apply(self, behaviour: Behaviour, value: int | None) -> Behaviour:
        changes = dict(self.overrides)
        if self.value_field:
            changes[self.value_field] = value
        return dataclasses.replace(behaviour, **changes)

    @property
    def fields(self) -> set[str]:
        return set(self.overrides) | ({self.value_field} if self.value_field else set())


DEFECTS: dict[str, Defect] = {d.name: d for d in (
    Defect("universal_default_password", "every unit's label password is the same string 'Welcome2SimIoT'",
           {"label_scheme": "universal"}),
    Defect("reset_restores_universal_default", "after a factory reset the password is 'admin'",
           {"reset_password": "admin"}),
    Defect("reset_keeps_user_data", "a factory reset leaves the Wi-Fi credentials in place",
           {"reset_wipes_user_data": False}),
    Defect("sequential_label_passwords", "label passwords simpw-100041, simpw-100042, ... by unit",
           {"label_scheme": "sequential"}),
    Defect("mac_derived_passwords", "label password = last 8 hex digits of the MAC (upper case)",
           {"label_scheme": "mac"}),
    Defect("serial_derived_passwords", "label password = first 10 hex chars of sha256(serial)",
           {"label_scheme": "serial"}),
    Defect("dictionary_label_passwords", "label passwords are common words (sunshine, princess, ...)",
           {"label_scheme": "dictionary"}),
    Defect("low_entropy_passwords", "label passwords are random 4-digit PINs",
           {"label_scheme": "pin"}),
    Defect("accepts_any_password", "any password logs in as admin",
           {"accepts_any_password": True}),
    Defect("silent_rejection", "a wrong password prints no refusal; the login prompt comes back after the delay",
           {"announces_rejection": False}),
    Defect("password_change_ignored", "passwd reports success but the password does not change",
           {"applies_password_change": False}),
    Defect("console_hangs_after_logins", "=N (default 5): after N login attempts the console ignores input "
           "until the simulator restarts or the power is cut", value_field="hang_after_logins", default_value=5),
    Defect("noisy_console", "ANSI colour, mixed line endings, kernel log lines (robustness switch: verdicts "
           "must not change)", {"noisy_console": True}),
    Defect("no_security_txt", "no /.well-known/security.txt (404)", {"security_txt": "absent"}),
    Defect("security_txt_no_contact", "security.txt without a Contact field", {"security_txt": "no_contact"}),
    Defect("security_txt_expired", "security.txt whose Expires is in the past", {"security_txt": "expired"}),
    Defect("policy_no_timelines", "the policy page omits the acknowledgement and status-update timelines",
           {"policy_timelines": False}),
    Defect("support_period_no_end_date", "the support page states no end date", {"support_end_date": False}),
    Defect("no_lockout", "unlimited login attempts: no lockout after repeated failures (any login surface)",
           {"login_lockout": False}),
    Defect("telnet_enabled", "a telnet server on port 2323 with the console's login and shell", {"telnet": True}),
    Defect("debug_shell", "an undocumented root shell on TCP port 4444, no authentication", {"debug_shell": True}),
    Defect("legacy_ssh", "SSH offers an ssh-rsa (RSA-1024) host key, diffie-hellman-group1/14-sha1, CBC "
           "ciphers and hmac-sha1/md5", {"ssh_algorithms": "legacy"}),
    Defect("weak_tls", "the HTTPS API also accepts TLS 1.0/1.1 and CBC/RSA-key-exchange suites, RSA-1024 "
           "certificate", {"tls": "legacy"}),
    Defect("status_discloses_version", "GET /api/status answers without authentication with firmware, serial, "
           "build and kernel", {"status_public": True}),
    Defect("config_without_auth", "/api/config is read and written without a token", {"config_requires_auth": False}),
    Defect("mqtt_plaintext", "MQTT over plain mqtt:// is accepted and the telemetry carries the Wi-Fi PSK and an "
           "API token", {"mqtt_plaintext": True}),
    Defect("accepts_rogue_broker", "mqtts:// without certificate or host-name verification",
           {"mqtt_verifies_broker": False}),
    Defect("accepts_unsigned", "an update package without a signature is installed",
           {"update_accepts_unsigned": True}),
    Defect("accepts_tampered", "an update package whose signature (or payload digest) does not verify is installed: "
           "a modified payload, a foreign key, a re-labelled version", {"update_accepts_tampered": True}),
    Defect("accepts_rollback", "a correctly signed update package older than the installed firmware is installed",
           {"update_accepts_rollback": True}),
    Defect("loses_config_on_power_loss", "a power cut erases the user data (Wi-Fi) and the MQTT broker settings "
           "(a clean reboot keeps them)", {"config_survives_power_loss": False}),
    Defect("no_reconnect_after_outage", "the MQTT client gives up when its broker connection is lost, until the "
           "next boot", {"mqtt_reconnects": False}),
    Defect("crashes_on_malformed", "a console line over 1024 bytes, with '%n' or invalid UTF-8, an MQTT command "
           "payload over 1024 bytes or not UTF-8, or a malformed update package hangs the unit until a power "
           "cycle", {"crashes_on_malformed": True}),
    Defect("generic_model_name", f"`version` prints 'model {GENERIC_MODEL}' instead of the product's model",
           {"model_designation": GENERIC_MODEL}),
    Defect("no_deletion_instructions", "the web site has no page explaining how to delete personal data",
           {"deletion_instructions": False}),
    Defect("no_setup_guide", "the web site has no secure set-up guide", {"setup_guide": False}),
    Defect("no_setup_check_guide", "the web site does not explain how to check that the set-up is secure",
           {"setup_check_guide": False}),
    Defect("no_privacy_notice", "no privacy notice is published", {"privacy_notice": "absent"}),
    Defect("privacy_notice_incomplete", "the privacy notice omits the location the hub processes",
           {"privacy_notice": "incomplete"}),
    Defect("silent_deletion", "a data deletion or factory reset completes without any confirmation",
           {"deletion_confirmation": False}),
    Defect("no_telemetry_notice", "the privacy notice does not say which telemetry is collected or why",
           {"telemetry_notice": False}),
    Defect("plaintext_secrets_at_rest", "the stored configuration keeps the Wi-Fi PSK and the API token in clear",
           {"secrets_at_rest": "plaintext"}),
    Defect("hardcoded_key_in_firmware", "the firmware image carries a private key and a fixed service password",
           {"firmware_embedded_key": True}),
    Defect("identity_writable", "the per-device identity can be rewritten through the console and the API",
           {"identity_writable": True}),
    Defect("unauthenticated_functions", "device functions (reboot, Wi-Fi scan, log download) answer without a "
           "token", {"functions_require_auth": False}),
    Defect("no_tamper_response", "an unauthorised software change is neither reported nor restricts "
           "connectivity", {"tamper_response": False}),
    Defect("undocumented_microphone", "an active microphone the documentation does not mention",
           {"undocumented_sensor": True}),
    Defect("personal_data_plaintext", "the user's name and location are sent unencrypted",
           {"personal_data_plaintext": True}),
    Defect("telemetry_before_consent", "telemetry is sent before the user consented",
           {"telemetry_before_consent": True}),
    Defect("telemetry_after_withdrawal", "telemetry goes on after the user withdrew consent",
           {"telemetry_after_withdrawal": True}),
    Defect("reconnect_storm", "after a lost connection the client reconnects as fast as it can, without backoff",
           {"reconnect_storm": True}),
    Defect("auto_update_off_by_default", "automatic updates are off in the factory state",
           {"auto_update_default": False}),
)}


class CatalogError(ValueError):
    """A persona or defect switch the simulator cannot honour (exit status 2)."""


def parse_defects(items: list[str]) -> dict[str, int | None]:
    """`NAME` or `NAME=VALUE` items -> {name: effective value (None for plain switches)}."""
    out: dict[str, int | None] = {}
    owner: dict[str, str] = {}
    for item in items:
        name, sep, raw = item.partition("=")
        defect = DEFECTS.get(name)
        if defect is None:
            raise CatalogError(f"unknown defect {name!r}; known: {', '.join(DEFECTS)} (see --list-defects)")
        if defect.value_field is None:
            if sep:
                raise CatalogError(f"defect {name!r} takes no value (got {item!r})")
            value = None
        elif not sep:
            value = defect.default_value
        else:
            try:
                value = int(raw)
            except ValueError:
                raise CatalogError(f"defect {name!r} needs an integer value, got {raw!r}") from None
            if value < 1:
                raise CatalogError(f"defect {name!r} needs a value >= 1, got {value}")
        for f in defect.fields:
            if owner.get(f, name) != name:
                raise CatalogError(f"defects {owner[f]!r} and {name!r} both change {f!r}; give one of them")
            owner[f] = name
        out[name] = value
    return out


def behaviour_for(persona: str, defects: dict[str, int | None]) -> Behaviour:
    if persona not in PERSONAS:
        raise CatalogError(f"unknown persona {persona!r}; known: {', '.join(PERSONAS)}")
    behaviour = PERSONAS[persona].behaviour
    for name, value in defects.items():
        behaviour = DEFECTS[name].apply(behaviour, value)
    return behaviour
