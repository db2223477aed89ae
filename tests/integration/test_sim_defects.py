"""Persona legacy and the single-defect switches: each changes exactly its behaviour."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from pathlib import Path

import pytest
from test_sim_support import LOGIN_PROMPT, PROMPT, ROOT, SimProcess

from harness.sim import main
from harness.sim.catalog import DEFECTS

pytestmark = pytest.mark.integration


def _passwd(con, current: str, new: str) -> str:  # type: ignore[no-untyped-def]
    con.send("passwd")
    for prompt, answer in (("Current password: ", current), ("New password: ", new), ("Retype new password: ", new)):
        con.expect(prompt)
        con.send(answer)
    return con.expect(re.escape(PROMPT))


def test_legacy_admin_everywhere_and_data_survives_reset(tmp_path: Path) -> None:
    with SimProcess(tmp_path, persona="legacy", units=2) as sim:
        assert sim.runtime["units"]["U2"]["serial"] == "SIM-L-0002"
        assert sim.secrets == {"SIM_U1_LABEL": "admin", "SIM_U2_LABEL": "admin"}
        with sim.console("U1") as con:
            con.attention()
            assert con.login("admin").endswith(PROMPT)
            con.run("wifi set Legacy psk123")
            assert "updated" in _passwd(con, "admin", "Changed-1")
            con.send("factory-reset")
            con.expect(LOGIN_PROMPT)
            assert con.login("admin").endswith(PROMPT)  # reset restores admin/admin
            assert "ssid=Legacy\r\npsk=set" in con.run("wifi show")  # user data survives


def test_console_hangs_after_n_logins(tmp_path: Path) -> None:
    with SimProcess(tmp_path, defects=("console_hangs_after_logins=2",)) as sim:
        assert sim.runtime["defects"] == {"console_hangs_after_logins": 2}
        with sim.console("U1") as con:
            con.attention()
            assert "Login incorrect" in con.login("wrong-1")
            assert "Login incorrect" in con.login("wrong-2")  # the 2nd outcome is still shown
            con.send("admin")
            assert con.quiet_for(0.3) == ""  # from now on: no echo, no prompt, nothing
            con.send(sim.label("U1"))
            con.send("")
            assert con.quiet_for(0.3) == ""
        with sim.console("U2") as con:  # other units are not affected
            con.attention()
            assert con.login(sim.label("U2")).endswith(PROMPT)


def test_silent_rejection(tmp_path: Path) -> None:
    with SimProcess(tmp_path, defects=("silent_rejection",)) as sim, sim.console("U1") as con:
        con.attention()
        assert con.login("wrong") == LOGIN_PROMPT
        assert con.raw.endswith(f"admin\r\nPassword: {LOGIN_PROMPT}")  # nothing between
        assert "Login incorrect" not in con.raw
        assert con.login(sim.label("U1")).endswith(PROMPT)


def test_password_change_ignored(tmp_path: Path) -> None:
    with SimProcess(tmp_path, defects=("password_change_ignored",)) as sim, sim.console("U1") as con:
        label = sim.label("U1")
        con.attention()
        con.login(label)
        assert "passwd: password updated successfully" in _passwd(con, label, "Brand-New-1")
        con.send("exit")
        con.expect(LOGIN_PROMPT)
        assert "Login incorrect" in con.login("Brand-New-1")
        assert con.login(label).endswith(PROMPT)


def test_noisy_console_same_dialect_under_the_noise(tmp_path: Path) -> None:
    with SimProcess(tmp_path, defects=("noisy_console",)) as sim, sim.console("U1", clean=True) as con:
        for _ in range(3):
            con.send("")
            con.expect(LOGIN_PROMPT)
            assert "Login incorrect" in con.login("wrong")
            assert con.login(sim.label("U1")).endswith(PROMPT)
            assert re.search(r"firmware 1\.4\.2\n", con.run("version"))
            con.run("wifi set Noisy pskpsk")
            assert "ssid=Noisy\npsk=set" in con.run("wifi show")
            con.send("exit")
            con.expect(LOGIN_PROMPT)
        raw = con.raw
        assert "\x1b[" in raw
        assert re.search(r"\[ *\d+\.\d{6}\] (wlan0|mmc0|thermal)", raw)
        assert re.search(r"[^\r]\n", raw) or re.search(r"\r[^\n]", raw)  # not only CRLF


def test_accepts_any_password(tmp_path: Path) -> None:
    with SimProcess(tmp_path, units=1, defects=("accepts_any_password",)) as sim, sim.console("U1") as con:
        con.attention()
        assert con.login("anything at all").endswith(PROMPT)
        con.send("exit")
        con.expect(LOGIN_PROMPT)
        assert "Login incorrect" in con.login("anything", user="root")


def test_reset_restores_universal_default_and_keeps_data(tmp_path: Path) -> None:
    defects = ("reset_restores_universal_default", "reset_keeps_user_data")
    with SimProcess(tmp_path, units=1, defects=defects) as sim, sim.console("U1") as con:
        con.attention()
        con.login(sim.label("U1"))
        con.run("wifi set Kept psk")
        con.send("factory-reset")
        con.expect(LOGIN_PROMPT)
        assert "Login incorrect" in con.login(sim.label("U1"))
        assert con.login("admin").endswith(PROMPT)
        assert "ssid=Kept" in con.run("wifi show")


@pytest.mark.parametrize(("defect", "expected"), [
    ("sequential_label_passwords", ["simpw-100041", "simpw-100042", "simpw-100043"]),
    ("universal_default_password", ["Welcome2SimIoT"] * 3),
    ("mac_derived_passwords", ["49A17C31", "49A17C32", "49A17C33"]),
    ("serial_derived_passwords", [hashlib.sha256(f"SIM-C-000{n}".encode()).hexdigest()[:10] for n in (1, 2, 3)]),
    ("dictionary_label_passwords", ["sunshine", "princess", "football"]),
    ("low_entropy_passwords", None),
])
def test_label_password_schemes(tmp_path: Path, defect: str, expected: list[str] | None) -> None:
    with SimProcess(tmp_path, defects=(defect,)) as sim:
        labels = [sim.label(u) for u in ("U1", "U2", "U3")]
        if expected is None:
            assert all(re.fullmatch(r"\d{4}", p) for p in labels) and len(set(labels)) == 3
        else:
            assert labels == expected
        with sim.console("U2") as con:
            con.attention()
            assert con.login(labels[1]).endswith(PROMPT)


def test_unknown_defect_exits_2() -> None:
    bad = subprocess.run([sys.executable, "-m", "harness.sim", "--run-dir", "/nonexistent/never-created",
                          "--defect", "no_such_defect"], cwd=ROOT, capture_output=True, text=True, timeout=30)
    assert bad.returncode == 2 and "unknown defect 'no_such_defect'" in bad.stderr
    assert not Path("/nonexistent/never-created").exists()


def test_arguments_are_checked_in_process(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--list-defects"]) == 0
    listing = capsys.readouterr().out
    assert "console_hangs_after_logins" in listing and len(listing.strip().splitlines()) == len(DEFECTS)
    assert "accepts_rogue_broker" in listing
    for argv, needle in ((["--defect", "noisy_console=3"], "takes no value"),
                         (["--defect", "console_hangs_after_logins=zero"], "integer"),
                         (["--defect", "mac_derived_passwords", "--defect", "sequential_label_passwords"], "label_scheme"),
                         (["--units", "10"], "--units"),
                         (["--time-scale", "-1"], "--time-scale"),
                         (["--trust-ca", "/nonexistent/ca.pem"], "--trust-ca"),
                         ([], "--run-dir is required")):
        assert main([*argv, *(["--run-dir", "/nonexistent/x"] if argv else [])]) == 2, argv
        assert needle in capsys.readouterr().err
    assert main(["--persona", "nope"]) == 2
    assert main(["--", "--list-defects"]) == 0  # as passed on by `harness sim -- ...`
    assert not Path("/nonexistent/x").exists()


@pytest.mark.parametrize("defects, model", [((), "SimIoT Hub H1 rev B"), (("generic_model_name",), "IoT Hub")])
def test_model_designation(tmp_path: Path, defects: tuple[str, ...], model: str) -> None:
    with SimProcess(tmp_path, units=1, defects=defects) as sim, sim.console("U1") as con:
        con.attention()
        assert con.login(sim.label("U1")).endswith(PROMPT)
        assert con.run("version") == f"version\r\nmodel {model}\r\nfirmware 1.4.2\r\n{PROMPT}"
