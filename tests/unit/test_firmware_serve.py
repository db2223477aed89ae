"""harness.firmware.serve: the harness's package server records who fetched what."""

from __future__ import annotations

import socket
import urllib.error
import urllib.request

import pytest

from harness.firmware.serve import PackageServer


def test_offer_fetch_and_record() -> None:
    with PackageServer() as srv:
        data = bytes(range(256)) * 1000
        url = srv.offer(data, "fw 1.5.0.simfw")
        assert url.startswith(f"http://127.0.0.1:{srv.port}/fw/") and url.endswith("/fw%201.5.0.simfw")
        assert srv.wait_for_fetch(url, timeout=0.05) is None  # not fetched yet: silence, not refusal
        with urllib.request.urlopen(url, timeout=5) as resp:
            assert resp.read() == data
        fetch = srv.wait_for_fetch(url, timeout=5)
        assert fetch is not None and fetch.complete and fetch.bytes_sent == len(data)
        assert fetch.status == 200 and fetch.client == "127.0.0.1" and fetch.method == "GET"


def test_unknown_and_withdrawn_paths_are_404() -> None:
    with PackageServer() as srv:
        url = srv.offer(b"abc")
        srv.withdraw(url)
        with pytest.raises(urllib.error.HTTPError) as info:
            urllib.request.urlopen(url, timeout=5)
        assert info.value.code == 404
        record = srv.wait_for_request(url, timeout=5)
        assert record is not None and record.status == 404 and not record.complete
        assert srv.wait_for_fetch(url, timeout=0.05) is None


def test_head_is_recorded_but_is_not_a_fetch() -> None:
    with PackageServer() as srv:
        url = srv.offer(b"abc")
        req = urllib.request.Request(url, method="HEAD")
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert resp.headers["Content-Length"] == "3"
        record = srv.wait_for_request(url, timeout=5)
        assert record is not None and record.method == "HEAD" and [f.method for f in srv.fetches()] == ["HEAD"]
        assert srv.wait_for_fetch(url, timeout=0.05) is None


def test_client_that_hangs_up_is_an_incomplete_fetch() -> None:
    with PackageServer() as srv:
        url = srv.offer(b"x" * (8 << 20))
        path = url.split(str(srv.port), 1)[1]
        with socket.create_connection(("127.0.0.1", srv.port), timeout=5) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            sock.sendall(f"GET {path} HTTP/1.0\r\n\r\n".encode())
            sock.recv(1024)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        record = srv.wait_for_request(url, timeout=5)
        assert record is not None and not record.complete and record.bytes_sent < 8 << 20
        assert srv.wait_for_fetch(url, timeout=0.05) is None


def test_https_with_a_lab_ca_certificate(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Devices that refuse http:// update URLs fetch from the same server over TLS; a client that
    does not trust the lab CA fetches nothing and the failed handshake is recorded."""
    import ssl

    from harness.firmware.serve import https_context
    from harness.lab.ca import LabCA

    ca = LabCA.create(tmp_path / "ca", key_type="ec")
    with PackageServer(tls=https_context(ca, "127.0.0.1", tmp_path / "srv")) as srv:
        url = srv.offer(b"package bytes", "fw.pkg")
        assert url.startswith(f"https://127.0.0.1:{srv.port}/fw/")
        trusting = ssl.create_default_context(cafile=str(ca.ca_path))
        with urllib.request.urlopen(url, timeout=5, context=trusting) as resp:
            assert resp.read() == b"package bytes"
        assert srv.wait_for_fetch(url, timeout=5) is not None
        with pytest.raises(urllib.error.URLError):
            urllib.request.urlopen(url, timeout=5, context=ssl.create_default_context())
        failed = srv.wait_for_tls_failure(5)
        assert failed is not None and not failed.complete
