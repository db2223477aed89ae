"""A unit fixed to a broker the lab does not run, observed and captured: a real Mosquitto stands
for the vendor's cloud broker, a paho client bound to the unit's address stands for the unit, and
tcpdump captures on loopback. The plaintext unit FAILs 5.1-3-2, 5.5-7-2 and the passive part of
5.5-1-2 from the capture; the TLS unit PASSes them; without the right to capture, INCONCLUSIVE."""

from __future__ import annotations

import os
import shutil
import ssl
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from harness.cases.traffic import to_view
from harness.checks.traffic import (
    Observed,
    Planted,
    judge_authentication_channel,
    judge_broker_channel,
    judge_security_parameters_on_wire,
)
from harness.lab import LabBroker, LabCA
from harness.lab.broker import BrokerError
from harness.lab.dissect import read_capture
from harness.lab.observer import BrokerObserver, ObservedBroker
from harness.lab.sniffer import CaptureUnavailable, PacketCapture
from harness.redact import REDACTOR

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not os.access("/usr/sbin/mosquitto", os.X_OK), reason="Mosquitto not installed"),
              pytest.mark.skipif(shutil.which("tcpdump") is None, reason="tcpdump not installed (Debian tcpdump)"),
              pytest.mark.skipif(os.geteuid() != 0, reason="capturing needs root (CAP_NET_RAW)")]

CLOUD = "127.93.255.1"
UNIT = "127.93.0.1"
DEVICE_PW = "Cloud-Dev1ce-pw-77"
OBSERVER = ("lab-observer", "0bserver-pw-for-test")


@pytest.fixture(scope="module")
def cloud(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabBroker]:
    ca = LabCA.create(tmp_path_factory.mktemp("cloud-ca"), key_type="ec")
    accounts = {"cam-1": DEVICE_PW, OBSERVER[0]: OBSERVER[1]}
    with LabBroker(tmp_path_factory.mktemp("cloud"), ca=ca, accounts=accounts, host=CLOUD, kinds=("plain", "tls"),
                   timeout=5) as b:
        yield b


@pytest.fixture
def observer(cloud: LabBroker, tmp_path: Path) -> Iterator[BrokerObserver]:
    # The lab broker runs one Mosquitto per listener (they share no messages), so the observer
    # watches both: lab configuration `also_observe`.
    broker = ObservedBroker(cloud.url("tls"), observer=OBSERVER, ca=str(cloud.ca_path), workdir=tmp_path, timeout=5,
                            also_observe=[cloud.url("plain")])
    with BrokerObserver(broker) as obs:
        yield obs


def unit_session(cloud: LabBroker, kind: str, payload: str) -> None:
    """The unit connects to its fixed broker from its own address and publishes once."""
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id="cam-1")
    client.username_pw_set("cam-1", DEVICE_PW)
    if kind == "tls":
        client.tls_set(ca_certs=str(cloud.ca_path), cert_reqs=ssl.CERT_REQUIRED)
    client.connect(CLOUD, cloud.port(kind), 30, bind_address=UNIT)
    client.loop_start()
    try:
        client.publish("cam/1/state", payload, qos=1).wait_for_publish(5)
    finally:
        client.disconnect()
        client.loop_stop()


def captured(cloud: LabBroker, kind: str, payload: str, tmp_path: Path):  # type: ignore[no-untyped-def]
    cap = PacketCapture(UNIT, tmp_path, interface="lo", timeout=5).start()
    try:
        unit_session(cloud, kind, payload)
    finally:
        stats = cap.stop()
    assert stats["complete"]
    return read_capture(cap.path, UNIT), cap


PLANTED = [Planted("planted Wi-Fi key", "planted-psk-4242", "security")]


def test_plaintext_unit_fails_from_the_capture(cloud: LabBroker, observer: BrokerObserver, tmp_path: Path) -> None:
    facts, cap = captured(cloud, "plain", '{"temp": 20}', tmp_path)
    assert observer.wait_for(lambda m: m.topic == "cam/1/state", timeout=5) is not None
    view = to_view(facts, complete=True)
    auth = judge_authentication_channel(view, [])
    assert auth.verdict == "FAIL" and "MQTT CONNECT password" in auth.reason
    seen = [Observed(m.transport, m.topic, m.text) for m in observer.messages]
    assert {m.transport for m in seen} == {"observed"}
    assert judge_security_parameters_on_wire(seen, PLANTED, view, transport_known=False).verdict == "FAIL"
    assert judge_broker_channel(view, CLOUD).verdict == "FAIL"
    # the password seen on the wire is known to the redactor, and the evidence never holds it
    assert DEVICE_PW not in REDACTOR.redact(f"x {DEVICE_PW} y")
    assert DEVICE_PW not in repr([e.data for e in auth.evidence])
    cap.discard()
    assert not cap.path.exists()


