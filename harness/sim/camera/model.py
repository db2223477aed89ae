"""The camera's product facts, defect switches and per-unit identity (pure: no I/O)."""

from __future__ import annotations

import secrets
import string
import time
from collections.abc import Collection, Iterable
from dataclasses import dataclass, field

from harness.sim.catalog import UnitIdentity

MANUFACTURER = "Lumatek Vision Co."
MODEL = "Lumacam C3"
HARDWARE = "HW 1.2"
FIRMWARE = "2.7.14"
BUILD = "20240903"
KERNEL = "4.9.129"
HOSTNAME = "lumacam"
ADMIN = "admin"
SUPPORT = "support"  # the service account of the `service_account` defect
# Set at the factory, the same on every unit, in a read-only partition (the defect);
SUPPORT_PASSWORD = "support"  # in every public default-credential list (mirai)
MAX_UNITS = 9

# The maker's cloud broker, fixed in firmware: block b of a simulator uses 127.91.255.(b+1).
CLOUD_PORTS = {"plain": 1883, "tls": 8883}
MAX_BLOCKS = 8

# The camera's services on its own address (unit n of block b: 127.91.b.n); telnet only with the
# `telnet_enabled` defect.
PORTS = {"https": 7443, "ssh": 7022, "telnet": 7023}

FAILLOCK_DENY = 5  # pam_faillock deny=5
FAILLOCK_UNLOCK = 60.0  # unlock_time=60 (device seconds, scaled)
WEB_LIMIT = 5  # failed web logins before the web server answers 429
WEB_BLOCK = 60.0  # device seconds


def unit_address(block: int, index: int) -> str:
    return f"127.91.{block}.{index}"


def cloud_address(block: int) -> str:
    return f"127.91.255.{block + 1}"


@dataclass(frozen=True)
class Defect:
    summary: str


DEFECTS: dict[str, Defect] = {
    "uart_root_shell": Defect("the UART starts a root shell on Enter, without a login (5.6-4)"),
    "no_ssh_lockout": Defect("sshd has no pam_faillock: SSH never locks an account (5.1-5)"),
    "service_account": Defect("a factory account 'support' with the same password on every unit, usable on the "
                              "console, SSH (and telnet), that no interface can change (5.1-1, 5.1-4)"),
    "cloud_plaintext": Defect("the cloud MQTT client uses the broker's plaintext port 1883, credentials in "
                              "CONNECT (5.5-1, 5.5-7, 5.8-2, 5.1-3)"),
    "telnet_enabled": Defect("BusyBox telnetd (installer access, port 7023) left running in production firmware: "
                             "passwords in clear (5.6-1 when undeclared, 5.1-3, 5.5-7)"),
}


class DefectError(ValueError):
    pass


@dataclass(frozen=True)
class Defects:
    uart_root_shell: bool = False
    no_ssh_lockout: bool = False
    service_account: bool = False
    cloud_plaintext: bool = False
    telnet_enabled: bool = False

    @classmethod
    def parse(cls, names: Iterable[str]) -> Defects:
        chosen = set()
        for name in names:
            if name not in DEFECTS:
                raise DefectError(f"unknown camera defect {name!r} (known: {', '.join(DEFECTS)})")
            chosen.add(name)
        return cls(**dict.fromkeys(chosen, True))

    def names(self) -> list[str]:
        return [n for n in DEFECTS if getattr(self, n)]


def identity(index: int) -> UnitIdentity:
    """Serial and MAC as printed on the camera's label (locally administered MAC block)."""
    return UnitIdentity(f"U{index}", index, f"LC3-2409-{7300 + index:05d}", f"0A:4C:55:3C:{0x10 + index:02X}:E2")


# Label passwords: three groups of four from lowercase letters and digits without look-alikes
# (printed on a small label under the camera's foot), from the OS CSPRNG at manufacture.
LABEL_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_MAX_DRAWS = 100


def label_password(taken: Collection[str] = ()) -> str:
    for _ in range(_MAX_DRAWS):
        raw = "".join(secrets.choice(LABEL_ALPHABET) for _ in range(12))
        if any(c in string.digits for c in raw) and any(c in string.ascii_lowercase for c in raw):
            label = "-".join(raw[i:i + 4] for i in range(0, 12, 4))
            if label not in taken:
                return label
    raise RuntimeError("no label password after many draws")  # not reachable with a working CSPRNG


def cloud_password() -> str:
    """The unit's cloud account password, written into its firmware partition at manufacture."""
    return secrets.token_urlsafe(18)


def cloud_user(serial: str) -> str:
    return "cam-" + serial.lower()


@dataclass
class Faillock:
    """pam_faillock for one account: `deny` consecutive failures lock it for `unlock` real seconds;
    while locked every password, the right one too, is refused with the same answer as a wrong one;
    a wrong one during the lock is recorded too and so extends it (pam_faillock's authfail), the
    right one is not (it never reaches authfail). The tally lives in /var/run (tmpfs): a reboot clears it. Pure: the caller gives the clock."""

    deny: int = FAILLOCK_DENY
    unlock: float = FAILLOCK_UNLOCK
    failures: list[float] = field(default_factory=list)

    def locked(self, now: float) -> bool:
        if len(self.failures) >= self.deny and now - self.failures[-1] < self.unlock:
            return True
        if len(self.failures) >= self.deny:
            self.failures.clear()  # unlock_time passed: the tally starts over
        return False

    def record(self, ok: bool, now: float) -> None:
        if ok:
            self.failures.clear()
        else:
            self.failures.append(now)
            del self.failures[:-self.deny]


@dataclass
class RateLimit:
    """The web server's login limiter: after `limit` consecutive failures, 429 for `block` real
    seconds (announced, with Retry-After). Pure."""

    limit: int = WEB_LIMIT
    block: float = WEB_BLOCK
    failures: int = 0
    blocked_until: float = 0.0

    def remaining(self, now: float) -> float:
        return max(0.0, self.blocked_until - now)

    def record(self, ok: bool, now: float) -> None:
        if ok:
            self.failures = 0
            return
        self.failures += 1
        if self.failures >= self.limit:
            self.failures = 0
            self.blocked_until = now + self.block


def now() -> float:
    return time.monotonic()
