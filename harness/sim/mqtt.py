"""A unit's MQTT client (paho-mqtt 2): provisioned from the shell (`mqtt connect <url> [<user>
<password>]`), it publishes telemetry to `simiot/<serial>/telemetry` and answers commands on
`simiot/<serial>/cmnd/<Command>` with `simiot/<serial>/stat/RESULT`.

Compliant firmware speaks mqtts:// only, trusts only the lab CA (`--trust-ca`) and checks the
broker's host name; `mqtt_plaintext` also allows mqtt:// and puts the Wi-Fi PSK and an API token in
the telemetry; `mqtt_verifies_broker` false accepts any certificate. Connection outcomes are shown
on the serial console as the firmware's log lines (`mqtt: connected`, `mqtt: tls error: ...`,
`mqtt: refused <code> <reason>`), once per change. A lost connection is retried with a bounded,
scaled backoff (1, 2, 4 … 60 device seconds); with `reconnect_storm` it retries every 50 ms
instead, and with `mqtt_reconnects` off the client gives up until the next boot.
`cmnd/Upgrade <url>` has the unit's updater fetch and install a package. `cmnd/Consent`,
`cmnd/Owner` and `cmnd/AutoUpdate` are the companion app's privacy and update settings
(harness.sim.privacy); consent-based data goes to `simiot/<serial>/usage` while consent stands.

Threads: the network runs in paho's own thread (loop_start), connection attempts, telemetry timing
and command replies in one worker thread per connection; everything that touches the unit runs on
the simulator's event loop (`_on_loop`). The worker is stopped when the unit goes down and a new
one starts when it has booted, as the firmware's client would."""

from __future__ import annotations

import asyncio
import inspect
import json
import math
import queue
import ssl
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.sim.catalog import MODEL
from harness.sim.inputcheck import payload_problem
from harness.sim.privacy import PrivacySettings, upload_plaintext
from harness.sim.timing import log_delay
from harness.sim.unit import Event, Power, Unit

if TYPE_CHECKING:
    from paho.mqtt.client import Client, ConnectFlags, DisconnectFlags, MQTTMessage
    from paho.mqtt.properties import Properties
    from paho.mqtt.reasoncodes import ReasonCode

TELEMETRY_PERIOD = 5.0  # device seconds between telemetry messages
MIN_PERIOD = 0.25  # real seconds: the floor at small time scales (no busy publishing at scale 0)
RETRY_FIRST, RETRY_MAX = 1.0, 60.0  # device seconds between connection attempts, doubling
RETRY_FLOOR = 0.5  # real seconds, for the first retry; it doubles with the delay up to RETRY_FLOOR_MAX,
RETRY_FLOOR_MAX = 2.0  # so that the backoff stays visible at small time scales
STORM_GAP = 0.05  # real seconds between attempts with `reconnect_storm`: as fast as the firmware can
MAX_ATTEMPTS = 10_000  # connection attempts per provisioning and boot before the client gives up
CONNECT_TIMEOUT = 5.0  # real seconds for TCP + TLS, and again for the CONNACK
KEEPALIVE = 30
LOOP_TIMEOUT = 5.0
MAX_COMMANDS = 64  # queued, unanswered commands beyond this are dropped
UPGRADE_TIMEOUT = 30.0  # real seconds a worker waits for an Upgrade's fetch and decision
DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}
UPLOAD_REPEATS = 3  # personal_data_plaintext: the firmware retries its owner-profile upload on the next ticks


@dataclass(frozen=True)
class Broker:
    url: str
    scheme: str
    host: str
    port: int

    @property
    def tls(self) -> bool:
        return self.scheme == "mqtts"


