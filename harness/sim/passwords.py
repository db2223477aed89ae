"""Label passwords printed on each unit at manufacture, one generator per scheme."""

from __future__ import annotations

import hashlib
import secrets
import string
from collections.abc import Callable, Collection

from harness.sim.catalog import UnitIdentity

# No 0/O, 1/l/I: the label is read by a human.
ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789"
LABEL_LENGTH = 12
WORDS = ("sunshine", "princess", "football", "dragon", "monkey", "baseball", "shadow", "master", "letmein")
_MAX_DRAWS = 100  # random draws are retried on a collision or a missing character class


def _random_label() -> str:
    for _ in range(_MAX_DRAWS):
        p = "".join(secrets.choice(ALPHABET) for _ in range(LABEL_LENGTH))
        if (any(c in string.ascii_uppercase for c in p) and any(c in string.ascii_lowercase for c in p)
                and any(c in string.digits for c in p)):
            return p
    return p


def _pin() -> str:
    return f"{secrets.randbelow(10_000):04d}"


_SCHEMES: dict[str, Callable[[UnitIdentity], str]] = {
    "random": lambda u: _random_label(),
    "admin": lambda u: "admin",
    "universal": lambda u: "Welcome2SimIoT",
    "sequential": lambda u: f"simpw-{100040 + u.index}",
    "mac": lambda u: u.mac.replace(":", "").upper()[-8:],
    "serial": lambda u: hashlib.sha256(u.serial.encode()).hexdigest()[:10],
    "dictionary": lambda u: WORDS[(u.index - 1) % len(WORDS)],
    "pin": lambda u: _pin(),
}
SCHEMES = tuple(_SCHEMES)
RANDOM_SCHEMES = ("random", "pin")


def label_password(scheme: str, unit: UnitIdentity, taken: Collection[str] = ()) -> str:
    """A new label password; random schemes avoid the other units' labels (`taken`), so that a
    random-PIN defect is not also a shared-password defect."""
    generate = _SCHEMES[scheme]
    label = generate(unit)
    if scheme in RANDOM_SCHEMES:
        for _ in range(_MAX_DRAWS):
            if label not in taken:
                break
            label = generate(unit)
    return label
