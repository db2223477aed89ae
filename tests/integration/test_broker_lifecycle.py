"""LabBroker as a process owner: a dead broker is a lab fault (no hang), stop() leaves nothing
running, taken ports are retried (boundedly), accounts reload on SIGHUP, and no password reaches a
log or transcript (Mosquitto's own log included)."""

from __future__ import annotations

import os
import signal
import socket
import stat
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

import harness.lab.broker as broker_module
from harness.lab import BrokerCapture, BrokerError, LabBroker, LabCA
from harness.links.mqtt import MqttLink, MqttLinkError
from harness.redact import Redactor
from harness.verdict import LabFault

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not os.access("/usr/sbin/mosquitto", os.X_OK),
                                 reason="Mosquitto not installed (make system-deps)")]

DEVICE = ("device", "Dev1ce-Pa55word")


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> LabCA:
    return LabCA.create(tmp_path_factory.mktemp("lab-ca"), key_type="ec")


@pytest.fixture
def broker(tmp_path: Path, ca: LabCA) -> Iterator[LabBroker]:
    with LabBroker(tmp_path / "broker", ca=ca, accounts=dict([DEVICE]), timeout=5) as b:
        yield b


def _alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def test_killed_broker_is_a_lab_fault_not_a_hang(broker: LabBroker, tmp_path: Path) -> None:
    link = MqttLink("lab", url=broker.url("plain"), username=DEVICE[0], password=DEVICE[1], timeout=30,
                    transcript_dir=tmp_path).open()
    capture = BrokerCapture(broker, kinds=["plain"], transcript_dir=tmp_path / "capture").start()
    pid = broker.pid("plain")
    assert pid is not None

    def kill_once_expect_waits() -> None:
        # expect() subscribes to its filter first; once the broker logged that, expect is waiting.
        if broker.wait_event("plain", lambda e: e.kind == "subscribe" and "never/" in (e.detail or ""), 10):
            os.kill(pid, signal.SIGKILL)

    killer = threading.Thread(target=kill_once_expect_waits)
    killer.start()
    started = time.monotonic()
    with pytest.raises(MqttLinkError) as err:
        link.expect("never/arrives", timeout=30)
    killer.join(5)
    assert time.monotonic() - started < 5 and isinstance(err.value, LabFault)
    with pytest.raises(MqttLinkError):
        link.publish("x", "y", qos=1)
    with pytest.raises(MqttLinkError):  # absence seen by a dead capture proves nothing
        capture.wait_for(lambda m: True, timeout=30)
    assert time.monotonic() - started < 5
    with pytest.raises(MqttLinkError):  # nobody listens any more: reconnecting is a lab fault too
        link.open()
    capture.stop()
    link.close()
    assert "connection lost" in link.transcript.path.read_text()


def test_stop_leaves_nothing_running(tmp_path: Path, ca: LabCA) -> None:
    broker = LabBroker(tmp_path / "b", ca=ca, timeout=5).start()
    pids = [broker.pid(k) for k in ("plain", "tls", "rogue")]
    assert all(pid is not None and _alive(pid) for pid in pids)
    # Ready means served a login (Mosquitto logs "running" before it arms its signal handling).
    for kind in ("plain", "tls", "rogue"):
        assert any(e.username == broker.observer[0] for e in broker.events(kind, "connected"))
    runtime = broker._runtime
    assert runtime is not None and stat.S_IMODE(runtime.stat().st_mode) == 0o700
    key = runtime / "tls.key.pem"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600 and stat.S_IMODE((runtime / "passwd").stat().st_mode) == 0o600
    if os.geteuid() == 0:  # Mosquitto dropped privileges: it owns what it must read, nothing else
        import pwd
        assert key.stat().st_uid == pwd.getpwnam("mosquitto").pw_uid
    started = time.monotonic()
    broker.stop()
    assert time.monotonic() - started < 2  # SIGTERM honoured, not the 5 s fallback to SIGKILL
    broker.stop()  # idempotent
    assert not any(_alive(pid) for pid in pids if pid is not None)
    assert not runtime.exists()  # server keys and password hashes are gone
    assert broker.log_path("plain").read_text().rstrip().endswith("terminating")
    assert broker.started_kinds == () and broker.events("tls")  # events stay readable as evidence


