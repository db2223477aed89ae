"""Simulator v3, firmware updates over each delivery channel: the console's `update <url>` (fetched
from the harness's own PackageServer), MQTT `cmnd/Upgrade <url>` through a real Mosquitto, and
HTTPS `POST /api/firmware`. The harness's campaign (flip_byte, strip_signature, foreign_signature,
relabel_version, valid, rollback — derived with harness.firmware from the package the simulator
publishes) runs on every channel, compliant and with each update defect: each switch lets exactly
its own kinds in."""

from __future__ import annotations

import http.client
import json
import re
import ssl
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_sim_mqtt import PASSWORD, USER, Mosquitto, Subscriber
from test_sim_network import api, token
from test_sim_support import LOGIN_PROMPT, PROMPT, ROOT, Console, SimProcess, supply

from harness.cli import SUITE_PLUGIN_OPTIONS
from harness.firmware import derive
from harness.firmware.serve import PackageServer

pytestmark = pytest.mark.integration
TIMEOUT = 10.0
BAD = ("flip_byte", "strip_signature", "foreign_signature", "relabel_version")
SIG, UNSIGNED = "signature invalid", "unsigned package"


def older(offered: str, installed: str) -> str:
    return f"version {offered} older than installed {installed}"


# The harness's campaign in its order: (kind, what the unit says, version installed afterwards).
CAMPAIGNS: dict[str, list[tuple[str, str, str]]] = {
    "compliant": [("flip_byte", SIG, "1.4.2"), ("strip_signature", UNSIGNED, "1.4.2"),
                  ("foreign_signature", SIG, "1.4.2"), ("relabel_version", SIG, "1.4.2"),
                  ("valid", "installing 1.5.0", "1.5.0"), ("rollback", older("1.4.1", "1.5.0"), "1.5.0")],
    "accepts_unsigned": [("flip_byte", SIG, "1.4.2"), ("strip_signature", "installing 1.5.0", "1.5.0"),
                         ("foreign_signature", SIG, "1.5.0"), ("relabel_version", SIG, "1.5.0"),
                         ("valid", "installing 1.5.0", "1.5.0"), ("rollback", older("1.4.1", "1.5.0"), "1.5.0")],
    "accepts_tampered": [("flip_byte", "installing 1.5.0", "1.5.0"), ("strip_signature", UNSIGNED, "1.5.0"),
                         ("foreign_signature", "installing 1.5.0", "1.5.0"),
                         ("relabel_version", "installing 1.5.1", "1.5.1"),
                         ("valid", older("1.5.0", "1.5.1"), "1.5.1"), ("rollback", older("1.4.1", "1.5.1"), "1.5.1")],
    "accepts_rollback": [("flip_byte", SIG, "1.4.2"), ("strip_signature", UNSIGNED, "1.4.2"),
                         ("foreign_signature", SIG, "1.4.2"), ("relabel_version", SIG, "1.4.2"),
                         ("valid", "installing 1.5.0", "1.5.0"), ("rollback", "installing 1.4.1", "1.4.1")],
}


@pytest.fixture(scope="module")
def broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Mosquitto]:
    b = Mosquitto(tmp_path_factory.mktemp("mosquitto"))
    try:
        yield b
    finally:
        b.stop()


@pytest.fixture(scope="module")
def packages() -> Iterator[PackageServer]:
    with PackageServer("127.0.0.1") as server:
        yield server


def campaign_packages(sim: SimProcess) -> dict[str, bytes]:
    valid = Path(sim.runtime["firmware"]["valid"]).read_bytes()
    out = {kind: derive(valid, kind) for kind in BAD}
    out["valid"] = valid
    out["rollback"] = Path(sim.runtime["firmware"]["older"]).read_bytes()
    return out


def logged_in(sim: SimProcess, uid: str) -> Console:
    con = sim.console(uid)
    con.attention()
    assert con.login(sim.label(uid)).endswith(PROMPT)
    return con


def console_version(con: Console) -> str:
    out = con.run("version")
    m = re.search(r"firmware (\S+)\r\n", out)
    assert m, out
    return m.group(1)


def relogin_after_install(sim: SimProcess, con: Console, uid: str, version: str) -> None:
    """The unit's own console: the install, the reboot into it, a login again."""
    con.expect(re.escape(f"update: installing {version}\r\nRebooting...\r\n"))
    seen = con.expect(LOGIN_PROMPT, timeout=TIMEOUT)
    assert f"firmware {version} (serial" in seen  # the boot log names the new version
    assert con.login(sim.label(uid)).endswith(PROMPT)


def post_firmware(sim: SimProcess, uid: str, body: bytes, bearer: str | None) -> tuple[int, Any]:
    address = sim.runtime["units"][uid]["address"]
    conn = http.client.HTTPSConnection(address, 8443, timeout=TIMEOUT,
                                       context=ssl.create_default_context(cafile=sim.runtime["https"]["ca"]))
    headers = {"Content-Type": "application/octet-stream"}
    if bearer:
        headers["Authorization"] = f"Bearer {bearer}"
    try:
        conn.request("POST", "/api/firmware", body=body, headers=headers)
        resp = conn.getresponse()
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


