"""Building blocks every profile and lab model shares: the strict base model and values that may be
given inline or by reference (secret, environment, runtime fact)."""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictInt
from pydantic import Strict as PydanticStrict


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)


# --- references -------------------------------------------------------------------------------

class SecretRef(Strict):
    secret: str = Field(description="Name of a secret in the lab's secrets source (file or environment).")


class EnvRef(Strict):
    env: str = Field(description="Name of an environment variable.")


class RuntimeRef(Strict):
    runtime: str = Field(description="Dotted key into the runtime facts file named by the lab configuration.")


Ref = SecretRef | EnvRef | RuntimeRef


def _to_value(v: Any) -> Any:
    if isinstance(v, bool):
        raise ValueError("expected a string, not a boolean")
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, str):
        return v
    if isinstance(v, dict) and len(v) == 1:
        key = next(iter(v))
        kinds = {"secret": SecretRef, "env": EnvRef, "runtime": RuntimeRef}
        if key in kinds and isinstance(v[key], str) and v[key]:
            return kinds[key](**v)
    raise ValueError("expected a string or one of {secret: NAME}, {env: NAME}, {runtime: KEY}")


# A value given inline or by reference; resolved by harness.profile.resolve.
Value = Annotated[str | SecretRef | EnvRef | RuntimeRef, BeforeValidator(_to_value)]




# --- typed values with the checks a hand-written file needs ----------------------------------------
# Strict where YAML's looseness hides a mistake: `enabled: "no"` is a string (true to pydantic's lax
# bool), `timeout: .inf` never ends, `schema_version: "1"` or `true` is not the integer the format
# promises.

Flag = StrictBool
Seconds = Annotated[float, PydanticStrict(), Field(ge=0, allow_inf_nan=False)]
PositiveSeconds = Annotated[float, PydanticStrict(), Field(gt=0, allow_inf_nan=False)]
Port = Annotated[int, PydanticStrict(), Field(ge=1, le=65535)]
Count = StrictInt


def _schema_version(v: Any) -> Any:
    if isinstance(v, bool) or not isinstance(v, int):
        raise ValueError(f"schema_version is an integer (1), not {type(v).__name__} {v!r}")
    return v


SchemaVersion = Annotated[Literal[1], BeforeValidator(_schema_version)]

# Host names as DNS writes them (RFC 1123 labels), so a typo or a pasted URL is caught here.
_HOST_LABEL = r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)"
HOST_NAME = re.compile(rf"{_HOST_LABEL}(\.{_HOST_LABEL})*\.?")


def is_host_name(text: str) -> bool:
    return len(text) <= 253 and HOST_NAME.fullmatch(text) is not None and not text.replace(".", "").isdigit()


def check_host(text: str, what: str = "host") -> str:
    """An IP address or a host name (no scheme, port, path, spaces or trailing newline)."""
    try:
        ipaddress.ip_address(text)
        return text
    except ValueError:
        pass
    if not is_host_name(text):
        raise ValueError(f"{what} {text!r} is neither an IP address nor a host name")
    return text


def split_host_port(text: str, what: str) -> tuple[str, int]:
    """``host:port`` or ``[v6]:port`` with the port in 1..65535."""
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise ValueError(f"{what} needs host:port, got {text!r}")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"{what}: {host!r} is not an IPv6 address") from None
    else:
        check_host(host, what)
    if not port.isascii() or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(f"{what}: port {port!r} is not a number in 1..65535")
    return host, int(port)


def check_network(text: str) -> str:
    """A network in CIDR notation or a single address; host bits set are a typo worth naming."""
    try:
        net = ipaddress.ip_network(text, strict=False)
    except ValueError:
        raise ValueError(f"{text!r} is not a network (CIDR, e.g. 10.0.0.0/24) or an address") from None
    if "/" in text and str(net) != text and net.network_address != ipaddress.ip_interface(text).ip:
        raise ValueError(f"{text!r} has host bits set; the network is {net}")
    return text


def check_one_line(text: str, what: str) -> str:
    if any(c in text for c in "\r\n\0"):
        raise ValueError(f"{what} must be on one line (no newline)")
    return text


def check_account_name(name: str, what: str = "account name") -> str:
    """Account names go into password files (``user:hash``) and login prompts."""
    if not name or any(c in name for c in ":\r\n\0") or name != name.strip():
        raise ValueError(f"{what} {name!r} must be non-empty, without ':', newlines or surrounding spaces")
    return name


def normal_mac(mac: str) -> str:
    """aa:bb:cc:dd:ee:ff whatever the separators and case, for comparisons."""
    return ":".join(re.findall(r"[0-9a-f]{2}", re.sub(r"[^0-9a-fA-F]", "", mac).lower()))


# Paths a lab file may name as a folder to write into: never the kernel's own file systems.
_KERNEL_TREES = ("/proc", "/sys", "/dev")


def check_directory(text: str, what: str = "directory") -> str:
    if not text or any(c in text for c in "\r\n\0"):
        raise ValueError(f"{what} must be a path on one line")
    import os
    resolved = os.path.realpath(text) if os.path.isabs(text) else os.path.normpath(text)
    for tree in _KERNEL_TREES:
        for candidate in (os.path.normpath(text), resolved):
            if candidate == tree or candidate.startswith(tree + "/"):
                raise ValueError(f"{what} {text!r} is in {tree}, a kernel file system, not a folder for files")
    return text


def check_visa_resource(text: str) -> str:
    """A VISA resource name pyvisa can parse (TCPIP::host::port::SOCKET, ASRL/dev/ttyUSB0::INSTR,
    USB0::0x1AB1::0x0E11::SERIAL::INSTR, GPIB0::5::INSTR ...), with the TCPIP host and port checked."""
    from pyvisa import rname

    if any(c in text for c in "\r\n\0") or text != text.strip():
        raise ValueError(f"VISA resource {text!r} must be on one line without surrounding spaces")
    try:
        parsed = rname.parse_resource_name(text)
    except Exception as exc:  # pyvisa raises InvalidResourceName (and others) for malformed names
        raise ValueError(f"{text!r} is not a VISA resource name (e.g. TCPIP::10.0.0.5::5025::SOCKET): "
                         f"{str(exc).splitlines()[0]}") from None
    host = getattr(parsed, "host_address", None)
    if host is not None:
        check_host(host, "VISA TCPIP host")
        port = getattr(parsed, "port", None)
        if port is not None and not (str(port).isdigit() and 1 <= int(port) <= 65535):
            raise ValueError(f"VISA resource {text!r}: port {port!r} is not in 1..65535")
    return text
