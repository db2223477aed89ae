"""One UDP service probe: did the declared service answer, refuse, or stay silent?

UDP has no handshake, so the three outcomes mean different things and are never merged:

- ``answered``: a datagram came back (the reply is kept, bounded);
- ``closed``: the host answered with ICMP port unreachable. A *connected* UDP socket receives that
  as ECONNREFUSED (Linux reports it on the next send or recv), so no raw socket is needed;
- ``silent``: nothing within ``timeout`` after each of ``attempts`` sends. That is "open or
  filtered" (nmap's open|filtered): a service that ignores a malformed request, a firewall, a lost
  datagram, or an ICMP reply suppressed by the peer's rate limit. It is never treated as closed.

Other ICMP errors (host or network unreachable) mean the device was not reached at all: a lab
fault (ProbeError), not an outcome.
"""

from __future__ import annotations

import ipaddress
import socket
import time
from dataclasses import dataclass
from typing import Literal

from harness.net.errors import ProbeError
from harness.scope import Scope

UdpState = Literal["answered", "closed", "silent"]
_MAX_DATAGRAM = 65535


@dataclass
class UdpProbeResult:
    state: UdpState
    reply: bytes | None = None
    address: str = ""
    port: int = 0
    attempts: int = 0  # datagrams sent
    rtt_s: float | None = None  # from the last send to the answer (reply or ICMP)


def probe_udp(address: str, port: int, payload: bytes, *, scope: Scope, timeout: float = 1.0,
              attempts: int = 2, limit: int = _MAX_DATAGRAM) -> UdpProbeResult:
    """Send ``payload`` to a declared UDP service up to ``attempts`` times, waiting ``timeout``
    seconds for an answer after each. Raises OutOfScope before any socket exists when the scope
    does not declare ``udp/port`` at ``address``."""
    if attempts < 1 or timeout <= 0:
        raise ValueError("attempts must be >= 1 and timeout > 0")
    target = scope.check_target(address, port, "udp")
    family = socket.AF_INET6 if ipaddress.ip_address(target).version == 6 else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect((target, port))  # no packet: it fixes the peer so ICMP errors reach us
        except OSError as exc:
            raise ProbeError(f"udp/{port} at {target}: cannot address it: {exc}") from None
        for n in range(1, attempts + 1):
            sent_at = time.monotonic()
            try:
                sock.settimeout(timeout)
                sock.send(payload)
                reply = sock.recv(limit)
            except ConnectionRefusedError:
                return UdpProbeResult("closed", None, target, port, n, time.monotonic() - sent_at)
            except TimeoutError:
                continue
            except OSError as exc:  # EHOSTUNREACH, ENETUNREACH, ...: the device was not reached
                raise ProbeError(f"udp/{port} at {target}: {exc.strerror or exc}") from None
            return UdpProbeResult("answered", reply, target, port, n, time.monotonic() - sent_at)
        return UdpProbeResult("silent", None, target, port, attempts, None)
