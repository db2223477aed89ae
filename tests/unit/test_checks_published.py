"""Published documents (5.2-1-2, 5.3-13-2, issue 10 item 8): per-unit URLs, a lab-fetched copy
with its URL, date and hash recorded, and a page served over weak TLS that is still read."""

from __future__ import annotations

import hashlib
import http.server
import ssl
import threading
import warnings
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from harness.cases.disclosure import fetch_published, lab_copy, published_urls
from harness.checks.disclosure import judge_policy_published
from harness.checks.published import FetchedDocument
from harness.checks.support import judge_support_published
from harness.scope import Scope

NOW = datetime(2026, 6, 1)
POLICY = ("Report vulnerabilities to security@example.com. We acknowledge every report within 5 working "
          "days and send status updates every 14 days until it is resolved.\n")


def _bench(tmp: Path, copies: list[dict[str, Any]] | None = None) -> Any:
    units = [SimpleNamespace(id=f"U{i}", serial=f"SN-{i}", mac=None) for i in (1, 2)]
    return SimpleNamespace(
        profile=SimpleNamespace(units=units, product=SimpleNamespace(model_dump=lambda: {"model": "X"})),
        lab=SimpleNamespace(fetch=SimpleNamespace(copies=copies or [])),
        address=lambda uid: {"U1": "127.0.0.1", "U2": "127.0.0.2"}[uid],
        resolve=lambda v, where="": v, base_dir=tmp)


def test_unit_templates_give_one_url_per_unit(tmp_path: Path) -> None:
    bench = _bench(tmp_path)
    assert published_urls(bench, "https://{{unit.address}}/.well-known/security.txt") == [
        "https://127.0.0.1/.well-known/security.txt", "https://127.0.0.2/.well-known/security.txt"]
    assert published_urls(bench, "https://example.com/support/{{unit.serial}}") == [
        "https://example.com/support/SN-1", "https://example.com/support/SN-2"]
    assert published_urls(bench, "https://example.com/p") == ["https://example.com/p"]


def _copy(tmp: Path, text: str, **over: Any) -> dict[str, Any]:
    f = tmp / "policy.txt"
    f.write_text(text, encoding="utf-8")
    entry = {"url": "https://maker.example/psirt", "file": "policy.txt", "fetched": "2026-05-30",
             "sha256": hashlib.sha256(text.encode()).hexdigest()}
    entry.update(over)
    return entry


def test_a_lab_copy_is_read_with_its_provenance(tmp_path: Path) -> None:
    bench = _bench(tmp_path, [_copy(tmp_path, POLICY)])
    doc = lab_copy(bench, "https://maker.example/psirt", "no route to host")
    assert doc is not None and doc.error is None and doc.source == "lab copy"
    assert "fetched 2026-05-30" in doc.note and hashlib.sha256(POLICY.encode()).hexdigest() in doc.note
    r = judge_policy_published([doc], {}, now=NOW)
    assert r.verdict == "PASS"
    row = r.evidence[0].data
    assert row["source"] == "lab copy" and "no route to host" in row["note"]


def test_a_lab_copy_not_matching_its_hash_or_without_date_is_not_used(tmp_path: Path) -> None:
    tampered = _bench(tmp_path, [_copy(tmp_path, POLICY, sha256="0" * 64)])
    doc = lab_copy(tampered, "https://maker.example/psirt", "offline")
    assert doc is not None and doc.error and "sha256" in doc.error
    assert judge_policy_published([doc], {}, now=NOW).verdict == "INCONCLUSIVE"
    undated = _bench(tmp_path, [_copy(tmp_path, POLICY, fetched=None)])
    doc = lab_copy(undated, "https://maker.example/psirt", "offline")
    assert doc is not None and doc.error and "fetch date" in doc.error
    assert lab_copy(_bench(tmp_path), "https://maker.example/psirt", "offline") is None


def test_the_live_page_wins_and_an_unreachable_one_falls_back_to_the_copy(tmp_path: Path) -> None:
    bench = _bench(tmp_path, [_copy(tmp_path, POLICY, url="http://127.0.0.1:9/psirt")])
    # Port 9 (discard) on loopback: nothing listens, the live fetch fails, the copy is used.
    doc = fetch_published(bench, "http://127.0.0.1:9/psirt", Scope(["127.0.0.1"], timeout=2.0), None)
    assert doc.source == "lab copy" and doc.status == 200


def test_a_support_page_from_a_copy_keeps_its_provenance() -> None:
    doc = FetchedDocument("https://maker.example/eol", 200, "text/plain", "Security updates until 31 December 2030.",
                          source="lab copy", note="lab copy eol.txt, fetched 2026-05-30, sha256 ab")
    r = judge_support_published(doc, "2030-12-31")
    assert r.verdict == "PASS" and r.evidence[0].data["source"] == "lab copy"


# -- weak TLS ----------------------------------------------------------------------------------------
class _Page(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        body = POLICY.encode()
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def weak_tls_site(tmp_path: Path) -> Iterator[tuple[str, str]]:
    from harness.sim.certs import SimCA

    certs = SimCA().issue(["127.0.0.1"])
    (tmp_path / "ca.pem").write_bytes(certs.ca_pem)
    (tmp_path / "cert.pem").write_bytes(certs.cert_pem)
    (tmp_path / "key.pem").write_bytes(certs.key_pem)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            ctx.minimum_version = ssl.TLSVersion.TLSv1
            ctx.maximum_version = ssl.TLSVersion.TLSv1_1
    except (ValueError, ssl.SSLError) as exc:
        pytest.skip(f"this OpenSSL cannot serve TLS 1.0/1.1: {exc}")
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Page)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"https://127.0.0.1:{server.server_address[1]}/psirt", str(tmp_path / "ca.pem")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


def test_a_page_over_weak_tls_is_read_and_the_weakness_recorded(weak_tls_site: tuple[str, str],
                                                               tmp_path: Path) -> None:
    url, ca = weak_tls_site
    doc = fetch_published(_bench(tmp_path), url, Scope(["127.0.0.1"], timeout=5.0), ca)
    if doc.error:
        pytest.skip(f"this OpenSSL refuses TLS 1.0/1.1 even at security level 0: {doc.error}")
    assert doc.status == 200 and "weak TLS" in doc.note and doc.source == "fetched"
    r = judge_policy_published([doc], {}, now=NOW)
    assert r.verdict == "PASS" and "weak TLS" in r.evidence[0].data["note"]


def test_weak_tls_never_bypasses_the_certificate(weak_tls_site: tuple[str, str], tmp_path: Path) -> None:
    url, _ = weak_tls_site
    from harness.sim.certs import SimCA
    other = tmp_path / "other-ca.pem"
    other.write_bytes(SimCA().ca_pem)
    doc = fetch_published(_bench(tmp_path), url, Scope(["127.0.0.1"], timeout=5.0), str(other))
    assert doc.error  # an untrusted certificate stays unread, whatever the protocol version
