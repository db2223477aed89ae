"""Where probes and fetches may go. Checked before a packet leaves.

Two layers:

- ``networks``: addresses, CIDR networks or host names the profile and lab declare. A destination
  outside them is refused (``check_host``), whatever the port. A host name is looked up only when
  it is declared: listed in ``networks`` (then DNS may answer for it), or mapped to an address in
  ``hosts`` (no lookup at all; the address must be in the networks). Any other name is refused
  before a lookup, so not even a DNS query leaves for it. ``localhost`` is the loopback address
  (RFC 6761: never sent to DNS).
- ``ports`` (optional): a further restriction per declared address, network or name, e.g.
  ``{"127.77.0.1": {"tcp/*"}, "10.0.0.0/24": {"tcp/80", "tcp/443", "udp/53"}}``. Rules are
  ``PROTO/PORT``, ``PROTO/LOW-HIGH``, ``PROTO/*`` or ``*`` (any protocol, any port); PROTO is
  ``tcp`` or ``udp``. When one or more keys match a host, only the ports their rules allow may
  be probed; a declared host that no key matches may be probed on every port (a full port scan
  of a declared address is how TS 103 701 5.6-1 enumerates the interfaces).
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field

from harness.verdict import LabFault

PROTOCOLS = ("tcp", "udp")
_IpNet = ipaddress.IPv4Network | ipaddress.IPv6Network
_IpAddr = ipaddress.IPv4Address | ipaddress.IPv6Address


class OutOfScope(LabFault):
    """A probe or fetch toward a destination the profile and lab did not declare."""


@dataclass(frozen=True)
class PortRule:
    """The ports of one protocol that may be probed at one host (``port in rule``)."""

    proto: str
    ranges: tuple[tuple[int, int], ...]  # inclusive; (1, 65535) when unrestricted

    @property
    def unrestricted(self) -> bool:
        return self.ranges == ((1, 65535),)

    def __contains__(self, port: object) -> bool:
        if not isinstance(port, int) or isinstance(port, bool):
            return False
        return any(lo <= port <= hi for lo, hi in self.ranges)

    def describe(self) -> str:
        if not self.ranges:
            return f"no {self.proto} port"
        return ", ".join(f"{self.proto}/{lo}" if lo == hi else f"{self.proto}/{lo}-{hi}" for lo, hi in self.ranges)


def _parse_rule(rule: str) -> tuple[str | None, int, int]:
    """``tcp/22`` -> ("tcp", 22, 22); ``udp/*`` -> ("udp", 1, 65535); ``*`` -> (None, 1, 65535)."""
    text = rule.strip().lower()
    if text == "*":
        return None, 1, 65535
    proto, sep, spec = text.partition("/")
    if not sep or proto not in PROTOCOLS:
        raise ValueError(f"port rule {rule!r}: expected tcp/PORT, udp/PORT, PROTO/LOW-HIGH, PROTO/* or *")
    if spec == "*":
        return proto, 1, 65535
    lo_s, dash, hi_s = spec.partition("-")
    try:
        lo = int(lo_s)
        hi = int(hi_s) if dash else lo
    except ValueError:
        raise ValueError(f"port rule {rule!r}: {spec!r} is not a port or range") from None
    if not 1 <= lo <= hi <= 65535:
        raise ValueError(f"port rule {rule!r}: ports are 1..65535 and LOW <= HIGH")
    return proto, lo, hi


def _merge(ranges: Iterable[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[list[int]] = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            out[-1][1] = max(out[-1][1], hi)
        else:
            out.append([lo, hi])
    return tuple((lo, hi) for lo, hi in out)


@dataclass
class Scope:
    networks: list[str] = field(default_factory=list)  # CIDR networks, addresses or host names
    timeout: float = 5.0
    ports: dict[str, set[str]] = field(default_factory=dict)  # key (address/network/name) -> rules
    hosts: dict[str, str] = field(default_factory=dict)  # host name -> address, known without DNS

    def __post_init__(self) -> None:
        # Rules are parsed once, so a typo in a lab file fails at load time, not mid-run.
        self._port_rules: list[tuple[str, _IpNet | None, list[tuple[str | None, int, int]]]] = []
        for key, rules in self.ports.items():
            try:
                net: _IpNet | None = ipaddress.ip_network(key, strict=False)
            except ValueError:
                net = None  # a host name: matched by the name as the caller gave it
            self._port_rules.append((key, net, [_parse_rule(r) for r in sorted(rules)]))

    def _nets(self) -> list[_IpNet]:
        out = []
        for n in self.networks:
            try:
                out.append(ipaddress.ip_network(n, strict=False))
            except ValueError:
                continue
        return out

    def _mapped(self, host: str) -> str | None:
        wanted = host.rstrip(".").lower()
        for name, address in self.hosts.items():
            if name.rstrip(".").lower() == wanted:
                return address
        return "127.0.0.1" if wanted == "localhost" else None

    def check_host(self, host: str) -> str:
        """Return the address to connect to, or raise OutOfScope. Names are resolved once here
        and the resolved address is what the caller must use (no second lookup to race)."""
        if not isinstance(host, str) or not host:
            raise OutOfScope(f"no host to check ({host!r}); refused before sending anything")
        names_ok = host in self.networks
        try:
            addr = ipaddress.ip_address(host.strip("[]"))
            addresses = [addr]
        except ValueError:
            mapped = None if names_ok else self._mapped(host)
            if mapped is not None:
                addresses = [ipaddress.ip_address(mapped)]
            elif not names_ok:
                raise OutOfScope(f"host name {host!r} is not declared by the lab (list it under `networks:` or give "
                                 f"its address under `hosts:`); refused before any DNS lookup") from None
            else:
                try:
                    infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
                except (OSError, UnicodeError) as exc:
                    raise OutOfScope(f"cannot resolve {host!r}: {exc}") from None
                addresses = [ipaddress.ip_address(i[4][0].split("%")[0]) for i in infos]
        nets = self._nets()
        for a in addresses:
            if names_ok or any(a in n for n in nets):
                return str(a)
        raise OutOfScope(f"{host} ({', '.join(map(str, addresses))}) is outside the declared scope "
                         f"{self.networks or '(nothing declared)'}; refused before sending anything")

    def port_rule(self, host: str, proto: str = "tcp") -> tuple[str, PortRule]:
        """The resolved address of a declared host and the ports of ``proto`` allowed there.

        Raises OutOfScope for an undeclared host. A scanner calls this once and tests every port
        against the rule before it creates its first socket."""
        if proto not in PROTOCOLS:
            raise OutOfScope(f"protocol {proto!r} is not one the scope knows ({', '.join(PROTOCOLS)})")
        address = self.check_host(host)
        addr = ipaddress.ip_address(address)
        matched = False
        ranges: list[tuple[int, int]] = []
        for key, net, rules in self._port_rules:
            if key == host or (net is not None and addr in net):
                matched = True
                ranges += [(lo, hi) for p, lo, hi in rules if p is None or p == proto]
        return address, PortRule(proto, _merge(ranges) if matched else ((1, 65535),))

    def check_target(self, host: str, port: int, proto: str = "tcp") -> str:
        """Return the address to send to, or raise OutOfScope (host undeclared, or the port is
        not among those declared for it)."""
        address, rule = self.port_rule(host, proto)
        if port not in rule:
            raise OutOfScope(f"{proto}/{port} at {host} is outside the declared ports ({rule.describe()}); "
                             "refused before sending anything")
        return address
