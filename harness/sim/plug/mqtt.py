"""The plug's MQTT client: to the vendor cloud broker fixed in firmware, from the unit's own address,
with its per-unit device account. TLS on 8883 verifying the cloud's certificate (the defect
mqtt_plaintext_creds: plain 1883, user name and password in clear). Publishes `tele/<topic>/LWT`
(Online, retained) and `tele/<topic>/STATE`, answers `cmnd/<topic>/<Command>` on
`stat/<topic>/RESULT`. Runs while the unit runs (a thread per boot), reconnecting with a bounded
backoff."""

from __future__ import annotations

import json
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from harness.sim.plug.unit import Event, PlugUnit

KEEPALIVE = 30
CONNECT_TIMEOUT = 5.0
TELEMETRY_PERIOD = 10.0  # seconds at --time-scale 1
MIN_PERIOD = 0.5  # at --time-scale 0 the plug still publishes, twice a second
RETRY_FIRST, RETRY_MAX, MAX_ATTEMPTS = 1.0, 30.0, 200


@dataclass(frozen=True)
class CloudEndpoint:
    host: str
    tls_port: int
    plain_port: int
    ca: Path


class PlugMqtt:
    def __init__(self, unit: PlugUnit, cloud: CloudEndpoint, password: str, bind_address: str) -> None:
        self.unit = unit
        self.cloud = cloud
        self.password = password
        self.bind_address = bind_address
        self.state = "stopped"
        self._worker: _Worker | None = None
        self._stopped: list[_Worker] = []  # joined at close(), each ends within one wait
        unit.subscribe(self._on_event)

    @property
    def user(self) -> str:
        return self.unit.firmware.mqtt_user

    def _on_event(self, event: Event) -> None:
        if event is Event.BOOT_FINISHED:
            self.start()
        else:
            self.stop()

    def start(self) -> None:
        self.stop()
        self._worker = _Worker(self)
        self._worker.start()

    def stop(self) -> None:
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.halt()
            self._stopped = [w for w in self._stopped if w.is_alive()] + [worker]

    def close(self) -> None:
        self.stop()
        for worker in self._stopped:
            worker.join(CONNECT_TIMEOUT + 1)


class _Worker(threading.Thread):
    def __init__(self, owner: PlugMqtt) -> None:
        super().__init__(name=f"plug-mqtt-{owner.unit.ident.uid}", daemon=True)
        self.owner = owner
        self.stopping = threading.Event()
        self._connected = threading.Event()  # also set when the session ends: it wakes the CONNACK wait
        self._ended = threading.Event()
        self._accepted = False

    def halt(self) -> None:
        self.stopping.set()
        self._connected.set()  # ends a wait for the CONNACK

    def run(self) -> None:
        delay = RETRY_FIRST
        scale = max(self.owner.unit.delays.scale, 0.05)
        for _ in range(MAX_ATTEMPTS):
            if self.stopping.is_set():
                return
            if self._session():
                delay = RETRY_FIRST
            self.stopping.wait(delay * scale)  # device delay, ends early on stop
            delay = min(delay * 2, RETRY_MAX)

    def _client(self) -> Any:
        from paho.mqtt.client import CallbackAPIVersion, Client, MQTTv311

        owner = self.owner
        client = Client(CallbackAPIVersion.VERSION2, client_id=owner.unit.firmware.topic, protocol=MQTTv311,
                        reconnect_on_failure=False)
        client.connect_timeout = CONNECT_TIMEOUT
        client.username_pw_set(owner.user, owner.password)
        topic = owner.unit.firmware.topic
        client.will_set(f"tele/{topic}/LWT", "Offline", retain=True)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        if owner.unit.firmware.behaviour.mqtt_tls:
            ctx = ssl.create_default_context(cafile=str(owner.cloud.ca))  # the vendor's CA only
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            client.tls_set_context(ctx)
        return client

    def _session(self) -> bool:
        owner = self.owner
        self._connected.clear()
        self._ended.clear()
        self._accepted = False
        try:
            client = self._client()
            port = owner.cloud.tls_port if owner.unit.firmware.behaviour.mqtt_tls else owner.cloud.plain_port
            client.connect(owner.cloud.host, port, keepalive=KEEPALIVE, bind_address=owner.bind_address)
        except (OSError, ssl.SSLError, ValueError) as exc:
            owner.state = f"connection failed: {exc}"
            return False
        client.loop_start()
        try:
            return self._serve(client)
        finally:
            client.disconnect()
            client.loop_stop()

    def _serve(self, client: Any) -> bool:
        owner = self.owner
        topic = owner.unit.firmware.topic
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while not self._connected.is_set():
            if self.stopping.is_set() or self._ended.is_set() or time.monotonic() >= deadline:
                owner.state = "no CONNACK" if not self._ended.is_set() else owner.state
                return False
            self._connected.wait(deadline - time.monotonic())
        if not self._accepted:
            return False
        period = max(TELEMETRY_PERIOD * owner.unit.delays.scale, MIN_PERIOD)
        while not self.stopping.is_set() and not self._ended.is_set():
            client.publish(f"tele/{topic}/STATE", json.dumps(owner.unit.firmware.telemetry()))
            self.stopping.wait(period)
        return True

    # -- paho callbacks (paho's thread) ----------------------------------------------------------
    def _on_connect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        topic = self.owner.unit.firmware.topic
        if reason.is_failure:
            self.owner.state = f"refused: {reason}"
            self._ended.set()
            return
        client.publish(f"tele/{topic}/LWT", "Online", retain=True)
        client.subscribe(f"cmnd/{topic}/#")
        self.owner.state = "connected"
        self._accepted = True
        self._connected.set()

    def _on_disconnect(self, client: Any, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if self._accepted:
            self.owner.state = "connection lost"
        self._ended.set()
        self._connected.set()

    def _on_message(self, client: Any, userdata: Any, message: Any) -> None:
        command = message.topic.rsplit("/", 1)[-1]
        payload = bytes(message.payload).decode("utf-8", errors="replace")[:256]
        answer = self.owner.unit.firmware.execute(f"{command} {payload}".strip())
        client.publish(f"stat/{self.owner.unit.firmware.topic}/RESULT", answer.text)
        if answer.action is not None:
            self.owner.unit.request(answer.action)