# -- the three channels, one round each ------------------------------------------------------------
def round_console(sim: SimProcess, con: Console, url: str, said: str) -> None:
    if said.startswith("installing"):
        con.send(f"update {url}")
        con.expect(re.escape(f"update: fetching {url}\r\n"))
        relogin_after_install(sim, con, "U1", said.split()[1])
    else:
        assert con.run(f"update {url}") == f"update {url}\r\nupdate: fetching {url}\r\nupdate: rejected: {said}\r\n{PROMPT}"


def round_mqtt(sim: SimProcess, con: Console, watch: Subscriber, url: str, said: str) -> str:
    topic = "simiot/SIM-C-0002"
    watch.sync()
    watch.publish(f"{topic}/cmnd/Upgrade", url)
    reply = json.loads(watch.next(f"{topic}/stat/RESULT", TIMEOUT))
    assert reply == {"Upgrade": said if said.startswith("installing") else f"rejected: {said}"}
    if said.startswith("installing"):
        con.expect(re.escape(f"update: installing {said.split()[1]}\r\nRebooting...\r\n"))
        con.expect("mqtt: connected\r\n", timeout=TIMEOUT)  # back, commands reach it again
    watch.sync()
    watch.publish(f"{topic}/cmnd/Version", "")
    return json.loads(watch.next(f"{topic}/stat/RESULT"))["Version"]


def round_https(sim: SimProcess, con: Console, body: bytes, said: str) -> str:
    status, answer = post_firmware(sim, "U3", body, token(sim, "U3"))
    if said.startswith("installing"):
        assert (status, answer) == (200, {"result": "installing", "version": said.split()[1]})
        con.expect(re.escape(f"update: installing {said.split()[1]}\r\n"))
        con.expect(LOGIN_PROMPT, timeout=TIMEOUT)
    else:
        assert (status, answer) == (400, {"error": said})
    return api(sim, "GET", "/api/status", token=token(sim, "U3"), uid="U3")[2]["firmware"]


@pytest.mark.parametrize("scenario", list(CAMPAIGNS))
def test_update_campaign_on_every_channel(tmp_path: Path, broker: Mosquitto, packages: PackageServer,
                                          scenario: str) -> None:
    defects = () if scenario == "compliant" else (scenario,)
    with SimProcess(tmp_path, defects=defects, extra=("--trust-ca", str(broker.ca))) as sim, \
            logged_in(sim, "U1") as con1, logged_in(sim, "U2") as con2, sim.console("U3") as con3:
        pkgs = campaign_packages(sim)
        assert con2.run(f"mqtt connect mqtts://localhost:{broker.tls} {USER} {PASSWORD}").endswith(PROMPT)
        con2.expect("mqtt: connected\r\n", timeout=TIMEOUT)
        watch = Subscriber(broker.plain)
        try:
            for kind, said, after in CAMPAIGNS[scenario]:
                url = packages.offer(pkgs[kind], f"{scenario}-{kind}.simfw")
                round_console(sim, con1, url, said)
                assert console_version(con1) == after, (kind, "console")
                fetch = packages.wait_for_fetch(url, TIMEOUT)
                assert fetch is not None and fetch.client == sim.runtime["units"]["U1"]["address"]
                url = packages.offer(pkgs[kind], f"{scenario}-{kind}-mqtt.simfw")
                assert round_mqtt(sim, con2, watch, url, said) == after, (kind, "mqtt")
                assert round_https(sim, con3, pkgs[kind], said) == after, (kind, "https")
        finally:
            watch.close()
    # The installed version is flash: it survives a restart of the simulator.
    with SimProcess(tmp_path, defects=defects) as again, logged_in(again, "U1") as con:
        assert console_version(con) == CAMPAIGNS[scenario][-1][2]


def test_published_packages_and_trust_anchor(tmp_path: Path) -> None:
    with SimProcess(tmp_path, units=1) as sim:
        fw = sim.runtime["firmware"]
        fixtures = ROOT / "fixtures" / "firmware"
        assert Path(fw["valid"]).read_bytes() == (fixtures / "simiot-h1-1.5.0.simfw").read_bytes()
        assert Path(fw["signing_key"]).read_bytes() == (fixtures / "manufacturer-test.key").read_bytes()
        assert Path(fw["signing_key"]).stat().st_mode & 0o777 == 0o600
        assert Path(fw["public_key"]).read_bytes() == (fixtures / "manufacturer-test.pub").read_bytes()
        for name in ("manufacturer-test.key", "manufacturer-test.pub", "payload-1.5.0.bin"):  # package data
            assert (ROOT / "harness" / "sim" / "data" / name).read_bytes() == (fixtures / name).read_bytes()
        from harness.firmware import inspect_package, load_public_key, parse_package, verify
        older = Path(fw["older"]).read_bytes()
        assert inspect_package(older)["header"]["version"] == "1.4.1"
        assert verify(parse_package(older), [load_public_key(fw["public_key"])]).valid


