"""The lab side of the bench: its CA, its MQTT broker and what that broker saw, the observer of an
existing broker, and the passive capture of a unit's packets (scapy is imported only when a
capture is read)."""

from harness.lab.broker import KINDS, BrokerError, LabBroker
from harness.lab.ca import CAError, LabCA
from harness.lab.capture import BrokerCapture, CapturedMessage
from harness.lab.mosquitto_log import BrokerEvent
from harness.lab.observer import BrokerObserver, ObservedBroker
from harness.lab.sniffer import CaptureUnavailable, PacketCapture

__all__ = ["KINDS", "BrokerCapture", "BrokerError", "BrokerEvent", "BrokerObserver", "CAError", "CaptureUnavailable",
           "CapturedMessage", "LabBroker", "LabCA", "ObservedBroker", "PacketCapture"]
