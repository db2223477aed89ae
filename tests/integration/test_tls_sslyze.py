"""TLS assessment against real local servers (fixtures/tls/tls_server.py, child processes), one
targeted sslyze scan per server: a modern server PASSes Mozilla intermediate, a legacy one FAILs
with exactly the findings it was built to show. Heartbleed and ROBOT cannot be served locally:
tests/unit/test_crypto_tls.py proves them on recorded sslyze results."""

from __future__ import annotations

import importlib.util
import json
import socket
import sys
import threading
import time
from pathlib import Path

import pytest

from harness.checks.crypto import TlsFacts, judge_tls
from harness.links.tls import TlsScanTimeout, TlsUnreachable, assess_tls
from harness.scope import OutOfScope, Scope
from harness.verdict import Verdict

pytestmark = pytest.mark.integration
SERVER_SCRIPT = Path(__file__).resolve().parents[2] / "fixtures" / "tls" / "tls_server.py"
LOOPBACK = Scope(["127.0.0.0/8"])


def _servers():
    spec = importlib.util.spec_from_file_location("tls_server", SERVER_SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["tls_server"] = module
    spec.loader.exec_module(module)
    return module


SERVERS = _servers()


def scanned(profile: str) -> tuple[TlsFacts, int]:
    with SERVERS.running(profile) as server:
        facts = assess_tls("127.0.0.1", server.port, scope=LOOPBACK, server_name="localhost", timeout=5)
    print(f"\nsslyze targeted scan of {profile}: {facts.seconds:.2f} s, {server.connections} connections")
    return facts, server.connections


@pytest.fixture(scope="module")
def modern() -> tuple[TlsFacts, int]:
    return scanned("modern")


@pytest.fixture(scope="module")
def legacy() -> tuple[TlsFacts, int]:
    return scanned("legacy")


def findings(result) -> list[str]:
    return [e.name for e in result.evidence if e.kind == "finding"]


def test_modern_server_passes_intermediate(modern):
    facts, _ = modern
    assert facts.errors == {}
    assert facts.versions_accepted == ["TLS 1.2", "TLS 1.3"]
    assert [(c.key_type, c.curve, c.signature_hash) for c in facts.certificates] == [("EC", "secp256r1", "sha256")]
    assert facts.heartbleed is False and facts.robot == "NOT_VULNERABLE_RSA_NOT_SUPPORTED"
    for policy in ("rfc8996", "mozilla-intermediate"):
        result = judge_tls(facts, policy)
        assert result.verdict == Verdict.PASS, (policy, result.reason)
    assert "Mozilla modern: TLS 1.2 not allowed" in findings(judge_tls(facts, "mozilla-modern"))


def test_legacy_server_fails_with_the_right_findings(legacy):
    facts, _ = legacy
    assert facts.errors == {}
    assert facts.versions_accepted == ["TLS 1.0", "TLS 1.1", "TLS 1.2", "TLS 1.3"]
    tls10 = {s.openssl_name for s in facts.cipher_suites["TLS 1.0"]}
    assert "AES128-SHA" in tls10
    result = judge_tls(facts)
    assert result.verdict == Verdict.FAIL
    found = findings(result)
    for expected in ("RFC 8996: TLS 1.0 accepted", "RFC 8996: TLS 1.1 accepted",
                     "Mozilla intermediate: cipher TLS_RSA_WITH_AES_128_CBC_SHA not allowed (TLS 1.0, TLS 1.1, TLS 1.2)",
                     "certificate RSA key 1024 bits < 2048",
                     "certificate signature sha1WithRSAEncryption: SHA-1 signature"):
        assert expected in found, (expected, found)
    assert not any("Heartbleed" in f or "ROBOT" in f for f in found)
    assert findings(judge_tls(facts, "rfc8996")) == ["RFC 8996: TLS 1.0 accepted", "RFC 8996: TLS 1.1 accepted"]


def test_scans_are_targeted_and_fast(modern, legacy):
    for facts, connections in (modern, legacy):
        assert facts.seconds is not None and facts.seconds < 30
        assert connections and connections < 2000
        assert TlsFacts.from_dict(json.loads(json.dumps(facts.to_dict()))) == facts


def test_out_of_scope_is_refused_before_anything_is_sent():
    with SERVERS.running("modern") as server:
        with pytest.raises(OutOfScope):
            assess_tls("127.0.0.1", server.port, scope=Scope(["10.0.0.0/8"]))
        with pytest.raises(OutOfScope, match="outside the declared ports"):  # declared host, other port
            assess_tls("127.0.0.1", server.port, scope=Scope(["127.0.0.0/8"], ports={"127.0.0.1": {"tcp/443"}}))
    assert server.connections == 0


def test_closed_port_is_a_lab_fault():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]  # bound, never listening: connection refused
        t0 = time.monotonic()
        with pytest.raises(TlsUnreachable):
            assess_tls("127.0.0.1", port, scope=LOOPBACK, timeout=1)
    assert time.monotonic() - t0 < 15


def test_silent_server_is_a_lab_fault_within_its_deadline():
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:  # accepts and never speaks
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        # sslyze alone gives up after about 11 s at a 1 s network timeout (it retries every TLS
        # version); the overall deadline ends the wait sooner, still as a lab fault.
        t0 = time.monotonic()
        with pytest.raises(TlsScanTimeout):
            assess_tls("127.0.0.1", port, scope=LOOPBACK, timeout=1, deadline=3)
        elapsed = time.monotonic() - t0
        assert 2.9 < elapsed < 6
    finally:
        stop.set()
        thread.join(5)
        for conn in held:
            conn.close()
        listener.close()
    # sslyze's own threads are still connecting; with the port now closed they fail fast. Wait for
    # them, so they do not outlive this test (no thread may format tracebacks at interpreter exit).
    for leftover in [t for t in threading.enumerate() if t.name == f"sslyze-127.0.0.1:{port}"]:
        leftover.join(30)
        assert not leftover.is_alive()
