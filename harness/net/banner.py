"""Banner grabbing: what a TCP service says about itself, read-only and bounded.

Plain first: connect, optionally send ``send``, and read until the peer closes, ``limit`` bytes
are in, the service goes quiet for ``_QUIET`` seconds after it started talking, or ``timeout``
seconds have passed. Services that speak first (SSH, SMTP, FTP, telnet) answer here.

TLS is tried, on a fresh connection, when the plain read

- got nothing: many TLS services wait silently for a ClientHello; or
- got a TLS record (first byte 0x15 alert or 0x16 handshake, then version 0x03 0x00..0x04): the
  service answered our plaintext in TLS, typically with an alert.

The TLS client verifies nothing (no CA, no host name): it only reads, and the certificate is
judged elsewhere (sslyze). It accepts old protocol versions and ciphers for the same reason: the
aim is to hear the device, not to negotiate well. If the handshake fails, the plain result stands
and ``note`` says why. A plain answer that is not a TLS record is kept without trying TLS.

``text`` is the decoded banner with control characters escaped and secrets masked by the
harness redactor, so it may go into evidence as is; ``data`` is the raw bytes.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
import time
import warnings
from dataclasses import dataclass

from harness.net.errors import ProbeError
from harness.redact import REDACTOR
from harness.scope import Scope

_QUIET = 0.3  # once a service has spoken, this long without a byte ends its banner
_CHUNK = 4096


@dataclass
class Banner:
    data: bytes
    text: str
    tls: bool
    tls_version: str | None = None
    cipher: str | None = None
    note: str = ""  # how the plain/TLS decision was made


def looks_like_tls(data: bytes) -> bool:
    """A TLS record header: content type alert (21) or handshake (22), version 3.0 to 3.4."""
    return len(data) >= 3 and data[0] in (0x15, 0x16) and data[1] == 0x03 and data[2] <= 0x04


def printable(data: bytes) -> str:
    text = data.decode("utf-8", errors="replace")
    out = []
    for ch in text:
        if ch in "\r\n\t" or (ch.isprintable() and ch != "\x7f"):
            out.append(ch)
        else:
            out.append(f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
    return "".join(out)


def _read(sock: socket.socket | ssl.SSLSocket, limit: int, deadline: float) -> bytes:
    """Bounded read: until EOF, ``limit`` bytes, ``_QUIET`` s of silence after data, or the deadline."""
    buf = bytearray()
    while len(buf) < limit:  # bounded: every pass reads >= 1 byte or ends
        left = deadline - time.monotonic()
        if left <= 0:
            break
        sock.settimeout(min(left, _QUIET) if buf else left)
        try:
            chunk = sock.recv(min(_CHUNK, limit - len(buf)))
        except (TimeoutError, ssl.SSLWantReadError):
            break
        except ssl.SSLZeroReturnError:  # close_notify: a clean end of the TLS stream
            break
        except (ConnectionResetError, ssl.SSLError):
            break  # the service hung up on us after what it said: keep what it said
        if not chunk:
            break
        buf += chunk
    return bytes(buf)


def _connect(target: str, port: int, timeout: float) -> socket.socket:
    family = socket.AF_INET6 if ipaddress.ip_address(target).version == 6 else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.settimeout(timeout)
    try:
        sock.connect((target, port))
    except ConnectionRefusedError:
        sock.close()
        raise ProbeError(f"tcp/{port} at {target}: connection refused; no banner to read") from None
    except TimeoutError:
        sock.close()
        raise ProbeError(f"tcp/{port} at {target}: no answer to connect within {timeout:g} s") from None
    except OSError as exc:
        sock.close()
        raise ProbeError(f"tcp/{port} at {target}: {exc.strerror or exc}") from None
    return sock


def _tls_context() -> ssl.SSLContext:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    try:  # hear legacy devices too; an OpenSSL build may refuse these settings, then keep defaults
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)  # deliberate: old devices speak TLS 1.0
            ctx.minimum_version = ssl.TLSVersion.TLSv1
        ctx.set_ciphers("ALL:@SECLEVEL=0")
    except (ValueError, ssl.SSLError):
        pass
    return ctx


def _tls_read(host: str, target: str, port: int, timeout: float, send: bytes | None,
              limit: int) -> tuple[bytes, str | None, str | None]:
    sock = _connect(target, port, timeout)
    sni = None if _is_ip(host) else host
    try:
        with _tls_context().wrap_socket(sock, server_hostname=sni, do_handshake_on_connect=False) as tls:
            tls.settimeout(timeout)
            tls.do_handshake()
            deadline = time.monotonic() + timeout
            if send:
                tls.sendall(send)
            data = _read(tls, limit, deadline)
            cipher = tls.cipher()
            return data, tls.version(), cipher[0] if cipher else None
    finally:
        sock.close()


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def grab_banner(address: str, port: int, *, scope: Scope, timeout: float = 2.0, send: bytes | None = None,
                limit: int = 4096) -> Banner:
    """Read what the service at ``address:port`` says first (or in reply to ``send``), plain or
    over TLS (see the module docstring for the decision). Raises OutOfScope before any socket
    exists for an undeclared target, ProbeError when the port cannot be reached."""
    if timeout <= 0 or limit < 1:
        raise ValueError("timeout must be > 0 and limit >= 1")
    target = scope.check_target(address, port, "tcp")
    sock = _connect(target, port, timeout)
    try:
        deadline = time.monotonic() + timeout
        if send:
            try:
                sock.sendall(send)
            except OSError as exc:
                raise ProbeError(f"tcp/{port} at {target}: sending the probe failed: {exc}") from None
        plain = _read(sock, limit, deadline)
    finally:
        sock.close()

    if plain and not looks_like_tls(plain):
        return Banner(plain, REDACTOR.redact(printable(plain)), False,
                      note=f"plain: {len(plain)} bytes, not a TLS record; TLS not tried")
    why = "plain read got nothing" if not plain else "plain read got a TLS record"
    try:
        data, version, cipher = _tls_read(address, target, port, timeout, send, limit)
    except (ssl.SSLError, OSError, ProbeError) as exc:
        return Banner(plain, REDACTOR.redact(printable(plain)), False,
                      note=f"{why}; TLS handshake failed ({type(exc).__name__}: {exc})")
    return Banner(data, REDACTOR.redact(printable(data)), True, version, cipher,
                  note=f"{why}; TLS handshake succeeded ({version}), {len(data)} bytes read over TLS")
