"""TLS assessment of one endpoint with sslyze, reduced to plain ``TlsFacts``.

The scan is targeted: only the scan commands the crypto policies need (SSL 2.0 to TLS 1.3 cipher
suites, certificate information, supported groups, Heartbleed, ROBOT), not sslyze's default set
(which adds session resumption, renegotiation, compression, fallback SCSV, early data, HTTP
headers, EMS and CCS injection). A live scan and a recorded one take the same path: the scan is
serialised with sslyze's own JSON model (``SslyzeOutputAsJson``, as ``sslyze --json_out``
writes it) and ``facts_from_sslyze_json`` reads facts from that dict. So a recorded sslyze result
(fixtures/tls/*.json, or a JSON a lab saved from the sslyze CLI) is judged exactly like a live one.

sslyze is imported lazily: it loads trust stores and nassl, which the pure checks do not need.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
from typing import Any

from harness.checks.crypto import CertificateFact, CipherSuiteFact, TlsFacts
from harness.links.base import LinkError
from harness.scope import Scope

# sslyze scan command value -> TlsFacts version label
_VERSION_FIELDS = {
    "ssl_2_0_cipher_suites": "SSL 2.0",
    "ssl_3_0_cipher_suites": "SSL 3.0",
    "tls_1_0_cipher_suites": "TLS 1.0",
    "tls_1_1_cipher_suites": "TLS 1.1",
    "tls_1_2_cipher_suites": "TLS 1.2",
    "tls_1_3_cipher_suites": "TLS 1.3",
}
SCAN_COMMANDS = (*_VERSION_FIELDS, "certificate_info", "elliptic_curves", "heartbleed", "robot")
# sslyze records the key's Python class name; cryptography's Rust classes and its older Python
# classes are named differently.
_KEY_TYPES = {"RSAPublicKey": "RSA", "ECPublicKey": "EC", "EllipticCurvePublicKey": "EC",
              "Ed25519PublicKey": "Ed25519", "Ed448PublicKey": "Ed448", "DSAPublicKey": "DSA"}


class TlsUnreachable(LinkError):
    """sslyze could not complete a TLS handshake with the endpoint at all: nothing to judge."""


class TlsScanTimeout(LinkError):
    """The scan did not finish within its overall deadline."""


def scan_tls_results(host: str, port: int, *, scope: Scope, server_name: str | None = None,
                     timeout: float = 10.0, deadline: float | None = None, connections: int = 5,
                     commands: tuple[str, ...] = SCAN_COMMANDS) -> tuple[list[Any], dt.datetime, dt.datetime]:
    """Run sslyze on host:port: its ServerScanResult objects, with the start and end times.

    ``timeout`` is sslyze's per-connection network timeout (whole seconds, at least 1);
    ``deadline`` bounds the whole scan (default: 30 × timeout). ``connections`` caps parallel
    connections to the device (sslyze's default is 5; a small device may want fewer).
    The scope (host and port) is checked before any packet leaves; the address it resolves is the
    one scanned. After a TlsScanTimeout, sslyze's daemon threads finish in the background, each
    of their connections bounded by ``timeout``.
    """
    address = scope.check_target(host, port)
    from sslyze import (
        ScanCommand,
        Scanner,
        ServerNetworkConfiguration,
        ServerNetworkLocation,
        ServerScanRequest,
    )

    location = ServerNetworkLocation(hostname=server_name or host, port=port, ip_address=address)
    config = ServerNetworkConfiguration(tls_server_name_indication=server_name or host,
                                        network_timeout=max(1, round(timeout)))
    request = ServerScanRequest(server_location=location, network_configuration=config,
                                scan_commands={ScanCommand(c) for c in commands})
    scanner = Scanner(per_server_concurrent_connections_limit=connections, concurrent_server_scans_limit=1)
    started = dt.datetime.now(dt.UTC)
    scanner.queue_scans([request])

    # sslyze has no overall timeout: its worker threads are daemons bounded per connection, so
    # the results are collected in a thread we can stop waiting for.
    results: list[Any] = []
    failure: list[BaseException] = []

    def collect() -> None:
        try:
            results.extend(scanner.get_results())
        except BaseException as exc:  # re-raised in the caller's thread
            failure.append(exc)

    worker = threading.Thread(target=collect, name=f"sslyze-{address}:{port}", daemon=True)
    worker.start()
    budget = deadline if deadline is not None else 30 * max(1.0, timeout)
    worker.join(budget)
    if worker.is_alive():
        raise TlsScanTimeout(f"sslyze scan of {address}:{port} did not finish within {budget:g} s")
    if failure:
        raise LinkError(f"sslyze failed on {address}:{port}: {failure[0]!r}") from failure[0]
    return results, started, dt.datetime.now(dt.UTC)


def sslyze_json(results: list[Any], started: dt.datetime, completed: dt.datetime) -> dict[str, Any]:
    """sslyze ServerScanResult objects as sslyze's own JSON output (``SslyzeOutputAsJson``)."""
    from sslyze.json.json_output import ServerScanResultAsJson, SslyzeOutputAsJson

    output = SslyzeOutputAsJson(
        server_scan_results=[ServerScanResultAsJson.model_validate(r) for r in results],
        invalid_server_strings=[], date_scans_started=started, date_scans_completed=completed)
    return output.model_dump(mode="json")


def scan_tls_json(host: str, port: int, *, scope: Scope, server_name: str | None = None,
                  timeout: float = 10.0, deadline: float | None = None, connections: int = 5,
                  commands: tuple[str, ...] = SCAN_COMMANDS) -> dict[str, Any]:
    """Run sslyze on host:port and return its JSON output as a dict (what ``sslyze --json_out``
    writes), e.g. to attach it to a verdict. Arguments as scan_tls_results."""
    return sslyze_json(*scan_tls_results(host, port, scope=scope, server_name=server_name, timeout=timeout,
                                         deadline=deadline, connections=connections, commands=commands))


def assess_tls(host: str, port: int, *, scope: Scope, server_name: str | None = None, timeout: float = 10.0,
               deadline: float | None = None, connections: int = 5) -> TlsFacts:
    """Targeted sslyze scan of one endpoint, as TlsFacts. Raises TlsUnreachable (a LabFault)
    when no TLS connection could be made, OutOfScope before sending anything out of scope."""
    t0 = time.monotonic()
    facts = facts_from_sslyze_json(scan_tls_json(host, port, scope=scope, server_name=server_name,
                                                 timeout=timeout, deadline=deadline, connections=connections))
    facts.seconds = round(time.monotonic() - t0, 3)
    return facts


# --- reading sslyze JSON --------------------------------------------------------------------------

def facts_from_sslyze_json(data: dict[str, Any]) -> TlsFacts:
    """TlsFacts from sslyze JSON: the whole output (one server in it) or one server result.

    The dict is validated with sslyze's own pydantic models first, so a malformed or hand-edited
    recording is refused (ValueError) instead of being half-read.
    """
    from pydantic import ValidationError
    from sslyze.json.json_output import ServerScanResultAsJson, SslyzeOutputAsJson

    scanner, seconds = "sslyze", None
    try:
        if "server_scan_results" in data:
            out = SslyzeOutputAsJson.model_validate(data)
            if len(out.server_scan_results) != 1:
                raise ValueError(f"expected one server in the sslyze output, found {len(out.server_scan_results)}")
            scanner = f"sslyze {out.sslyze_version}"
            seconds = round((out.date_scans_completed - out.date_scans_started).total_seconds(), 3)
            server = out.server_scan_results[0].model_dump(mode="json")
        else:
            server = ServerScanResultAsJson.model_validate(data).model_dump(mode="json")
    except ValidationError as exc:
        raise ValueError(f"not an sslyze JSON result: {exc.error_count()} schema error(s): {exc}") from exc

    location = server["server_location"]
    host, port = location.get("ip_address") or location["hostname"], location["port"]
    if server["connectivity_status"] != "COMPLETED" or server["scan_status"] != "COMPLETED":
        raise TlsUnreachable(f"no TLS connection to {host}:{port}: "
                             f"{_last_line(server.get('connectivity_error_trace')) or server['scan_status']}")
    facts = TlsFacts(host=host, port=port,
                     server_name=server["network_configuration"]["tls_server_name_indication"],
                     scanner=scanner, seconds=seconds)
    attempts = server["scan_result"] or {}
    for fieldname, label in _VERSION_FIELDS.items():
        result = _completed(attempts, fieldname, label, facts)
        if result is not None:
            facts.versions[label] = bool(result["is_tls_version_supported"])
            facts.cipher_suites[label] = [_suite(a) for a in result["accepted_cipher_suites"]]
    cert_info = _completed(attempts, "certificate_info", "certificate", facts)
    if cert_info is not None:
        facts.certificates = [_leaf(d["received_certificate_chain"][0])
                              for d in cert_info["certificate_deployments"] if d["received_certificate_chain"]]
    curves = _completed(attempts, "elliptic_curves", "curves", facts)
    if curves is not None:
        facts.curves = [c["name"] for c in curves.get("supported_curves") or []]
    heartbleed = _completed(attempts, "heartbleed", "heartbleed", facts)
    if heartbleed is not None:
        facts.heartbleed = bool(heartbleed["is_vulnerable_to_heartbleed"])
    robot = _completed(attempts, "robot", "robot", facts)
    if robot is not None:
        facts.robot = str(robot["robot_result"])
    return facts


def _last_line(trace: str | None) -> str:
    lines = [line for line in (trace or "").strip().splitlines() if line.strip()]
    return lines[-1].strip() if lines else ""


def _completed(attempts: dict[str, Any], fieldname: str, part: str, facts: TlsFacts) -> dict[str, Any] | None:
    attempt = attempts.get(fieldname)
    if attempt is None:
        facts.errors[part] = "not in the scan result"
        return None
    if attempt["status"] != "COMPLETED" or attempt.get("result") is None:
        detail = _last_line(attempt.get("error_trace"))
        facts.errors[part] = (f"{attempt['status']}" + (f" {attempt['error_reason']}" if attempt.get("error_reason") else "")
                              + (f": {detail}" if detail else ""))
        return None
    return attempt["result"]


def _suite(accepted: dict[str, Any]) -> CipherSuiteFact:
    suite, key = accepted["cipher_suite"], accepted.get("ephemeral_key")
    return CipherSuiteFact(name=suite["name"], openssl_name=suite.get("openssl_name") or "",
                           key_size=int(suite.get("key_size") or 0), anonymous=bool(suite.get("is_anonymous")),
                           kx_type=key.get("type_name") if key else None,
                           kx_bits=key.get("size") if key else None,
                           kx_curve=key.get("curve_name") if key else None)


def _leaf(cert: dict[str, Any]) -> CertificateFact:
    key = cert["public_key"]
    sig_hash = cert.get("signature_hash_algorithm")
    return CertificateFact(
        key_type=_KEY_TYPES.get(key["algorithm"], key["algorithm"]), key_bits=int(key.get("key_size") or 0),
        curve=key.get("ec_curve_name"),
        signature_algorithm=(cert.get("signature_algorithm_oid") or {}).get("name") or "",
        signature_hash=sig_hash["name"] if sig_hash else None,
        signature_hash_bits=8 * int(sig_hash["digest_size"]) if sig_hash else None,
        not_before=cert.get("not_valid_before"), not_after=cert.get("not_valid_after"),
        subject=(cert.get("subject") or {}).get("rfc4514_string") or "",
        issuer=(cert.get("issuer") or {}).get("rfc4514_string") or "",
        sha256=cert.get("fingerprint_sha256") or "")


__all__ = ["SCAN_COMMANDS", "TlsFacts", "TlsScanTimeout", "TlsUnreachable", "assess_tls",
           "facts_from_sslyze_json", "scan_tls_json", "scan_tls_results", "sslyze_json"]
