"""The maker's cloud: the MQTT broker whose address is fixed in the camera's firmware, played by
the simulator with a real Mosquitto (harness.lab.broker.LabBroker on fixed ports), and each
unit's cloud client (paho-mqtt), which the lab cannot re-point.

Broker: 127.91.255.<block+1>, one Mosquitto with TLS on 8883 (certificate from the maker's cloud CA, published as
cloud-ca/ca.pem) and plaintext on 1883, one account per unit (cam-<serial>, password in the unit's
firmware partition) and an observer account for the lab (secrets.json).

Client: connects from the unit's own address once it has booted, to mqtts://<cloud>:8883 verifying
the broker against the cloud CA (`cloud_plaintext`: mqtt://<cloud>:1883), publishes
`lumacam/<serial>/state` (retained; "offline" as its will) and `lumacam/<serial>/telemetry` every
10 device seconds, and answers `lumacam/<serial>/cmd` ("status") on `lumacam/<serial>/cmd/result`.
paho runs its network loop in its own thread and reconnects by itself; publishing is thread-safe.

Stopping Mosquitto with the simulator: LabBroker ends its processes on stop() and at exit; a
simulator killed hard leaves them behind, so their PIDs and command lines go into <run-dir>/cloud-broker.pids and
the next simulator on that run directory ends those still running with the same command line (a reaper by pidfile:
Popen offers no hook for PR_SET_PDEATHSIG without changing the lab broker's launcher)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import select
import signal
import ssl
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.lab.broker import LabBroker
from harness.lab.ca import LabCA
from harness.sim.camera import model
from harness.sim.unit import Event, Power

if TYPE_CHECKING:
    from paho.mqtt.client import Client, MQTTMessage

    from harness.sim.camera.unit import CameraUnit

PIDFILE = "cloud-broker.pids"
TELEMETRY_PERIOD = 10.0  # device seconds
MIN_PERIOD = 0.5  # real seconds, at small time scales
KEEPALIVE = 30
MAX_TELEMETRY = 1_000_000  # messages per boot; bounded like every loop here


class CloudBroker(LabBroker):
    """One Mosquitto (the lab broker's "tls" instance) on the fixed cloud address with both fixed
    listeners: plaintext 1883 and TLS 8883, so that every client sees every message whichever
    listener it came through. Its log (cloud-broker/tls.log) records both."""

    def __init__(self, workdir: Path, *, ca: LabCA, accounts: dict[str, str], host: str) -> None:
        super().__init__(workdir, ca=ca, accounts=accounts, host=host, kinds=("tls",))

    def _config(self, kind: str, port: int) -> str:
        text = super()._config(kind, model.CLOUD_PORTS["tls"])
        tls = f"listener {model.CLOUD_PORTS['tls']} {self.host}"
        # Settings after a listener line belong to it: the plaintext listener goes first.
        return text.replace(tls, f"listener {model.CLOUD_PORTS['plain']} {self.host}\n{tls}")

    def port(self, kind: str) -> int:
        return model.CLOUD_PORTS["plain" if kind == "plain" else "tls"]

    def url(self, kind: str) -> str:
        return f"{'mqtt' if kind == 'plain' else 'mqtts'}://{self.host}:{self.port(kind)}"


def reap_stale(run_dir: Path) -> None:
    """End the Mosquitto processes a killed simulator left behind on this run directory."""
    path = run_dir / PIDFILE
    try:
        records = json.loads(path.read_text())
    except (OSError, ValueError):
        return
    for record in records[:16] if isinstance(records, list) else []:
        try:
            pid, cmdline = int(record["pid"]), str(record["cmdline"])
            running = Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")
        except (OSError, KeyError, TypeError, ValueError):
            continue
        if running == cmdline:  # the same process, not a reused PID
            _end(pid)
    path.unlink(missing_ok=True)


def _end(pid: int, timeout: float = 5.0) -> None:
    """SIGTERM and wait for the exit (a pidfd turns readable when the process is gone), so that its
    ports are free before the new broker binds them."""
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return
    try:
        os.kill(pid, signal.SIGTERM)
        poller = select.poll()
        poller.register(fd, select.POLLIN)
        if not poller.poll(timeout * 1000):
            os.kill(pid, signal.SIGKILL)
            poller.poll(timeout * 1000)
    except OSError:
        pass
    finally:
        os.close(fd)


def start_broker(run_dir: Path, host: str, accounts: dict[str, str]) -> CloudBroker:
    ca = LabCA.load_or_create(run_dir / "cloud-ca", common_name="Lumatek Cloud Root CA", key_type="ec")
    broker = CloudBroker(run_dir / "cloud-broker", ca=ca, accounts=accounts, host=host)
    broker.start()
    pid = broker.pid("tls")
    records = []
    with contextlib.suppress(OSError):
        if pid is not None:
            records.append({"pid": pid, "cmdline": Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace")})
    (run_dir / PIDFILE).write_text(json.dumps(records) + "\n")
    return broker


def stop_broker(broker: CloudBroker, run_dir: Path) -> None:
    broker.stop()
    (run_dir / PIDFILE).unlink(missing_ok=True)


class CloudClient:
    def __init__(self, unit: CameraUnit, cloud_host: str, ca: Path) -> None:
        self.unit = unit
        self.cloud_host = cloud_host
        self.ca = ca
        self.address = ""
        self.state = "disconnected"
        self.notify = lambda text: None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._client: Client | None = None
        self._telemetry: asyncio.Task[None] | None = None
        self._stopping: list[threading.Thread] = []
        unit.subscribe(self._on_event)

    @property
    def topic(self) -> str:
        return f"lumacam/{self.unit.identity.serial}"

    @property
    def port(self) -> int:
        return model.CLOUD_PORTS["plain" if self.unit.defects.cloud_plaintext else "tls"]

    def start(self, loop: asyncio.AbstractEventLoop, address: str) -> None:
        self._loop = loop
        self.address = address
        if self.unit.power is Power.RUNNING:
            self._connect()

    def status(self) -> str:
        return f"cloud: {self.state} ({self.cloud_host}:{self.port})"

    def reconnect(self) -> None:
        """Drop the cloud connection and open a new one (a new CONNECT)."""
        if self.unit.power is Power.RUNNING:
            self._connect()

    def _on_event(self, event: Event) -> None:
        if event is Event.BOOT_FINISHED:
            self._connect()
        else:
            self._disconnect()

    def _connect(self) -> None:
        if self._loop is None or not self.address:
            return
        self._disconnect()
        from paho.mqtt.client import CallbackAPIVersion, Client

        client = Client(CallbackAPIVersion.VERSION2, client_id=f"lumacam-{self.unit.identity.serial}")
        client.username_pw_set(self.unit.cloud_user, self.unit.cloud_password)
        if not self.unit.defects.cloud_plaintext:
            ctx = ssl.create_default_context(cafile=str(self.ca))
            client.tls_set_context(ctx)
        client.will_set(f"{self.topic}/state", json.dumps({"online": False}), qos=1, retain=True)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.connect_async(self.cloud_host, self.port, keepalive=KEEPALIVE, bind_address=self.address)
        client.loop_start()
        self._client = client
        self._telemetry = self._loop.create_task(self._publish_telemetry(client))

    def _disconnect(self) -> None:
        if self._telemetry is not None:
            self._telemetry.cancel()
            self._telemetry = None
        client, self._client = self._client, None
        if client is not None:
            # loop_stop joins paho's thread: not on the event loop.
            thread = threading.Thread(target=_stop_client, args=(client,), daemon=True)
            thread.start()
            self._stopping = [t for t in self._stopping if t.is_alive()] + [thread]
        self.state = "disconnected"

    async def close(self) -> None:
        self._disconnect()
        for thread in self._stopping:
            await asyncio.to_thread(thread.join, 10.0)

    # -- paho's thread ---------------------------------------------------------------------------
    def _call(self, fn: Any, *args: Any) -> None:
        if self._loop is not None:
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(fn, *args)

    def _on_connect(self, client: Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        if reason.is_failure:
            self._call(self._set_state, client, f"refused ({reason})")
            return
        client.subscribe(f"{self.topic}/cmd", qos=1)
        client.publish(f"{self.topic}/state", json.dumps({"online": True, "firmware": model.FIRMWARE}), qos=1,
                       retain=True)
        self._call(self._set_state, client, "connected")

    def _on_disconnect(self, client: Client, userdata: Any, flags: Any, reason: Any, properties: Any) -> None:
        self._call(self._set_state, client, "disconnected")

    def _on_message(self, client: Client, userdata: Any, message: MQTTMessage) -> None:
        self._call(self._command, client, bytes(message.payload))

    # -- event loop ------------------------------------------------------------------------------
    def _set_state(self, client: Client, state: str) -> None:
        if client is not self._client or state == self.state:
            return
        self.state = state
        self.notify(f"cloudd: {state} {self.cloud_host}:{self.port}")

    def _command(self, client: Client, payload: bytes) -> None:
        if client is not self._client:
            return
        text = payload.decode("utf-8", errors="replace").strip().lower()
        reply: dict[str, Any] = ({"serial": self.unit.identity.serial, "firmware": self.unit.firmware,
                                  "uptime": int(self.unit.uptime())} if text == "status"
                                 else {"error": "unknown command"})
        client.publish(f"{self.topic}/cmd/result", json.dumps(reply), qos=1)

    async def _publish_telemetry(self, client: Client) -> None:
        period = max(MIN_PERIOD, TELEMETRY_PERIOD * self.unit.delays.scale)
        for _ in range(MAX_TELEMETRY):
            await asyncio.sleep(period)  # sleep-ok: device delay (the telemetry period)
            if self.state == "connected":
                client.publish(f"{self.topic}/telemetry", json.dumps(
                    {"uptime": int(self.unit.uptime()), "motion": False, "rssi": -57, "sd_free_mb": 28412,
                     "ssid": self.unit.settings().get("wifi_ssid", "")}))


def _stop_client(client: Client) -> None:
    with contextlib.suppress(Exception):
        client.disconnect()
    with contextlib.suppress(Exception):
        client.loop_stop()