def test_tls_unit_passes_from_the_capture(cloud: LabBroker, observer: BrokerObserver, tmp_path: Path) -> None:
    facts, _ = captured(cloud, "tls", '{"temp": 21}', tmp_path)
    assert observer.wait_for(lambda m: m.payload == b'{"temp": 21}', timeout=5) is not None
    view = to_view(facts, complete=True)
    assert [c.protocol for c in view.conversations] == ["TLS"]
    assert judge_authentication_channel(view, []).verdict == "PASS"
    seen = [Observed(m.transport, m.topic, m.text) for m in observer.messages if m.payload == b'{"temp": 21}']
    assert {m.transport for m in seen} == {"observed"}
    assert judge_security_parameters_on_wire(seen, PLANTED, view, transport_known=False).verdict == "PASS"
    assert judge_broker_channel(view, CLOUD).verdict == "PASS"


def test_observed_broker_cannot_be_stopped_or_impersonated(cloud: LabBroker, tmp_path: Path) -> None:
    broker = ObservedBroker(cloud.url("tls"), observer=OBSERVER, ca=str(cloud.ca_path), workdir=tmp_path)
    with pytest.raises(BrokerError, match="fixed in firmware.*outage cannot be staged"):
        broker.stop_instance("tls")
    with pytest.raises(BrokerError, match="rogue-server test is impossible"):
        broker.last_seq("rogue")
    assert broker.fixed and "impossible" in broker.no_rogue_reason


def test_observer_with_a_wrong_password_is_a_lab_fault(cloud: LabBroker, tmp_path: Path) -> None:
    broker = ObservedBroker(cloud.url("tls"), observer=(OBSERVER[0], "not-the-password"), ca=str(cloud.ca_path),
                            workdir=tmp_path, timeout=5)
    with pytest.raises(Exception) as info:
        BrokerObserver(broker).start()
    from harness.verdict import LabFault
    assert isinstance(info.value, LabFault)


def test_capture_on_a_missing_interface_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(CaptureUnavailable, match="cannot capture"):
        PacketCapture(UNIT, tmp_path, interface="no-such-if0", timeout=5).start()
    with pytest.raises(CaptureUnavailable, match="not installed"):
        PacketCapture(UNIT, tmp_path, tcpdump="/nonexistent/tcpdump").start()


@pytest.mark.skipif(shutil.which("setpriv") is None, reason="setpriv (util-linux) not installed")
def test_capture_without_the_privilege_is_unavailable_with_the_cause() -> None:
    """As an unprivileged user (no CAP_NET_RAW) tcpdump cannot open the device: a lab fault that
    says so, which the cases turn into INCONCLUSIVE."""
    import tempfile

    root = Path(__file__).resolve().parents[2]
    # pytest's own tmp directories are not traversable by another user
    with tempfile.TemporaryDirectory(prefix="capture-nobody-") as tmp:
        os.chmod(tmp, 0o777)
        done = _as_nobody(root, Path(tmp))
    if "UNAVAILABLE" not in done.stdout and any(e in done.stderr for e in ("ModuleNotFoundError", "PermissionError",
                                                                            "Permission denied")):
        pytest.skip("the unprivileged user cannot read this checkout")
    assert "UNAVAILABLE: tcpdump cannot capture on lo" in done.stdout, done.stdout + done.stderr
    assert "permission" in done.stdout.lower()


def _as_nobody(root: Path, tmp_path: Path):  # type: ignore[no-untyped-def]
    import subprocess
    import sys

    code = ("import sys; sys.path.insert(0, sys.argv[1])\n"
            "from harness.lab.sniffer import PacketCapture, CaptureUnavailable\n"
            "try:\n    PacketCapture('127.93.0.9', sys.argv[2], interface='lo', timeout=5).start()\n"
            "except CaptureUnavailable as exc:\n    print('UNAVAILABLE:', exc)\n")
    return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", code,
                           str(root), str(tmp_path / "cap")], capture_output=True, text=True, timeout=60)
