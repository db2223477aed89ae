"""The simulator's console dialect, persona compliant, over real ptys."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from test_sim_support import LOGIN_PROMPT, PROMPT, SimProcess

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimProcess]:
    with SimProcess(tmp_path_factory.mktemp("sim-console"), units=3) as s:
        yield s


def test_runtime_describes_the_units(sim: SimProcess) -> None:
    rt = sim.runtime
    assert rt["persona"] == "compliant" and rt["defects"] == {} and rt["time_scale"] == 0.0
    assert rt["pid"] == sim.proc.pid  # type: ignore[union-attr]
    assert list(rt["units"]) == ["U1", "U2", "U3"]
    for n in (1, 2, 3):
        unit = rt["units"][f"U{n}"]
        assert unit["serial"] == f"SIM-C-000{n}" and unit["mac"] == f"02:53:49:A1:7C:3{n}"
        assert unit["console"].startswith("/dev/") and re.fullmatch(rf"127\.77\.\d+\.{n}", unit["address"])
    labels = [sim.label(u) for u in ("U1", "U2", "U3")]
    assert len(set(labels)) == 3
    for label in labels:
        assert re.fullmatch(r"[A-HJ-NP-Za-km-z2-9]{12}", label)
        assert re.search("[A-Z]", label) and re.search("[a-z]", label) and re.search("[0-9]", label)
    assert (sim.run_dir / "secrets.json").stat().st_mode & 0o777 == 0o600


def test_login_with_label_password_and_shell(sim: SimProcess) -> None:
    with sim.console("U1") as con:
        con.attention()
        con.send("admin")
        assert con.expect("Password: ").endswith("admin\r\nPassword: ")  # the user name is echoed
        con.send(sim.label("U1"))
        assert con.expect(re.escape(PROMPT)) == f"\r\nWelcome to SimIoT Hub\r\n{PROMPT}"
        assert sim.label("U1") not in con.raw  # the password is not echoed
        assert con.run("version") == f"version\r\nmodel SimIoT Hub H1 rev B\r\nfirmware 1.4.2\r\n{PROMPT}"
        assert con.run("frobnicate") == f"frobnicate\r\nsh: frobnicate: not found\r\n{PROMPT}"
        assert "factory-reset" in con.run("help")
        assert con.run("") == f"\r\n{PROMPT}"
        con.send("exit")
        assert con.expect(LOGIN_PROMPT) == f"exit\r\nlogout\r\n{LOGIN_PROMPT}"


def test_wrong_password_and_wrong_user_are_refused(sim: SimProcess) -> None:
    with sim.console("U1") as con:
        con.attention()
        assert con.login("not-the-password").endswith(f"\r\nLogin incorrect\r\n{LOGIN_PROMPT}")
        assert con.login(sim.label("U1"), user="root").endswith(f"\r\nLogin incorrect\r\n{LOGIN_PROMPT}")
        con.send("")
        assert con.expect(LOGIN_PROMPT) == f"\r\n{LOGIN_PROMPT}"


def test_cr_lf_and_crlf_each_end_one_line(sim: SimProcess) -> None:
    with sim.console("U1") as con:
        con.attention()
        assert con.login(sim.label("U1")).endswith(PROMPT)
        con.send("version", end="\n")
        con.expect(re.escape(PROMPT))
        con.send("version", end="\r\n")
        con.send("version", end="\r")
        seen = con.expect(r"(?s)firmware 1\.4\.2\r\nsimiot> .*firmware 1\.4\.2\r\nsimiot> ")
        assert seen.count(PROMPT) == 2  # the LF of the CRLF is not an extra empty line
        assert con.quiet_for(0.2) == ""
        con.send("vers\x7fsion")  # DEL erases the typed 's'
        assert "firmware 1.4.2" in con.expect(re.escape(PROMPT))
        con.send("exit")
        con.expect(LOGIN_PROMPT)


def test_passwd_outcomes(sim: SimProcess) -> None:
    label, new = sim.label("U2"), "N3w-Passw0rd"
    with sim.console("U2") as con:
        con.attention()
        con.login(label)

        def passwd(current: str, new: str, again: str) -> str:
            con.send("passwd")
            con.expect("Current password: ")
            con.send(current)
            con.expect("New password: ")
            con.send(new)
            con.expect("Retype new password: ")
            con.send(again)
            return con.expect(re.escape(PROMPT))

        assert passwd("wrong", new, new) == f"\r\npasswd: Authentication token manipulation error\r\n{PROMPT}"
        assert passwd(label, new, new + "x") == f"\r\npasswd: passwords do not match\r\n{PROMPT}"
        assert passwd(label, new, new) == f"\r\npasswd: password updated successfully\r\n{PROMPT}"
        assert new not in con.raw
        con.send("exit")
        con.expect(LOGIN_PROMPT)
        assert "Login incorrect" in con.login(label)
        assert con.login(new).endswith(PROMPT)
        con.send("reboot")
        assert "Rebooting...\r\n" in con.expect(LOGIN_PROMPT)
        assert con.login(new).endswith(PROMPT)  # a reboot keeps the password


def test_wifi_and_factory_reset_restores_label_and_wipes_data(sim: SimProcess) -> None:
    label = sim.label("U3")
    with sim.console("U3") as con:
        con.attention()
        con.login(label)
        assert con.run("wifi show") == f"wifi show\r\nssid=\r\npsk=unset\r\n{PROMPT}"
        assert con.run("wifi set HomeNet s3cret-psk").endswith(f"wifi: saved\r\n{PROMPT}")
        assert con.run("wifi show") == f"wifi show\r\nssid=HomeNet\r\npsk=set\r\n{PROMPT}"
        con.send("passwd")
        for prompt, answer in (("Current password: ", label), ("New password: ", "Other-1"),
                               ("Retype new password: ", "Other-1")):
            con.expect(prompt)
            con.send(answer)
        con.expect("updated successfully")
        con.send("factory-reset")
        seen = con.expect(LOGIN_PROMPT)
        assert "factory-reset: erasing user data\r\nRebooting...\r\n" in seen
        assert "SimIoT bootloader v2.1" in seen and "SimIoT Hub H1 firmware 1.4.2 (serial SIM-C-0003)" in seen
        assert "Login incorrect" in con.login("Other-1")
        assert con.login(label).endswith(PROMPT)
        assert "ssid=\r\npsk=unset" in con.run("wifi show")