def test_fetch_failures_usage_and_authentication(tmp_path: Path, packages: PackageServer) -> None:
    with SimProcess(tmp_path, units=1) as sim, logged_in(sim, "U1") as con:
        missing = packages.base_url + "/fw/nothing-here.simfw"
        assert con.run(f"update {missing}").endswith(
            f"update: fetching {missing}\r\nupdate: fetch failed: HTTP 404 Not Found\r\n{PROMPT}")
        with PackageServer("127.0.0.1") as gone:
            closed = gone.base_url + "/fw/x"
        assert con.run(f"update {closed}").endswith(f"update: fetch failed: Connection refused\r\n{PROMPT}")
        assert con.run("update ftp://example/x").endswith(
            f"update: fetch failed: bad url 'ftp://example/x': use http://host[:port]/path\r\n{PROMPT}")
        assert con.run("update").endswith(f"update: usage: update <url>\r\n{PROMPT}")
        valid = Path(sim.runtime["firmware"]["valid"]).read_bytes()
        assert post_firmware(sim, "U1", valid, None)[0] == 401
        assert post_firmware(sim, "U1", valid, "not-a-token")[0] == 401
        assert console_version(con) == "1.4.2"
        status, answer = post_firmware(sim, "U1", valid[:100], token(sim))  # compliant: refused, alive
        assert (status, answer) == (400, {"error": "malformed package"})
        assert console_version(con) == "1.4.2"


def test_power_cut_during_an_install_keeps_the_old_firmware(tmp_path: Path, packages: PackageServer) -> None:
    """Flaky under load once (2 of ~45 runs), for two reasons in the test, none in the simulator:
    the unit boots as soon as the simulator powers it, before it is ready, so a test process that
    opened the console more than one boot later (pyserial's open also flushes what was printed) waited
    in vain for a login prompt; and a cut sent more than one install time after "installing" met a
    unit already booting the new firmware. Now the prompt is asked for, and the cut is proven to hit
    the install: the load is read in the same SCPI program message as the cut (one step for the
    supply), and the install draws a current of its own."""
    from harness.sim.supply import LOAD_A
    from harness.sim.unit import Power

    # Scale 0.5: the install takes 1.5 s, time for a loaded bench to cut the power in the middle of it.
    with SimProcess(tmp_path, units=1, time_scale=0.5) as sim, sim.console("U1") as con, supply(sim) as psu:
        con.send("")  # the boot log may be gone already; input during the boot is lost, its prompt is not
        con.expect(LOGIN_PROMPT, timeout=TIMEOUT)
        assert con.login(sim.label("U1")).endswith(PROMPT)
        url = packages.offer(Path(sim.runtime["firmware"]["valid"]).read_bytes(), "cut.simfw")
        con.send(f"update {url}")
        con.expect(re.escape("update: installing 1.5.0\r\nRebooting...\r\n"))
        load = float(psu.query("MEAS:CURR?;:OUTP OFF"))
        assert psu.query("SYST:ERR?") == '0,"No error"' and psu.query("OUTP?") == "0"
        assert load == LOAD_A[Power.INSTALLING], f"the cut came after the install ({load} A): nothing was tested"
        psu.output(True)
        seen = con.expect(LOGIN_PROMPT, timeout=TIMEOUT)
        assert "firmware 1.4.2 (serial" in seen
        assert con.login(sim.label("U1")).endswith(PROMPT)
        assert console_version(con) == "1.4.2"


# -- the harness's campaign over HTTPS ----------------------------------------------------------------
def test_campaign_serves_packages_over_https_with_the_lab_ca(tmp_path: Path) -> None:
    """A unit told to fetch `https://…` gets every package from the harness's HTTPS package server
    (certificate from the lab CA the unit trusts); the transport is in 5.3-7-1's evidence."""
    import subprocess
    import sys

    from harness.results import latest_by_case
    from harness.simctl import SimulatorProcess

    profile = tmp_path / "sim-compliant-https.yaml"
    text = (ROOT / "device_profiles" / "sim-compliant.yaml").read_text()
    assert "update {{package_url}}" in text
    profile.write_text(text.replace("update {{package_url}}", "update {{package_url_https}}"))
    suite = str(ROOT / "test_suites" / "pytest" / "test_5_3_updates.py")
    with SimulatorProcess("compliant", tmp_path / "sim", time_scale=0.0, units=1) as sim:
        cmd = [sys.executable, "-m", "pytest", suite, "-q", *SUITE_PLUGIN_OPTIONS, "--rootdir", str(ROOT),
               "--profile", str(profile), "--lab", str(sim.lab_path), "--run-dir", str(tmp_path / "run"),
               "--unit", "U1", "-k", "5_3_7_1 or 5_3_2_2"]
        proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    got = latest_by_case(tmp_path / "run")
    assert got[("5.3-2-2", "U1")]["verdict"] == "PASS"
    crypto = got[("5.3-7-1", "U1")]
    assert crypto["verdict"] == "PASS", crypto["reason"]
    row = next(e for e in crypto["evidence"] if e["name"] == "update cryptography")["data"][0]
    assert row["transports"] == ["https"]
