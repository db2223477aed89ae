"""HTTP(S) client for device web APIs and published documents (security.txt, support pages).

Published documents are fetched with urllib (small, no session). A device's web API is driven with
httpx: Basic and Digest auth, multipart uploads and a cookie jar come from the client library, not
from hand-made headers. Both trust exactly the CA given (the lab CA of the bench) and contact only
addresses in scope.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.request
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from harness.links.transcript import Transcript
from harness.scope import OutOfScope, Scope

_MAX_BODY = 2 << 20


@dataclass
class HttpResponse:
    url: str
    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    text: str = ""
    error: str | None = None  # a lab-side failure (timeout, TLS, connection): not a device verdict
    sent: bool = True  # False: the client refused to build the request (nothing reached the device)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")


def _context(ca: str | None, verify: bool, legacy: bool = False) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=ca) if ca else ssl.create_default_context()
    if legacy:
        # Driving a device's API must work whatever its TLS strength (1024-bit keys, TLS 1.0):
        # judging that strength is 5.5-1-2's job, with sslyze. Chain and name are still verified.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        with warnings.catch_warnings():  # TLS 1.0 is deprecated: that is why a device may still speak it
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.minimum_version = ssl.TLSVersion.TLSv1
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def fetch(url: str, scope: Scope, *, ca: str | None = None, verify: bool = True, timeout: float = 10.0,
          method: str = "GET", body: str | None = None, headers: dict[str, str] | None = None,
          legacy_tls: bool = False) -> HttpResponse:
    """Fetch without credentials. Out-of-scope raises OutOfScope before any packet is sent."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return HttpResponse(url, error=f"not an http(s) URL: {url!r}")
    scope.check_host(parts.hostname)
    req = urllib.request.Request(url, method=method, data=body.encode() if body is not None else None,
                                 headers={"User-Agent": "iot-conformance-harness", **(headers or {})})
    # Redirects could leave the scope: follow none automatically.
    opener = urllib.request.build_opener(_NoRedirect, urllib.request.HTTPSHandler(context=_context(ca, verify, legacy_tls)))
    try:
        with opener.open(req, timeout=timeout) as resp:
            raw = resp.read(_MAX_BODY)
            return HttpResponse(url, resp.status, dict(resp.headers), raw.decode("utf-8", errors="replace"))
    except urllib.error.HTTPError as exc:
        raw = exc.read(_MAX_BODY) if exc.fp else b""
        return HttpResponse(url, exc.code, dict(exc.headers or {}), raw.decode("utf-8", errors="replace"))
    except OutOfScope:
        raise
    except (urllib.error.URLError, TimeoutError, OSError, ssl.SSLError) as exc:
        reason = getattr(exc, "reason", exc)
        return HttpResponse(url, error=f"{type(reason).__name__}: {reason}")


def _scoped_transport(context: ssl.SSLContext, scope: Scope) -> Any:
    """An httpx transport whose every TCP connection goes to the address the scope agreed to: a
    host name the lab maps (`hosts:`) is never looked up, an undeclared one never leaves (the
    certificate is still verified against the name in the URL)."""
    import httpcore
    import httpx

    class ScopedBackend(httpcore.SyncBackend):
        def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                        local_address: str | None = None, socket_options: Any = None) -> Any:
            return super().connect_tcp(scope.check_host(host), port, timeout=timeout, local_address=local_address,
                                       socket_options=socket_options)

    transport = httpx.HTTPTransport(verify=context)
    transport._pool = httpcore.ConnectionPool(ssl_context=context, http1=True, http2=False,
                                              network_backend=ScopedBackend())
    return transport


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        return None


