"""Lab configuration keys for observing an existing broker and for the passive capture."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from harness.profile.lab_models import LabConfig

OBSERVE = {"start": False, "url": "mqtts://127.91.255.1:8883", "ca": "cloud-ca.pem",
           "observer": {"user": "lab-observer", "password": {"secret": "CLOUD_OBSERVER"}}}


def test_start_false_means_observe_with_an_observer_account() -> None:
    lab = LabConfig(schema_version=1, broker=OBSERVE)
    assert lab.broker is not None and lab.broker.observed
    assert lab.broker.observer is not None and lab.broker.observer.topics == ["#"]


@pytest.mark.parametrize("missing", ["observer", "url"])
def test_an_existing_broker_without_observer_or_url_is_an_error(missing: str) -> None:
    broker = {k: v for k, v in OBSERVE.items() if k != missing}
    with pytest.raises(ValidationError, match="observer"):
        LabConfig(schema_version=1, broker=broker)


@pytest.mark.parametrize("url", ["http://x:1883", "mqtt://user:pw@host:1883", "mqtts://"])
def test_broker_url_is_an_mqtt_url_without_credentials(url: str) -> None:
    with pytest.raises(ValidationError):
        LabConfig(schema_version=1, broker={**OBSERVE, "url": url})


def test_started_broker_needs_nothing_new() -> None:
    lab = LabConfig(schema_version=1, broker={"start": True})
    assert lab.broker is not None and not lab.broker.observed and lab.broker.observer is None


def test_capture_defaults_and_keys() -> None:
    assert LabConfig(schema_version=1).capture.enabled
    cap = LabConfig(schema_version=1, capture={"interface": "lo", "keep_pcap": True}).capture
    assert (cap.interface, cap.tcpdump, cap.keep_pcap) == ("lo", "tcpdump", True)
    with pytest.raises(ValidationError):
        LabConfig(schema_version=1, capture={"iface": "lo"})


def _bench(broker: dict | None, link_broker: str | None):  # type: ignore[no-untyped-def]
    from types import SimpleNamespace

    links = {} if link_broker is None else {"mqtt": SimpleNamespace(type="mqtt", broker=link_broker)}
    lab = LabConfig(schema_version=1, broker=broker)
    return SimpleNamespace(lab=lab, profile=SimpleNamespace(links=links))


def test_an_observed_broker_needs_lab_services_even_without_a_lab_link() -> None:
    from harness.labservices import wants_lab_services

    assert wants_lab_services(_bench(OBSERVE, None))  # type: ignore[arg-type]
    assert wants_lab_services(_bench(OBSERVE, "lab"))  # type: ignore[arg-type]
    assert wants_lab_services(_bench(None, "lab:tls"))  # type: ignore[arg-type]
    assert not wants_lab_services(_bench(None, "mqtts://10.0.0.1:8883"))  # type: ignore[arg-type]
    assert not wants_lab_services(_bench(None, None))  # type: ignore[arg-type]


def test_also_observe_takes_mqtt_urls_only() -> None:
    lab = LabConfig(schema_version=1, broker={**OBSERVE, "also_observe": ["mqtt://127.91.255.1:1883"]})
    assert lab.broker is not None and lab.broker.also_observe == ["mqtt://127.91.255.1:1883"]
    with pytest.raises(ValidationError):
        LabConfig(schema_version=1, broker={**OBSERVE, "also_observe": ["tcp://127.91.255.1:1883"]})
