"""`harness console` and `harness init` against the simulator's console (a real pty) and its
HTTPS API: the prompts are found, the raw bytes shown with CR/LF made visible, and the starting
profile validates and logs in with the label password."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.console_tool import Observation, Phase, classify, generalise, main, propose, style_of, visible
from harness.simctl import SimulatorProcess

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def sim(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    s = SimulatorProcess("compliant", tmp_path_factory.mktemp("sim-console-tool"), units=1)
    s.start()
    yield s
    s.stop()


def test_console_shows_bytes_and_proposes_prompts(sim, capsys) -> None:  # type: ignore[no-untyped-def]
    url = sim.runtime["units"]["U1"]["console"]
    assert main(["console", "--url", url, "--newline", "cr", "--listen", "1.5"]) == 0
    out = capsys.readouterr().out
    assert "\\r\\n" in out or "\\n" in out  # line endings made visible
    assert re.search(r"login\s+'simiot login: \$'", out), out
    assert "console style: asks for a user name and a password" in out


def test_console_through_a_profile_unit(sim, capsys) -> None:  # type: ignore[no-untyped-def]
    root = Path(__file__).resolve().parents[2]
    code = main(["console", str(root / "device_profiles" / "sim-compliant.yaml"), "--lab", str(sim.lab_path),
                 "--unit", "U1", "--listen", "1.5"])
    assert code == 0
    assert "simiot login: " in capsys.readouterr().out


def test_init_writes_a_profile_that_validates_and_logs_in(sim, tmp_path, capsys, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from harness.device import Device
    from harness.profile import load_profile
    from harness.profile.lab_models import LabConfig
    from harness.profile.resolve import Bench

    url = sim.runtime["units"]["U1"]["console"]
    out = tmp_path / "new-device.yaml"
    # The label password from the simulator's secrets, as the lab's secrets file would give it.
    secrets = json.loads((sim.run_dir / "secrets.json").read_text())
    label = next(v for k, v in secrets.items() if "U1" in k)
    monkeypatch.setenv("NEW_DEVICE_PASSWORD", label)
    assert main(["init", "--console", url, "--newline", "cr", "--listen", "1.5", "--out", str(out),
                 "--login", "admin", "--password-env", "NEW_DEVICE_PASSWORD"]) == 0
    shown = capsys.readouterr().out
    assert label not in shown
    text = out.read_text()
    assert "TODO" in text and "login_prompt: 'simiot login: $'" in text and "prompt: 'simiot> $'" in text
    profile = load_profile(out)
    bench = Bench(profile=profile, profile_path=out, lab=LabConfig(schema_version=1), lab_path=None,
                  runtime={}, secrets={"U1_ADMIN_PASSWORD": label})
    device = Device(bench, "U1", transcript_dir=tmp_path / "t")
    try:
        wrong = device.try_login("admin", "not-the-label")
        assert (wrong.outcome, wrong.alive_after) == ("rejected", True)
        device.ensure("logged_in")
        device.ensure("logged_out")
    finally:
        device.close()
    with pytest.raises(SystemExit):
        main(["init", "--console", url, "--out", str(out)])  # never overwrites without --force


def test_init_web_only_with_basic_auth(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import threading
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    class Basic(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def do_GET(self) -> None:  # noqa: N802
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="plug"')
            self.send_header("Content-Length", "0")
            self.end_headers()

    server = ThreadingHTTPServer(("127.0.0.1", 0), Basic)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        out = tmp_path / "plug.yaml"
        assert main(["init", "--http", f"http://127.0.0.1:{server.server_address[1]}/", "--out", str(out)]) == 0
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
    text = out.read_text()
    assert "auth: {basic: {user: '{{user}}', password: '{{password}}'}}" in text
    assert "address: 127.0.0.1" in text


@pytest.mark.parametrize(("line", "kind", "regex"), [
    ("simiot login: ", "login", r"simiot login: $"),
    ("Password: ", "password", r"Password: $"),
    ("root@cam-4F2A:~# ", "shell", r"root@cam-\d+F\d+A:[^\n]*# $"),
    ("U-Boot 2.1 (v1.0) $ ", "shell", r"U-Boot \d+\.\d+ \(v\d+\.\d+\) \$ $"),
    ("plug> ", "shell", r"plug> $"),
    ("Please press Enter to activate this console. ", "activate", None),
])
def test_prompt_classes_and_regexes(line: str, kind: str, regex: str | None) -> None:
    assert classify(line) == kind
    if regex is not None:
        assert generalise(line, kind) == regex
        assert re.search(generalise(line, kind), line)


def test_style_and_visible_bytes() -> None:
    obs = Observation("x", [Phase("listen", text="boot\n"), Phase("enter", text="\n# ")])
    assert style_of(propose(obs), obs) == "shell"
    obs = Observation("x", [Phase("enter", text="\nPassword: ")])
    assert style_of(propose(obs), obs) == "password"
    assert visible(b"a\r\n\x1b[0m\x07") == "a\\r\\n\n\\e[0m\\x07"


@pytest.mark.parametrize(("url", "seen"), [
    ("/dev/ttyUSB0", "\nrouter login: "),
    ("/dev/ttyUSB0", "\nPassword: "),
    ("/dev/ttyUSB0", "\nBusyBox v1.36\n/ # "),
    ("socket://192.0.2.7:4001", ""),
    ("telnet://192.0.2.8:2323", "\ncam login: "),
], ids=["login", "password-only", "shell", "nothing-seen", "telnet"])
def test_every_starting_profile_validates(url: str, seen: str, tmp_path: Path) -> None:
    from harness.console_tool import HttpFinding, starting_profile, write_profile

    obs = Observation(url, [Phase("enter", text=seen)])
    for http in (None, HttpFinding("https://192.0.2.7/", 401, "digest", "cam")):
        text = starting_profile(console_url=url, obs=obs, http=http)
        out = tmp_path / f"p{http is not None}.yaml"
        assert write_profile(text, out) == [], text
    if "/ # " in seen:
        assert "FINDING" in text


def test_web_only_starting_profile_validates(tmp_path: Path) -> None:
    from harness.console_tool import HttpFinding, starting_profile, write_profile

    text = starting_profile(console_url=None, obs=None, http=HttpFinding("http://192.0.2.9/", 200, None))
    assert write_profile(text, tmp_path / "web.yaml") == [], text
    assert "TODO: no auth challenge seen" in text