class HttpLink:
    """A device's web API as procedure steps use it: one client per unit, so cookies a login answer
    sets are sent by the later steps (a web session), with the lab CA and the bench scope."""

    kind = "http"

    def __init__(self, name: str, base_url: str, scope: Scope, *, ca: str | None = None, verify: bool = True,
                 timeout: float = 10.0, transcript_dir: str | None = None, **_: object) -> None:
        self.name = name
        self.base_url = base_url
        self.scope = scope
        self.ca = ca
        self.verify = verify
        self.timeout = timeout
        self.transcript = Transcript(name, transcript_dir)
        self._client: Any = None

    def open(self) -> HttpLink:
        return self

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        self.transcript.close()

    @property
    def client(self) -> Any:
        if self._client is None:
            import httpx  # imported when a profile drives a web API, not at harness start
            context = _context(self.ca, self.verify, legacy=True)
            # Redirects could leave the scope: follow none automatically.
            self._client = httpx.Client(verify=context, follow_redirects=False, trust_env=False,
                                        transport=_scoped_transport(context, self.scope),
                                        headers={"User-Agent": "iot-conformance-harness"})
        return self._client

    def forget_session(self) -> None:
        """Drop the cookies of the web session (a logout, a factory reset)."""
        if self._client is not None:
            self._client.cookies.clear()

    @property
    def cookies(self) -> dict[str, str]:
        return {} if self._client is None else dict(self._client.cookies.items())

    def request(self, method: str, path: str, *, body: str | bytes | None = None, timeout: float | None = None,
                headers: dict[str, str] | None = None, secret: bool = False, query: dict[str, str] | None = None,
                form: dict[str, str] | None = None, json_body: Any = None,
                files: dict[str, tuple[str, bytes, str]] | None = None, auth: Auth | None = None,
                on_response: Callable[[HttpResponse], None] | None = None, secret_url: bool = False) -> HttpResponse:
        """One request. ``on_response`` sees the answer before the transcript does: a token it
        captures is registered as a secret and never written in clear."""
        import httpx

        url = urljoin(self.base_url, path)
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return HttpResponse(url, error=f"not an http(s) URL: {url!r}")
        self.scope.check_host(parts.hostname)
        shown = url + (("?" + urlencode(query)) if query else "")
        if secret_url:
            # A password in the query (Tasmota-style ?user=…&password=…) is shown as a marker only.
            has_query = bool(query or parts.query)
            shown = f"{parts.scheme}://{parts.netloc}" + (f"{parts.path}?«secret query»" if has_query else "«secret path»")
        self.transcript.sent(f"{method} {shown}" + (f" (auth {auth.scheme} as {auth.user})" if auth else ""),
                             secret=False)
        for hname, hvalue in (headers or {}).items():
            self.transcript.sent(f"{hname}: {hvalue}", secret=secret)
        if json_body is not None:
            self.transcript.sent(json.dumps(json_body), secret=secret)
        elif form is not None and not files:
            self.transcript.sent(urlencode(form), secret=secret)
        elif isinstance(body, str) and body:
            self.transcript.sent(body, secret=secret)
        if files:
            listed = ", ".join(f"{field}={name} ({len(data)} bytes)" for field, (name, data, _) in files.items())
            self.transcript.sent(f"multipart: {listed}" + (f"; fields {sorted(form)}" if form else ""))
        elif isinstance(body, bytes):
            self.transcript.sent(f"«{len(body)} bytes of binary body»")
        kwargs: dict[str, Any] = {"params": query or None, "headers": headers or None}
        if json_body is not None:
            kwargs["json"] = json_body
        elif files:
            kwargs["files"] = files
            kwargs["data"] = form or None
        elif form is not None:
            kwargs["data"] = form
        elif body is not None:
            kwargs["content"] = body
        client_auth = None
        if auth is not None:
            client_auth = (httpx.DigestAuth if auth.scheme == "digest" else httpx.BasicAuth)(auth.user, auth.password)
        try:
            request = self.client.build_request(method, url, timeout=timeout or self.timeout, **kwargs)
        except (httpx.InvalidURL, ValueError, TypeError) as exc:
            self.transcript.note(f"not sent: {exc}")
            return HttpResponse(url, error=f"not sent: {exc}", sent=False)
        try:
            raw = self.client.send(request, auth=client_auth)
            data = raw.content[:_MAX_BODY]
            resp = HttpResponse(url, raw.status_code, dict(raw.headers), data.decode("utf-8", errors="replace"))
        except httpx.HTTPError as exc:
            resp = HttpResponse(url, error=f"{type(exc).__name__}: {exc}")
        except (OSError, ssl.SSLError) as exc:
            resp = HttpResponse(url, error=f"{type(exc).__name__}: {exc}")
        if on_response is not None and resp.error is None:
            on_response(resp)
        self.transcript.received(f"HTTP {resp.status} {resp.error or ''}\n{resp.text[:2000]}\n")
        return resp


@dataclass(frozen=True)
class Auth:
    """HTTP authentication of one request, done by the client library (challenge and response)."""

    scheme: str  # basic | digest
    user: str
    password: str = field(repr=False)


__all__ = ["Auth", "HttpLink", "HttpResponse", "OutOfScope", "fetch"]
