"""The lab-fault exception of the network probes."""

from harness.verdict import LabFault


class ProbeError(LabFault):
    """A probe could not judge its target (host unreachable, connection refused where a service
    was expected, timeout before the service spoke): the caller records INCONCLUSIVE."""