def parse_url(url: str) -> Broker:
    """mqtt://host[:port] or mqtts://host[:port]; ValueError with the console's wording."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise ValueError(f"bad broker url {url!r}") from None
    if parts.scheme not in DEFAULT_PORTS or not parts.hostname or parts.path not in ("", "/"):
        raise ValueError(f"bad broker url {url!r}: use mqtts://host[:port]")
    return Broker(url, parts.scheme, parts.hostname, port or DEFAULT_PORTS[parts.scheme])


class MqttClient:
    def __init__(self, unit: Unit, trust_ca: Path) -> None:
        self.unit = unit
        self.trust_ca = trust_ca
        self.address = ""  # source address: the unit's own, once the network has it
        self.notify: Callable[[str], None] = lambda text: None  # the serial console's log lines
        self._loop: asyncio.AbstractEventLoop | None = None
        self._worker: _Worker | None = None
        self._retired: list[_Worker] = []
        unit.subscribe(self._on_event)
        self.privacy = PrivacySettings(unit)

    @property
    def topic(self) -> str:
        return f"simiot/{self.unit.identity.serial}"

    def start(self, loop: asyncio.AbstractEventLoop, address: str) -> None:
        self._loop = loop
        self.address = address

    def scaled(self, seconds: float, floor: float) -> float:
        return max(floor, seconds * self.unit.delays.scale)

    # -- shell ------------------------------------------------------------------------------------
    def connect_command(self, url: str, user: str = "", password: str = "") -> str:
        try:
            broker = parse_url(url)
        except ValueError as exc:
            return f"mqtt: {exc}"
        if not broker.tls and not self.unit.behaviour.mqtt_plaintext:
            return "mqtt: plaintext mqtt:// is disabled on this firmware, use mqtts://"
        self.unit.set_mqtt({"url": url, "user": user, "password": password})
        self._restart()
        return "mqtt: connecting"

    def disconnect_command(self) -> str:
        self.unit.set_mqtt(None)
        self._stop()
        return "mqtt: disconnected"

    def status(self) -> str:
        settings = self.unit.mqtt_settings()
        if not settings.get("url"):
            return "mqtt: not configured"
        state = self._worker.state if self._worker is not None else "stopped"
        user = f", user {settings['user']}" if settings.get("user") else ""
        return f"mqtt: {state} ({settings['url']}{user})"

    # -- lifecycle --------------------------------------------------------------------------------
    def _on_event(self, event: Event) -> None:
        if event is Event.BOOT_FINISHED:
            self._restart()  # reconnects if the unit still has a broker after the boot
        else:
            self._stop()  # the unit went down: so does its client

    def _restart(self) -> None:
        self._stop()
        settings = self.unit.mqtt_settings()
        if not settings.get("url") or self._loop is None or self.unit.power is not Power.RUNNING:
            return
        try:
            broker = parse_url(settings["url"])
        except ValueError:
            return
        self._worker = _Worker(self, broker, settings.get("user", ""), settings.get("password", ""))
        self._worker.start()

    def _stop(self) -> None:
        if self._worker is not None:
            self._worker.stop()
            self._retired.append(self._worker)
            self._worker = None
        self._retired = [w for w in self._retired if w.is_alive()]

    async def close(self) -> None:
        self._stop()
        for worker in self._retired:
            await asyncio.to_thread(worker.join, CONNECT_TIMEOUT * 2 + UPGRADE_TIMEOUT)

    # -- called by a worker, on the event loop -----------------------------------------------------
    def _notice(self, worker: _Worker, text: str) -> None:
        if worker is self._worker and not worker.stopping.is_set():
            self.notify(text)

    def _telemetry(self) -> dict[str, Any]:
        unit = self.unit
        uptime = unit.uptime()
        data: dict[str, Any] = {"serial": unit.identity.serial, "model": MODEL, "firmware": unit.firmware,
                                "uptime": int(uptime), "temperature": round(21.5 + 0.4 * math.sin(uptime / 60), 1),
                                "rssi": -52}
        if unit.behaviour.mqtt_plaintext:  # the legacy firmware's "diagnostics" block
            ssid, psk = unit.wifi()
            data.update({"wifi_ssid": ssid, "wifi_psk": psk, "api_token": unit.app_token()})
        return data

    def _command(self, name: str, raw: bytes) -> Any:
        """The reply to one command (a dict, or an awaitable of one), None for no reply at all."""
        unit, loop = self.unit, asyncio.get_running_loop()
        problem = payload_problem(raw)
        if problem is not None:
            if unit.behaviour.crashes_on_malformed:
                unit.crash(f"MQTT command parser crashed on a malformed payload ({len(raw)} bytes)")
                return None
            return {"Command": "Error", "Error": problem}
        payload = raw.decode("utf-8")
        cmd = name.lower()
        if cmd == "status":
            return {"Status": {"Serial": unit.identity.serial, "Model": MODEL, "Firmware": unit.firmware,
                               "Uptime": int(unit.uptime())}}
        if cmd == "version":
            return {"Version": unit.firmware}
        if cmd == "upgrade":
            return self._upgrade(payload.strip())
        if cmd == "consent":
            return self.privacy.consent_command(payload)
        if cmd == "owner":
            return self.privacy.owner_command(payload)
        if cmd == "autoupdate":
            return self.privacy.auto_update_command(payload)
        if cmd == "reset":
            if payload.strip() != "1":
                return {"Reset": "1 to reset"}
            loop.call_soon(unit.factory_reset)  # after the reply has been handed to the client
            return {"Reset": "Reset and Restarting"}
        if cmd == "restart":
            if payload.strip() != "1":
                return {"Restart": "1 to restart"}
            loop.call_soon(unit.reboot)
            return {"Restart": "Restarting"}
        return {"Command": "Unknown"}

    async def _upgrade(self, url: str) -> dict[str, Any] | None:
        if self.unit.updater is None:
            return {"Command": "Unknown"}
        if not url:
            return {"Upgrade": "usage: the payload is the package URL"}
        result = await self.unit.updater.from_url(url)
        return None if result.outcome == "crashed" else {"Upgrade": result.text}


class _Worker(threading.Thread):
    def __init__(self, owner: MqttClient, broker: Broker, user: str, password: str) -> None:
        super().__init__(name=f"sim-mqtt-{owner.unit.identity.uid}", daemon=True)
        self.owner = owner
        self.broker = broker
        self.user = user
        self.password = password
        self.state = "connecting"  # read by `mqtt status` (a str assignment is atomic)
        self.stopping = threading.Event()
        self._wake = threading.Event()
        self._commands: queue.Queue[tuple[str, bytes]] = queue.Queue(MAX_COMMANDS)
        self._connected = False
        self._ended = False
        self._last_notice = ""

    def stop(self) -> None:
        self.stopping.set()
        self._wake.set()

    def _on_loop(self, fn: Callable[..., Any], *args: Any, timeout: float = LOOP_TIMEOUT) -> Any:
        loop = self.owner._loop
        assert loop is not None

        async def call() -> Any:
            result = fn(*args)
            return await result if inspect.isawaitable(result) else result
        try:
            return asyncio.run_coroutine_threadsafe(call(), loop).result(timeout)
        except (RuntimeError, TimeoutError, asyncio.CancelledError):
            return None  # the simulator is stopping

    def _report(self, state: str) -> None:
        self.state = state
        text = f"mqtt: {state}"
        if text == self._last_notice or self.stopping.is_set():
            return  # a retry that fails the same way is not news
        self._last_notice = text
        loop = self.owner._loop
        try:
            if loop is not None:
                loop.call_soon_threadsafe(self.owner._notice, self, text)
        except RuntimeError:
            pass  # the loop is closed: nobody to tell

    def run(self) -> None:
        delay = RETRY_FIRST
        for _ in range(MAX_ATTEMPTS):
            if self.stopping.is_set():
                return
            if self._session():
                if not self.owner.unit.behaviour.mqtt_reconnects:
                    return  # the defect: "connection lost" stays the state until the next boot
                delay = RETRY_FIRST  # it was connected: start the backoff over
            if self.stopping.is_set():
                return
            started = time.time()
            self.stopping.wait(self._retry_wait(delay))  # device delay, ends early on stop
            log_delay(started, time.time() - started)
            delay = min(delay * 2, RETRY_MAX)
        self._report("gave up")

    def _retry_wait(self, delay: float) -> float:
        if self.owner.unit.behaviour.reconnect_storm:
            return STORM_GAP  # the defect: no backoff at all
        floor = min(RETRY_FLOOR * delay / RETRY_FIRST, RETRY_FLOOR_MAX)
        return self.owner.scaled(delay, floor)

    # -- one connection ----------------------------------------------------------------------------
    def _tls_context(self) -> ssl.SSLContext:
        if self.owner.unit.behaviour.mqtt_verifies_broker:
            ctx = ssl.create_default_context(cafile=str(self.owner.trust_ca))  # the lab CA only
            ctx.minimum_version = ssl.TLSVersion.TLSv1_2
            return ctx
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx

    def _client(self) -> Client:
        # Imported here: only units that use MQTT pay for the import (start-up time of ~20 simulators).
        from paho.mqtt.client import CallbackAPIVersion, Client, MQTTv311

        client = Client(CallbackAPIVersion.VERSION2, client_id=f"simiot-{self.owner.unit.identity.serial}",
                        protocol=MQTTv311, reconnect_on_failure=False)
        client.connect_timeout = CONNECT_TIMEOUT
        if self.user:
            client.username_pw_set(self.user, self.password or None)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        return client

    def _session(self) -> bool:
        """Connect, then publish and answer until the connection ends or the worker is stopped.
        Returns whether the broker accepted the connection."""
        self._connected = self._ended = False
        client = self._client()
        if self.broker.tls:
            try:
                client.tls_set_context(self._tls_context())
            except (OSError, ssl.SSLError) as exc:
                self._report(f"tls error: cannot load the trust anchor ({exc})")
                return False
            if not self.owner.unit.behaviour.mqtt_verifies_broker:
                client.tls_insecure_set(True)
        try:
            client.connect(self.broker.host, self.broker.port, keepalive=KEEPALIVE, bind_address=self.owner.address)
        except ssl.SSLCertVerificationError as exc:
            self._report(f"tls error: certificate verify failed: {exc.verify_message}")
            return False
        except ssl.SSLError as exc:
            self._report(f"tls error: {exc.reason or exc}")
            return False
        except OSError as exc:
            self._report(f"connection failed: {exc.strerror or exc}")
            return False
        client.loop_start()
        try:
            self._serve(client)
        finally:
            client.disconnect()
            client.loop_stop()
        return self._connected

    def _usage(self) -> tuple[dict[str, Any] | None, bytes | None]:
        privacy = self.owner.privacy
        if not privacy.usage_allowed():
            return None, None
        return privacy.usage(), privacy.profile_upload()

    def _publish_usage(self, client: Client, upload: bool) -> bool:
        """Publish the consent-based message if allowed; True when the owner profile was uploaded."""
        got = self._on_loop(self._usage)
        if got is None:
            return False
        usage, plaintext = got
        if usage is not None:
            client.publish(f"{self.owner.topic}/usage", json.dumps(usage))
        if plaintext is None or not upload:
            return False
        upload_plaintext(plaintext, self.broker.host, self.broker.port, self.owner.address)
        return True

    def _serve(self, client: Client) -> None:
        connack_by = time.monotonic() + CONNECT_TIMEOUT  # CONNACK and SUBACK
        next_telemetry = 0.0
        uploads = UPLOAD_REPEATS  # the owner profile goes to the cloud after connecting and after a change
        period = self.owner.scaled(TELEMETRY_PERIOD, MIN_PERIOD)
        # Lasts as long as the connection: bounded by the broker, the unit's lifecycle and the stop.
        while not self.stopping.is_set() and not self._ended:
            now = time.monotonic()
            if not self._connected:
                if now >= connack_by:
                    self._report("no answer from the broker (CONNACK/SUBACK)")
                    return
                wait = connack_by - now
            else:
                if self._answer_commands(client):
                    uploads = UPLOAD_REPEATS
                if now >= next_telemetry:
                    payload = self._on_loop(self.owner._telemetry)
                    if payload is not None:
                        client.publish(f"{self.owner.topic}/telemetry", json.dumps(payload))
                    if self._publish_usage(client, upload=uploads > 0):
                        uploads -= 1
                    next_telemetry = now + period
                wait = max(0.0, next_telemetry - time.monotonic())
            self._wake.wait(wait)  # a connection event, a command or the stop wakes it earlier
            self._wake.clear()

    def _answer_commands(self, client: Client) -> bool:
        """Answer the queued commands; True when the owner profile was among them."""
        owner_changed = False
        for _ in range(MAX_COMMANDS):
            try:
                name, payload = self._commands.get_nowait()
            except queue.Empty:
                break
            owner_changed = owner_changed or name.lower() == "owner"
            reply = self._on_loop(self.owner._command, name, payload, timeout=UPGRADE_TIMEOUT)
            if reply is not None:
                client.publish(f"{self.owner.topic}/stat/RESULT", json.dumps(reply))
        return owner_changed

    # -- paho callbacks (paho's thread) -------------------------------------------------------------
    def _on_connect(self, client: Client, userdata: Any, flags: ConnectFlags, reason: ReasonCode,
                    properties: Properties | None) -> None:
        if reason.is_failure:
            self._report(f"refused {reason.value} {reason}")
            self._ended = True
            self._wake.set()
        else:
            client.subscribe(f"{self.owner.topic}/cmnd/+")

    def _on_subscribe(self, client: Client, userdata: Any, mid: int, reasons: list[ReasonCode],
                      properties: Properties | None) -> None:
        # "connected" once commands can reach the unit: whoever reads the console line may send one.
        self._connected = True
        refused = all(r.is_failure for r in reasons)
        self._report("connected (commands not allowed by the broker)" if refused else "connected")
        self._wake.set()

    def _on_disconnect(self, client: Client, userdata: Any, flags: DisconnectFlags, reason: ReasonCode,
                       properties: Properties | None) -> None:
        if self._connected and not self.stopping.is_set():
            self._report("connection lost")
        self._ended = True
        self._wake.set()

    def _on_message(self, client: Client, userdata: Any, message: MQTTMessage) -> None:
        command = message.topic.rsplit("/", 1)[-1]
        try:
            self._commands.put_nowait((command, bytes(message.payload)))
        except queue.Full:
            return  # a flood of commands: the firmware drops what it cannot queue
        self._wake.set()
