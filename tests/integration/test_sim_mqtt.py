"""The units' MQTT client against a real Mosquitto started here: TLS with CA and host-name checks
(compliant) vs plaintext with secrets in the telemetry, the rogue broker refused vs accepted,
commands, and the client following the unit's lifecycle."""

from __future__ import annotations

import base64
import getpass
import hashlib
import json
import os
import queue
import re
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from test_sim_network import api
from test_sim_support import PROMPT, SimProcess

from harness.sim.certs import SimCA

pytestmark = pytest.mark.integration
MOSQUITTO = "/usr/sbin/mosquitto"
USER, PASSWORD = "lab", "lab-broker-pass"
TIMEOUT = 5.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    """A broker with a plaintext listener, a TLS listener whose certificate (DNS localhost only)
    the lab CA signed, and a rogue TLS listener with the same name signed by another CA."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        lab, rogue = SimCA(), SimCA()
        self.ca = directory / "lab-ca.pem"
        self.ca.write_bytes(lab.ca_pem)
        files = {}
        for name, ca in (("broker", lab), ("rogue", rogue)):
            certs = ca.issue(["localhost"])
            files[name] = (directory / f"{name}.pem", directory / f"{name}.key")
            files[name][0].write_bytes(certs.cert_pem)
            files[name][1].write_bytes(certs.key_pem)
            files[name][1].chmod(0o600)
        salt = os.urandom(12)
        digest = hashlib.pbkdf2_hmac("sha512", PASSWORD.encode(), salt, 101)
        pwfile = directory / "passwd"
        pwfile.write_text(f"{USER}:$7$101${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}\n")
        pwfile.chmod(0o600)
        self.plain, self.tls, self.rogue = free_port(), free_port(), free_port()
        self.log = directory / "mosquitto.log"
        conf = directory / "mosquitto.conf"
        conf.write_text(f"""user {getpass.getuser()}
per_listener_settings true
log_dest file {self.log}
log_type all
listener {self.plain} 127.0.0.1
allow_anonymous false
password_file {pwfile}
listener {self.tls} 127.0.0.1
certfile {files['broker'][0]}
keyfile {files['broker'][1]}
allow_anonymous false
password_file {pwfile}
listener {self.rogue} 127.0.0.1
certfile {files['rogue'][0]}
keyfile {files['rogue'][1]}
allow_anonymous true
""")
        self.conf = conf
        self.start()

    def start(self) -> None:
        """Launch (again, after `stop`: same listeners, same ports) and wait until every port listens."""
        self.proc = subprocess.Popen([MOSQUITTO, "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        deadline = time.monotonic() + TIMEOUT
        for port in (self.plain, self.tls, self.rogue):
            while True:
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=TIMEOUT).close()
                    break
                except ConnectionRefusedError:
                    if self.proc.poll() is not None or time.monotonic() > deadline:
                        self.stop()
                        raise AssertionError("mosquitto did not start") from None
                    time.sleep(0.02)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(TIMEOUT)


class Subscriber:
    """Everything under simiot/# on one listener."""

    def __init__(self, port: int, tls_ca: Path | None = None, auth: bool = True) -> None:
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        if auth:
            self.client.username_pw_set(USER, PASSWORD)
        if tls_ca is not None:
            self.client.tls_set(ca_certs=None, cert_reqs=0)  # the test's own view: no verification needed
            self.client.tls_insecure_set(True)
        subscribed = queue.Queue[bool]()
        self.client.on_connect = lambda c, u, f, rc, p: c.subscribe("simiot/#")
        self.client.on_subscribe = lambda c, u, mid, rcs, p: subscribed.put(True)
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, m.payload))
        self.client.connect("localhost", port)
        self.client.loop_start()
        subscribed.get(timeout=TIMEOUT)

    def publish(self, topic: str, payload: str) -> None:
        self.client.publish(topic, payload).wait_for_publish(TIMEOUT)

    def next(self, topic: str, timeout: float = TIMEOUT) -> bytes:
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                got, payload = self.messages.get(timeout=remaining)
            except queue.Empty:
                break
            if got == topic:
                return payload
        raise AssertionError(f"nothing on {topic} within {timeout} s")

    def sync(self) -> None:
        """Forget everything published before now: a marker of our own goes through the broker
        after what it already had."""
        marker = f"simiot/_marker/{os.urandom(4).hex()}"
        self.publish(marker, "")
        self.next(marker)

    def none(self, prefix: str, seconds: float) -> bool:
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                topic, _ = self.messages.get(timeout=remaining)
            except queue.Empty:
                return True
            if topic.startswith(prefix):
                return False
        return True

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture()
def watch(broker: Mosquitto) -> Iterator[Subscriber]:
    s = Subscriber(broker.plain)
    try:
        yield s
    finally:
        s.close()


def sim_for(tmp: Path, broker: Mosquitto, *defects: str, trust: bool = True) -> SimProcess:
    return SimProcess(tmp, units=1, defects=defects, extra=("--trust-ca", str(broker.ca)) if trust else ())


def provision(con: Any, url: str, password: str = PASSWORD) -> str:
    """`mqtt connect`, then the unit's verdict on the console."""
    assert con.run(f"mqtt connect {url} {USER} {password}").endswith(f"mqtt: connecting\r\n{PROMPT}")
    return con.expect(r"mqtt: (connected|tls error[^\r]*|refused[^\r]*|connection failed[^\r]*)\r\n", timeout=10)


def shell(sim: SimProcess) -> Any:
    con = sim.console("U1")
    con.attention()
    assert con.login(sim.label("U1")).endswith(PROMPT)
    return con


