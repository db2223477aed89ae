"""Where probes and fetches may go. Checked before a packet leaves."""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass, field

from harness.verdict import LabFault


class OutOfScope(LabFault):
    """A probe or fetch toward a destination the profile and lab did not declare."""


@dataclass
class Scope:
    networks: list[str] = field(default_factory=list)  # CIDR networks or host names
    timeout: float = 5.0

    def _nets(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        out = []
        for n in self.networks:
            try:
                out.append(ipaddress.ip_network(n, strict=False))
            except ValueError:
                continue
        return out

    def check_host(self, host: str) -> str:
        """Return the address to connect to, or raise OutOfScope. Names are resolved once here
        and the resolved address is what the caller must use (no second lookup to race)."""
        if host in self.networks:
            names_ok = True
        else:
            names_ok = False
        try:
            addr = ipaddress.ip_address(host)
            addresses = [addr]
        except ValueError:
            try:
                infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
            except OSError as exc:
                raise OutOfScope(f"cannot resolve {host!r}: {exc}") from None
            addresses = [ipaddress.ip_address(i[4][0]) for i in infos]
        nets = self._nets()
        for a in addresses:
            if names_ok or any(a in n for n in nets):
                return str(a)
        raise OutOfScope(f"{host} ({', '.join(map(str, addresses))}) is outside the declared scope "
                         f"{self.networks or '(nothing declared)'}; refused before sending anything")
