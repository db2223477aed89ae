"""A unit's privacy and update settings, as the companion app sets them over MQTT commands:
the user's consent to usage analytics, the owner profile (name and location) and automatic updates.

Consent-based data (usage statistics and the owner profile) is published on
`simiot/<serial>/usage` only while the user's consent stands. A factory reset restores the
factory settings: consent not given, no owner profile, automatic updates as the persona ships
them. The settings partition is always restored by a reset, even on firmware that keeps other
user data (`reset_wipes_user_data` false), so these settings behave the same on both personas.

Behaviour switches: `telemetry_before_consent` publishes usage before any consent was given,
`telemetry_after_withdrawal` keeps publishing after a withdrawal, `auto_update_default` false
ships automatic updates off, `personal_data_plaintext` uploads the owner profile to the cloud
endpoint in clear (an HTTP POST without TLS to the broker's host and port) besides the TLS
publication."""

from __future__ import annotations

import json
import socket
from typing import Any

from harness.sim.unit import Event, Unit

KEY = "privacy"  # in the unit's user data
MAX_FIELD = 64  # characters kept of an owner name or location
UPLOAD_TIMEOUT = 2.0  # real seconds for the plaintext upload (a network timeout)


class PrivacySettings:
    def __init__(self, unit: Unit) -> None:
        self.unit = unit
        unit.subscribe(self._on_event)

    # -- stored state ---------------------------------------------------------------------------
    def _state(self) -> dict[str, Any]:
        stored = self.unit.state.user_data.get(KEY)
        if not isinstance(stored, dict):
            stored = self._factory()
            self.unit.state.user_data[KEY] = stored
        return stored

    def _factory(self) -> dict[str, Any]:
        return {"consent": "not given", "owner": "", "location": "",
                "auto_update": bool(self.unit.behaviour.auto_update_default)}

    def _write(self, **changes: Any) -> None:
        self._state().update(changes)
        self.unit.save()  # the unit's flash: settings survive a reboot and a power cut

    def _on_event(self, event: Event) -> None:
        if event is Event.RESETTING:
            self.unit.state.user_data[KEY] = self._factory()

    # -- what the firmware does with them -------------------------------------------------------------
    def usage_allowed(self) -> bool:
        consent = self._state()["consent"]
        b = self.unit.behaviour
        if consent == "given":
            return True
        if consent == "withdrawn":
            return b.telemetry_after_withdrawal
        return b.telemetry_before_consent

    def usage(self) -> dict[str, Any]:
        """The consent-based message: usage statistics and, once set, the owner profile."""
        state = self._state()
        data: dict[str, Any] = {"usage": {"active_minutes": int(self.unit.uptime() // 60), "scenes_run": 3}}
        if state["owner"]:
            data["owner"] = state["owner"]
        if state["location"]:
            data["location"] = state["location"]
        return data

    def profile_upload(self) -> bytes | None:
        """The plaintext HTTP request of `personal_data_plaintext` (None when there is nothing to send)."""
        state = self._state()
        if not self.unit.behaviour.personal_data_plaintext or not (state["owner"] or state["location"]):
            return None
        body = json.dumps({"serial": self.unit.identity.serial, "owner": state["owner"],
                           "location": state["location"]}).encode()
        head = (f"POST /v1/owner-profile HTTP/1.1\r\nHost: cloud\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n").encode()
        return head + body

    def auto_update(self) -> bool:
        return bool(self._state()["auto_update"])

    # -- MQTT commands ----------------------------------------------------------------------------------
    def consent_command(self, payload: str) -> dict[str, Any]:
        value = payload.strip().lower()
        if value in ("1", "on", "given", "grant"):
            self._write(consent="given")
        elif value in ("0", "off", "withdraw", "withdrawn"):
            if self._state()["consent"] == "given":
                self._write(consent="withdrawn")
        elif value:
            return {"Consent": "1 to consent to usage analytics, 0 to withdraw"}
        return {"Consent": self._state()["consent"]}

    def owner_command(self, payload: str) -> dict[str, Any]:
        try:
            data = json.loads(payload) if payload.strip() else {}
        except ValueError:
            return {"Owner": "error: JSON object with name and location expected"}
        if not isinstance(data, dict):
            return {"Owner": "error: JSON object with name and location expected"}
        if not data:
            state = self._state()
            return {"Owner": {"name": state["owner"], "location": state["location"]}}
        self._write(owner=str(data.get("name", ""))[:MAX_FIELD], location=str(data.get("location", ""))[:MAX_FIELD])
        return {"Owner": "saved"}

    def auto_update_command(self, payload: str) -> dict[str, Any]:
        value = payload.strip().lower()
        if value in ("1", "on"):
            self._write(auto_update=True)
        elif value in ("0", "off"):
            self._write(auto_update=False)
        elif value:
            return {"AutoUpdate": "on or off"}
        return {"AutoUpdate": "on" if self.auto_update() else "off"}


def upload_plaintext(request: bytes, host: str, port: int, source: str) -> None:
    """Send one request in clear and read whatever comes back until the peer closes (bounded)."""
    try:
        with socket.create_connection((host, port), timeout=UPLOAD_TIMEOUT,
                                      source_address=(source, 0) if source else None) as sock:
            sock.sendall(request)
            for _ in range(16):
                if not sock.recv(4096):
                    break
    except OSError:
        pass  # the firmware does not retry a failed upload
