"""What every link shares: its lab-fault exception."""

from harness.verdict import LabFault


class LinkError(LabFault):
    """The link itself failed (port gone, connection refused, broker down): a lab fault."""
