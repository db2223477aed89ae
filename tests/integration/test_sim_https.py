"""The simulator's HTTPS documents, verified against the lab CA it publishes."""

from __future__ import annotations

import datetime as dt
import http.client
import ssl
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from test_sim_support import SimProcess

pytestmark = pytest.mark.integration


def opener(ctx: ssl.SSLContext) -> urllib.request.OpenerDirector:
    # No proxy from the environment: the simulator is on 127.0.0.1.
    return urllib.request.build_opener(urllib.request.ProxyHandler({}), urllib.request.HTTPSHandler(context=ctx))


def get(sim: SimProcess, url: str) -> tuple[int, str, str]:
    ctx = ssl.create_default_context(cafile=sim.runtime["https"]["ca"])
    try:
        with opener(ctx).open(url, timeout=5) as resp:
            return resp.status, resp.headers.get("Content-Type", ""), resp.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, "", ""


def fields(text: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.partition(":")
            out.setdefault(name.strip().lower(), []).append(value.strip())
    return out


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    with SimProcess(tmp_path_factory.mktemp("sim-https"), units=1) as s:
        yield s


def test_runtime_urls_and_ca(sim: SimProcess) -> None:
    https = sim.runtime["https"]
    base = https["base_url"]
    assert base.startswith("https://127.0.0.1:")
    assert https["security_txt"] == f"{base}/.well-known/security.txt"
    assert https["policy"] == f"{base}/security/policy" and https["support"] == f"{base}/support"
    ca = Path(https["ca"])
    assert ca == sim.run_dir.resolve() / "lab-ca.pem" and b"PRIVATE KEY" not in ca.read_bytes()
    assert not list(sim.run_dir.glob("*.key"))


def test_certificate_verifies_for_ip_and_localhost(sim: SimProcess) -> None:
    port = int(sim.runtime["https"]["base_url"].rsplit(":", 1)[1])
    ctx = ssl.create_default_context(cafile=sim.runtime["https"]["ca"])
    for host in ("127.0.0.1", "localhost"):
        conn = http.client.HTTPSConnection(host, port, context=ctx, timeout=5)
        try:
            conn.request("GET", "/support")
            assert conn.getresponse().status == 200
        finally:
            conn.close()
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):  # not trusted without the lab CA
        opener(ssl.create_default_context()).open(sim.runtime["https"]["support"], timeout=5)


def test_security_txt_is_rfc9116(sim: SimProcess) -> None:
    https = sim.runtime["https"]
    status, ctype, text = get(sim, https["security_txt"])
    assert status == 200 and ctype.startswith("text/plain") and "charset=utf-8" in ctype
    f = fields(text)
    assert "mailto:security@simiot.example" in f["contact"]
    assert any(c.startswith("https://") for c in f["contact"])
    expires = dt.datetime.strptime(f["expires"][0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert dt.timedelta(days=360) < expires - dt.datetime.now(dt.UTC) < dt.timedelta(days=370)
    assert f["policy"] == [https["policy"]] and f["preferred-languages"] == ["en"]
    assert f["canonical"] == [https["security_txt"]]


def test_policy_support_and_404(sim: SimProcess) -> None:
    https = sim.runtime["https"]
    status, ctype, policy = get(sim, https["policy"])
    assert status == 200 and ctype.startswith("text/html")
    assert "We acknowledge every report within 5 working days." in policy
    assert "We send status updates at least every 30 days until the issue is resolved." in policy
    status, _, support = get(sim, https["support"])
    assert status == 200 and '<time datetime="2030-12-31">' in support
    assert "Security updates for the SimIoT Hub H1 are provided until" in support and "31 December 2030" in support
    assert get(sim, https["base_url"] + "/admin")[0] == 404
    assert get(sim, https["base_url"] + "/")[0] == 404


def test_document_defects(tmp_path: Path) -> None:
    defects = ("security_txt_no_contact", "policy_no_timelines", "support_period_no_end_date")
    with SimProcess(tmp_path / "a", units=1, defects=defects) as sim:
        https = sim.runtime["https"]
        status, _, text = get(sim, https["security_txt"])
        assert status == 200 and "contact" not in fields(text) and "expires" in fields(text)
        _, _, policy = get(sim, https["policy"])
        assert "security@simiot.example" in policy and "acknowledge" not in policy and "status updates" not in policy
        _, _, support = get(sim, https["support"])
        assert "2030" not in support and "<time" not in support
    with SimProcess(tmp_path / "b", units=1, defects=("security_txt_expired",)) as sim:
        _, _, text = get(sim, sim.runtime["https"]["security_txt"])
        expires = dt.datetime.strptime(fields(text)["expires"][0], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
        assert expires < dt.datetime.now(dt.UTC)
    with SimProcess(tmp_path / "c", units=1, defects=("no_security_txt",)) as sim:
        assert get(sim, sim.runtime["https"]["security_txt"])[0] == 404
        assert get(sim, sim.runtime["https"]["policy"])[0] == 200


def test_legacy_documents(tmp_path: Path) -> None:
    with SimProcess(tmp_path, persona="legacy", units=1) as sim:
        https = sim.runtime["https"]
        assert get(sim, https["security_txt"])[0] == 404
        _, _, support = get(sim, https["support"])
        assert "We support our products for as long as commercially reasonable." in support and "2030" not in support
