"""The lab side of the bench: its CA, its MQTT broker and what that broker saw."""

from harness.lab.broker import KINDS, BrokerError, LabBroker
from harness.lab.ca import CAError, LabCA
from harness.lab.capture import BrokerCapture, CapturedMessage
from harness.lab.mosquitto_log import BrokerEvent

__all__ = ["KINDS", "BrokerCapture", "BrokerError", "BrokerEvent", "CAError", "CapturedMessage", "LabBroker",
           "LabCA"]
