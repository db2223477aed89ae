"""Network probes of a declared device address: TCP connect scan, UDP service probes, banners.

Every probe asks ``harness.scope.Scope`` first and is refused (OutOfScope) before a socket exists
when the address or port is not declared. ``harness.net.netns`` (imported on its own, it is also
a command: ``python -m harness.net.netns run -- CMD``) isolates a bench run in a network namespace.
"""

from harness.net.banner import Banner, grab_banner
from harness.net.errors import ProbeError
from harness.net.scan import TcpScanResult, scan_tcp, scan_tcp_async
from harness.net.udp import UdpProbeResult, probe_udp

__all__ = ["Banner", "ProbeError", "TcpScanResult", "UdpProbeResult", "grab_banner", "probe_udp",
           "scan_tcp", "scan_tcp_async"]