def test_compliant_publishes_over_tls_without_secrets(tmp_path: Path, broker: Mosquitto, watch: Subscriber) -> None:
    with sim_for(tmp_path, broker) as sim, shell(sim) as con:
        assert "mqtt: not configured" in con.run("mqtt status")
        assert "mqtt: plaintext mqtt:// is disabled on this firmware, use mqtts://" in con.run(
            f"mqtt connect mqtt://127.0.0.1:{broker.plain} {USER} {PASSWORD}")
        assert "mqtt: not configured" in con.run("mqtt status")
        con.run("wifi set HomeNet s3cret-psk-value")
        assert provision(con, f"mqtts://localhost:{broker.tls}").endswith("mqtt: connected\r\n")
        payload = watch.next("simiot/SIM-C-0001/telemetry")
        data = json.loads(payload)
        assert data["serial"] == "SIM-C-0001" and data["firmware"] == "1.4.2"
        assert not {"wifi_psk", "api_token", "wifi_ssid"} & set(data) and b"s3cret-psk-value" not in payload
        assert f"mqtt: connected (mqtts://localhost:{broker.tls}, user {USER})" in con.run("mqtt status")
        # The broker saw the unit's own address.
        assert re.search(rf"New connection from {re.escape(sim.runtime['units']['U1']['address'])}:\d+ on port "
                         rf"{broker.tls}", broker.log_text())
        watch.publish("simiot/SIM-C-0001/cmnd/Version", "")
        assert json.loads(watch.next("simiot/SIM-C-0001/stat/RESULT")) == {"Version": "1.4.2"}
        watch.publish("simiot/SIM-C-0001/cmnd/Status", "")
        assert json.loads(watch.next("simiot/SIM-C-0001/stat/RESULT"))["Status"]["Serial"] == "SIM-C-0001"
        watch.publish("simiot/SIM-C-0001/cmnd/Frobnicate", "1")
        assert json.loads(watch.next("simiot/SIM-C-0001/stat/RESULT")) == {"Command": "Unknown"}


def test_compliant_checks_the_broker(tmp_path: Path, broker: Mosquitto) -> None:
    with sim_for(tmp_path / "a", broker) as sim, shell(sim) as con:
        rogue = Subscriber(broker.rogue, tls_ca=broker.ca, auth=False)
        try:
            assert "certificate verify failed: unable to get local issuer certificate" in provision(
                con, f"mqtts://localhost:{broker.rogue}")
            rogue.sync()
            assert rogue.none("simiot/SIM", 0.5)
        finally:
            rogue.close()
        # The right CA but a name the certificate does not carry.
        assert "certificate verify failed: IP address mismatch" in provision(con, f"mqtts://127.0.0.1:{broker.tls}")
        assert "mqtt: refused 135 Not authorized" in provision(con, f"mqtts://localhost:{broker.tls}", "wrong")
        assert "mqtt: disconnected" in con.run("mqtt disconnect")
    with sim_for(tmp_path / "b", broker, trust=False) as sim, shell(sim) as con:  # default: its own CA only
        assert "certificate verify failed" in provision(con, f"mqtts://localhost:{broker.tls}")


def test_accepts_rogue_broker(tmp_path: Path, broker: Mosquitto) -> None:
    rogue = Subscriber(broker.rogue, tls_ca=broker.ca, auth=False)
    try:
        with sim_for(tmp_path, broker, "accepts_rogue_broker") as sim, shell(sim) as con:
            assert provision(con, f"mqtts://localhost:{broker.rogue}").endswith("mqtt: connected\r\n")
            assert json.loads(rogue.next("simiot/SIM-C-0001/telemetry"))["serial"] == "SIM-C-0001"
            assert "mqtt: connected" in provision(con, f"mqtts://127.0.0.1:{broker.tls}")  # no name check either
    finally:
        rogue.close()


def test_mqtt_plaintext_leaks_working_secrets(tmp_path: Path, broker: Mosquitto, watch: Subscriber) -> None:
    with sim_for(tmp_path, broker, "mqtt_plaintext") as sim, shell(sim) as con:
        con.run("wifi set HomeNet s3cret-psk-value")
        assert provision(con, f"mqtt://127.0.0.1:{broker.plain}").endswith("mqtt: connected\r\n")
        data = json.loads(watch.next("simiot/SIM-C-0001/telemetry"))
        assert data["wifi_ssid"] == "HomeNet" and data["wifi_psk"] == "s3cret-psk-value"
        status, _, body = api(sim, "GET", "/api/config", token=data["api_token"])  # the leaked token works
        assert status == 200 and body["wifi"]["ssid"] == "HomeNet"


def test_client_follows_the_unit_lifecycle(tmp_path: Path, broker: Mosquitto, watch: Subscriber) -> None:
    with sim_for(tmp_path, broker) as sim, shell(sim) as con:
        assert provision(con, f"mqtts://localhost:{broker.tls}").endswith("mqtt: connected\r\n")
        con.send("reboot")
        con.expect("SimIoT bootloader")
        watch.sync()
        con.expect("mqtt: connected\r\n")  # it reconnects by itself after the boot
        watch.next("simiot/SIM-C-0001/telemetry")
        watch.publish("simiot/SIM-C-0001/cmnd/Reset", "1")  # "connected" means commands reach it
        assert json.loads(watch.next("simiot/SIM-C-0001/stat/RESULT")) == {"Reset": "Reset and Restarting"}
        con.expect("factory-reset: erasing user data")
        con.expect("simiot login: ")
        assert con.login(sim.label("U1")).endswith(PROMPT)
        assert "mqtt: not configured" in con.run("mqtt status")  # compliant: the broker was user data
        watch.sync()  # telemetry from before the reset may still be on its way
        assert watch.none("simiot/SIM-C-0001/telemetry", 0.6)