def test_port_taken_between_probe_and_bind_is_retried(tmp_path: Path, ca: LabCA,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    taken = socket.create_server(("127.0.0.1", 0))
    real = broker_module._free_port
    calls: list[int] = []

    def first_taken(host: str) -> int:
        calls.append(1)
        return int(taken.getsockname()[1]) if len(calls) == 1 else real(host)

    monkeypatch.setattr(broker_module, "_free_port", first_taken)
    try:
        with LabBroker(tmp_path / "b", ca=ca, kinds=["plain"], timeout=5) as broker:
            assert broker.port("plain") != taken.getsockname()[1] and len(calls) == 2
            assert "Address already in use" in broker.log_path("plain").read_text()
        monkeypatch.setattr(broker_module, "_free_port", lambda host: int(taken.getsockname()[1]))
        with pytest.raises(BrokerError, match="exited before it was ready"):
            LabBroker(tmp_path / "c", ca=ca, kinds=["plain"], timeout=5).start()
    finally:
        taken.close()


def test_add_account_reloads(broker: LabBroker, tmp_path: Path) -> None:
    probe = MqttLink("probe", url=broker.url("tls"), ca=str(broker.ca_path), timeout=5, transcript_dir=tmp_path)
    assert probe.connect_attempt("newcomer", "Newc0mer-Secret").outcome == "rejected"
    broker.add_account("newcomer", "Newc0mer-Secret")
    assert probe.connect_attempt("newcomer", "Newc0mer-Secret").ok
    assert probe.connect_attempt(*DEVICE).ok  # the old accounts survive the reload
    assert all(broker.events(k, "reload") for k in ("plain", "tls", "rogue"))
    probe.close()


class _Raw(Redactor):
    """Writes Mosquitto's lines exactly as it printed them."""

    def redact(self, text: str) -> str:
        return text


def test_no_password_in_any_log_or_transcript(tmp_path: Path, ca: LabCA) -> None:
    tried = "Wr0ng-Guess-42"
    raw_dir, dirs = tmp_path / "raw", [tmp_path / "redacted", tmp_path / "transcripts"]
    with LabBroker(raw_dir, ca=ca, accounts=dict([DEVICE]), timeout=5, redactor=_Raw()) as raw, \
            LabBroker(dirs[0], ca=ca, accounts=dict([DEVICE]), timeout=5) as redacted:
        secrets = [DEVICE[1], tried, raw.observer[1], redacted.observer[1]]
        for broker in (raw, redacted):
            with BrokerCapture(broker, transcript_dir=dirs[1]):
                for kind in ("plain", "tls"):
                    link = MqttLink("dev", url=broker.url(kind), ca=str(ca.ca_path), username=DEVICE[0],
                                    password=DEVICE[1], timeout=5, transcript_dir=dirs[1], protocol="5")
                    assert link.connect_attempt(DEVICE[0], tried).outcome == "rejected"
                    link.open().publish("t/x", "hello", qos=1)
                    link.close()
    raw_log = (raw_dir / "plain.log").read_text() + (raw_dir / "tls.log").read_text()
    assert "u'device'" in raw_log and "not authorised" in raw_log  # the attempts are in it...
    assert not [s for s in secrets if s in raw_log]  # ...and Mosquitto printed no password
    written = [p for d in [raw_dir, *dirs] for p in d.rglob("*") if p.is_file() and "ca" not in p.parent.name]
    assert any(p.name.startswith("transcript-") for p in written) and any(p.suffix == ".conf" for p in written)
    leaks = {str(p): s for p in written for s in secrets if s in p.read_text(errors="replace")}
    assert leaks == {}


def test_child_setup_runs_in_every_mosquitto_child(tmp_path: Path, ca: LabCA) -> None:
    marks = tmp_path / "marks"
    marks.mkdir()
    marks.chmod(0o777)

    def setup() -> None:  # runs in the child between fork and exec
        (marks / str(os.getpid())).touch()

    with LabBroker(tmp_path / "b", ca=ca, kinds=("plain", "tls"), timeout=5, child_setup=setup) as b:
        pids = {b.pid("plain"), b.pid("tls")}
    assert {int(p.name) for p in marks.iterdir()} == pids
