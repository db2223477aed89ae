"""A staged broker outage: one listener goes away and comes back on the same port; clients see
the loss, the capture observes the listener again afterwards."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from harness.lab import BrokerCapture, LabBroker
from harness.links.mqtt import MqttLink, MqttLinkError

pytestmark = [pytest.mark.integration,
              pytest.mark.skipif(not os.access("/usr/sbin/mosquitto", os.X_OK), reason="Mosquitto not installed")]


def test_listener_outage_and_return(tmp_path: Path) -> None:
    with LabBroker(tmp_path / "broker", accounts={"device": "Dev1ce-Pa55word"}, kinds=("plain",), timeout=5) as broker:
        port = broker.port("plain")
        with BrokerCapture(broker) as capture:
            broker.stop_instance("plain")
            assert not broker.running("plain")
            with pytest.raises(MqttLinkError):  # absence during an outage proves nothing
                capture.wait_for(lambda m: True, timeout=2)
            link = MqttLink("probe", url=broker.url("plain"), timeout=3, transcript_dir=tmp_path)
            assert link.connect_attempt("device", "Dev1ce-Pa55word").outcome == "error"
            broker.start_instance("plain")
            capture.reattach("plain")
            assert broker.port("plain") == port and broker.running("plain")
            with MqttLink("dev", url=broker.url("plain"), username="device", password="Dev1ce-Pa55word",
                          timeout=3, transcript_dir=tmp_path) as dev:
                dev.publish("simiot/X/telemetry", b'{"t": 1}', qos=1)
            got = capture.wait_for(lambda m: m.topic == "simiot/X/telemetry", timeout=5)
            assert got is not None and got.transport == "plain"
