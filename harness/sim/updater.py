"""A unit's update service: every delivery channel (console `update <url>`, MQTT `cmnd/Upgrade`,
HTTPS `POST /api/firmware`) hands it a package or a URL; it fetches, asks the device's verifier
(harness.sim.updates) and, when the package is accepted, has the unit install it and reboot.

The fetch is plain http.client in a worker thread (a blocking client with a timeout per socket
operation, an overall deadline and a size limit is what a device's updater is; an async HTTP client
library would be a new dependency for one GET). The connection leaves from the unit's own address,
as the MQTT client's does, so the package server sees which unit fetched."""

from __future__ import annotations

import asyncio
import http.client
import ssl
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from harness.sim.catalog import MODEL
from harness.sim.unit import Power, Unit
from harness.sim.updates import UpdateParserCrash, UpdateVerifier, load_trusted_key

FETCH_TIMEOUT = 10.0  # real seconds for the whole download (a network timeout, not a device delay)
MAX_DOWNLOAD = 8 << 20  # bytes the unit buffers for a package; larger downloads are refused
CHUNK = 64 << 10


class FetchError(Exception):
    """Why a download failed, in the words the device prints after `fetch failed: `."""


@dataclass(frozen=True)
class UpdateResult:
    outcome: str  # installing | rejected | fetch_failed | crashed | busy
    text: str  # "installing 1.5.0", "rejected: signature invalid", "fetch failed: HTTP 404", …
    version: str | None = None
    reason: str = ""  # the verifier's or the fetch's reason alone

    @property
    def installing(self) -> bool:
        return self.outcome == "installing"


def fetch(url: str, *, source: str | None, trust_ca: Path | None, timeout: float = FETCH_TIMEOUT,
          limit: int = MAX_DOWNLOAD, user_agent: str = "SimIoT-updater") -> bytes:
    """GET `url` (http or https), at most `limit` bytes within `timeout` seconds; FetchError."""
    try:
        parts = urllib.parse.urlsplit(url)
        port = parts.port
    except ValueError:
        raise FetchError(f"bad url {url!r}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FetchError(f"bad url {url!r}: use http://host[:port]/path")
    deadline = time.monotonic() + timeout
    source_address = (source, 0) if source else None
    conn: http.client.HTTPConnection
    if parts.scheme == "https":
        ctx = ssl.create_default_context(cafile=str(trust_ca) if trust_ca else None)
        conn = http.client.HTTPSConnection(parts.hostname, port, timeout=timeout, source_address=source_address,
                                           context=ctx)
    else:
        conn = http.client.HTTPConnection(parts.hostname, port, timeout=timeout, source_address=source_address)
    path = urllib.parse.urlunsplit(("", "", parts.path or "/", parts.query, ""))
    try:
        conn.request("GET", path, headers={"User-Agent": user_agent, "Accept": "application/octet-stream"})
        resp = conn.getresponse()
        if resp.status != 200:
            raise FetchError(f"HTTP {resp.status} {resp.reason}".rstrip())
        declared = resp.getheader("Content-Length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise FetchError(f"package too large ({declared} bytes, at most {limit})")
        data = bytearray()
        while True:  # bounded by the size limit and the deadline
            if time.monotonic() > deadline:
                raise FetchError("timed out")
            chunk = resp.read(CHUNK)
            if not chunk:
                break
            data += chunk
            if len(data) > limit:
                raise FetchError(f"package too large (more than {limit} bytes)")
        return bytes(data)
    except ssl.SSLCertVerificationError as exc:
        raise FetchError(f"certificate verify failed: {exc.verify_message}") from None
    except TimeoutError:
        raise FetchError("timed out") from None
    except http.client.HTTPException as exc:
        raise FetchError(f"bad HTTP response ({type(exc).__name__})") from None
    except OSError as exc:
        raise FetchError(exc.strerror or str(exc)) from None
    finally:
        conn.close()


class Updater:
    def __init__(self, unit: Unit, trusted_key: bytes, trust_ca: Path | None = None) -> None:
        self.unit = unit
        self.trusted = [load_trusted_key(trusted_key)]
        self.trust_ca = trust_ca  # for https:// package URLs: the CA the units trust
        self.address: str | None = None  # the unit's own address, once the network has it
        self._pending: str | None = None  # accepted, install not yet started (one update at a time)

    def verifier(self) -> UpdateVerifier:
        b = self.unit.behaviour
        return UpdateVerifier(self.trusted, self.unit.firmware, MODEL, accepts_unsigned=b.update_accepts_unsigned,
                              accepts_tampered=b.update_accepts_tampered, accepts_rollback=b.update_accepts_rollback,
                              crashes_on_malformed=b.crashes_on_malformed)

    async def from_url(self, url: str) -> UpdateResult:
        """Fetch (off the event loop), then `offer`. On the event loop."""
        try:
            data = await asyncio.to_thread(fetch, url, source=self.address, trust_ca=self.trust_ca,
                                           user_agent=f"SimIoT-updater/{self.unit.firmware}")
        except FetchError as exc:
            return UpdateResult("fetch_failed", f"fetch failed: {exc}", reason=str(exc))
        return self.offer(data)

    def offer(self, data: bytes) -> UpdateResult:
        """Decide on a package; an accepted one is installed once the caller has answered (the
        install starts on the next turn of the event loop). On the event loop."""
        unit = self.unit
        if unit.power is not Power.RUNNING or self._pending is not None:
            return UpdateResult("busy", "busy: the unit is not ready for an update", reason="busy")
        try:
            decision = self.verifier().check(data)
        except UpdateParserCrash as exc:
            unit.crash(str(exc))
            return UpdateResult("crashed", "crashed", reason=str(exc))
        if not decision.accepted:
            return UpdateResult("rejected", f"rejected: {decision.reason}", decision.version, decision.reason)
        assert decision.version is not None
        self._pending = decision.version
        asyncio.get_running_loop().call_soon(self._install)
        return UpdateResult("installing", f"installing {decision.version}", decision.version)

    def _install(self) -> None:
        version, self._pending = self._pending, None
        if version is not None:
            self.unit.install_update(version)
