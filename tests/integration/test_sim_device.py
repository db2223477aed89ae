"""The hub's storage, identity, device functions, integrity response, sensors and reset
confirmation (docs/simulator.md, "Storage, identity, device functions"), each shown both ways: compliant, then its defect switch."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_sim_network import api, token
from test_sim_support import LOGIN_PROMPT, PROMPT, SimProcess

pytestmark = pytest.mark.integration


def test_compliant_hub(tmp_path: Path) -> None:
    with SimProcess(tmp_path, units=1) as sim, sim.console("U1") as con:
        con.attention()
        assert con.login(sim.label("U1")).endswith(PROMPT)
        con.run("wifi set HomeNet harness-psk-0042")
        config = con.run("cat /etc/simiot/config")
        assert "ssid = HomeNet" in config and "harness-psk-0042" not in config and "psk = enc:v1:" in config
        assert sim.label("U1") not in con.run("cat /etc/simiot/passwd")
        assert "No such file or directory" in con.run("cat /etc/shadow")
        assert "refused" in con.run("identity set EVIL-1") and "serial SIM-C-0001" in con.run("identity show")
        sensors = con.run("sensors")
        assert "temperature" in sensors and "humidity" in sensors and "microphone" not in sensors
        for method, path in (("POST", "/api/reboot"), ("GET", "/api/wifi/scan"), ("GET", "/api/logs")):
            assert api(sim, method, path)[0] == 401, path
        tok = token(sim)
        assert api(sim, "GET", "/api/logs", token=tok)[0] == 200
        assert api(sim, "POST", "/api/identity", {"serial": "EVIL-2"}, token=tok)[0] == 403
        assert api(sim, "GET", "/api/status", token=tok)[2]["serial"] == "SIM-C-0001"
        patched = con.run("fw-patch")
        assert "integrity: installed image modified" in patched
        with pytest.raises(OSError):  # connections are closed without an answer
            api(sim, "GET", "/api/logs", token=tok)
        assert "restored" in con.run("fw-restore")
        assert api(sim, "GET", "/api/logs", token=tok)[0] == 200
        con.send("factory-reset")
        seen = con.expect(LOGIN_PROMPT)
        assert "factory reset complete: user data erased" in seen


def test_defective_hub(tmp_path: Path) -> None:
    defects = ("plaintext_secrets_at_rest", "identity_writable", "unauthenticated_functions", "no_tamper_response",
               "undocumented_microphone", "silent_deletion", "hardcoded_key_in_firmware")
    with SimProcess(tmp_path, defects=defects, units=1) as sim, sim.console("U1") as con:
        con.attention()
        assert con.login(sim.label("U1")).endswith(PROMPT)
        con.run("wifi set HomeNet harness-psk-0042")
        assert "psk = harness-psk-0042" in con.run("cat /etc/simiot/config")
        assert "serial set to EVIL-1" in con.run("identity set EVIL-1")
        assert "serial EVIL-1" in con.run("identity show")
        assert "microphone" in con.run("sensors")
        assert api(sim, "GET", "/api/wifi/scan")[0] == 200
        assert "integrity" not in con.run("fw-patch")
        assert api(sim, "GET", "/api/logs")[0] == 200
        con.run("fw-restore")
        package = Path(sim.runtime["firmware"]["valid"]).read_bytes()
        assert b"PRIVATE KEY-----" in package and b"service_password=changeme" in package
        con.send("factory-reset")
        assert "factory reset complete" not in con.expect(LOGIN_PROMPT)
