"""Variables, filters, secrets and bench.run steps of the profile language."""

from __future__ import annotations

import base64
import os
import stat
import sys
from pathlib import Path

import pytest
import yaml

from harness.device import Device
from harness.procedures import LazyMap, ProfileRuntimeError, default_http_outcome, render
from harness.profile.resolve import open_bench
from harness.redact import Redactor

FILLER = {name: [{"settle": 0}] for name in
          ("login", "logout", "factory_reset", "set_user_data", "read_user_data", "change_password")}


def test_filters_chain_and_mark_secrets() -> None:
    red = Redactor()
    red.add("hunter22", "label")
    text, secret = render("{{ a | base64 }}/{{a|urlencode|upper}}/{{a | json}}/{{a|hex}}",
                          {"a": "x y/é"}, red)
    assert text == f"{base64.b64encode('x y/é'.encode()).decode()}/X%20Y%2F%C3%A9/\"x y/\\u00e9\"/{'x y/é'.encode().hex()}"
    assert not secret
    assert render("echo {{v | shellquote}}", {"v": "$(id) 'x'"})[0] == "echo '$(id) '\"'\"'x'\"'\"''"
    text, secret = render("Basic {{p | base64}}", {"p": "hunter22"}, red)
    assert secret and red.redact(text) == "Basic «redacted»"  # the filtered form is a secret too
    assert render("{{accounts.admin.password}}", {"accounts": {"admin": {"password": "zz"}}}, red)[1]


def test_unknown_variable_and_filter_are_profile_errors() -> None:
    with pytest.raises(ProfileRuntimeError, match="no such value"):
        render("{{unit.vars.nope}}", {"unit": {"vars": {}}})
    with pytest.raises(ProfileRuntimeError, match="unknown filter"):
        render("{{a | rot13}}", {"a": "x"})


def test_public_dictionary_password_is_not_registered() -> None:
    red = Redactor()
    text, secret = render("{{password | base64}}", {"password": "admin"}, red)
    assert secret and red.secrets() == []  # a dictionary word must not mask "admin" everywhere


def test_lazy_map_computes_on_use_only() -> None:
    calls: list[str] = []
    lazy = LazyMap(lambda: ["a", "b"], lambda k: calls.append(k) or k.upper())
    assert list(lazy) == ["a", "b"] and "a" in lazy and calls == []
    assert render("{{m.b}}", {"m": lazy})[0] == "B" and calls == ["b"]


@pytest.mark.parametrize("status,outcome", [(200, "ok"), (204, "ok"), (301, "ok"), (400, "http_400"),
                                            (401, "rejected"), (403, "rejected"), (429, "locked"),
                                            (503, "http_503"), (None, "http_None")])
def test_default_http_outcome(status: int | None, outcome: str) -> None:
    assert default_http_outcome(status) == outcome


TOOL = """#!{python}
import os, sys
args = sys.argv[1:]
print("relay", " ".join(args), "env", os.environ.get("RELAY_MODE", "-"))
if args and args[0] == "busy":
    print("relay busy, state=held")
    sys.exit(1)
if args and args[0] == "hang":
    import time
    time.sleep(30)  # sleep-ok: a tool that hangs, killed by the step timeout
sys.exit(int(args[1]) if len(args) > 1 and args[0] == "exit" else 0)
"""


def make_device(tmp_path: Path, procedures: dict, *, unit_extra: dict | None = None,
                links: dict | None = None) -> Device:
    tools = tmp_path / "tools"
    tools.mkdir(exist_ok=True)
    tool = tools / "relay"
    tool.write_text(TOOL.format(python=sys.executable))
    tool.chmod(tool.stat().st_mode | stat.S_IXUSR)
    (tmp_path / "secrets.yaml").write_text(yaml.safe_dump({"PLUG_PW": "plug-pw-9137"}))
    (tmp_path / "lab.yaml").write_text(yaml.safe_dump({"schema_version": 1, "name": "t", "secrets": {"file": "secrets.yaml"}}))
    unit = {"id": "U1", "serial": "S1", "accounts": {"admin": {"password": {"secret": "PLUG_PW"}}},
            "vars": {"relay": "3"}, **(unit_extra or {})}
    profile = {"schema_version": 1, "product": {"manufacturer": "T", "model": "Plug"}, "units": [unit],
               "links": links or {}, "procedures": {**FILLER, **procedures}}
    path = tmp_path / "profile.yaml"
    path.write_text(yaml.safe_dump(profile, sort_keys=False))
    return Device(open_bench(path, tmp_path / "lab.yaml"), "U1", transcript_dir=tmp_path / "tr")


def test_bench_run_outcomes_captures_env_and_redaction(tmp_path: Path) -> None:
    dev = make_device(tmp_path, {
        "on": [{"bench.run": ["./tools/relay", "{{unit.vars.relay}}", "on"], "env": {"RELAY_MODE": "pulse"},
                "capture": {"mode": "env (\\w+)"}}],
        "busy": [{"bench.run": ["./tools/relay", "busy"],
                  "outcomes": {"ok": 0, "held": {"exit": 1, "output": "state=(?P<state>\\w+)"}}}],
        "code": [{"bench.run": ["./tools/relay", "exit", "4"]}],
        "secret": [{"bench.run": ["./tools/relay", "{{accounts.admin.password}}"]}],
        "hang": [{"bench.run": ["./tools/relay", "hang"], "timeout": 1}],
        "missing": [{"bench.run": ["./tools/no-such-tool"]}],
    })
    on = dev.run("on")
    assert on.ok and on.captures["mode"] == "pulse" and on.captures["exit_code"] == 0
    busy = dev.run("busy")
    assert busy.outcome == "held" and busy.captures["state"] == "held"
    assert dev.run("code").outcome == "exit_4"
    assert dev.run("secret").ok
    hang = dev.run("hang")
    assert hang.outcome == "timeout" and "1 s" in hang.detail
    with pytest.raises(ProfileRuntimeError, match="cannot run"):
        dev.run("missing")
    transcript = dev._runner.bench_transcript
    transcript.close()
    text = Path(transcript.path).read_text()
    assert "$ ./tools/relay 3 on" in text and "relay 3 on env pulse" in text
    assert "plug-pw-9137" not in text


def test_set_and_session_values(tmp_path: Path) -> None:
    dev = make_device(tmp_path, {
        "remember": [{"set": {"session.channel": "ch-{{unit.vars.relay}}", "local": "{{unit.id}}"}}],
        "use": [{"set": {"seen": "{{session.channel}}"}}],
        "forget": [{"forget_session": True}],
    })
    assert dev.run("remember").captures == {"session.channel": "ch-3", "local": "U1"}
    assert dev.run("use").captures["seen"] == "ch-3"
    dev.run("forget")
    with pytest.raises(ProfileRuntimeError):
        dev.run("use")


def test_lab_broker_variables_without_a_broker_name_the_cause(tmp_path: Path) -> None:
    dev = make_device(tmp_path, {"b": [{"set": {"h": "{{lab.broker.plain.port}}"}}]})
    with pytest.raises(ProfileRuntimeError, match="lab.broker"):
        dev.run("b")


def test_lab_broker_listeners_as_host_and_port(tmp_path: Path) -> None:
    dev = make_device(tmp_path, {
        "b": [{"set": {"p": "{{lab.broker.plain.host}}:{{lab.broker.plain.port}}", "t": "{{lab.broker.tls.port}}",
                       "r": "{{lab.broker.rogue.url}}", "chosen": "{{broker.host}}:{{broker.port}}"}}]})
    dev.bench.services["broker_vars"] = {"U1": {
        "url": "mqtts://127.0.0.1:18883", "plain_url": "mqtt://127.0.0.1:11883", "rogue_url": "mqtts://127.0.0.1:18884",
        "host": "127.0.0.1", "port": 18883, "user": "unit-U1", "password": "pw"}}
    out = dev.run("b", broker={"url": "mqtt://127.0.0.1:11883", "port": 18883}).captures
    assert out == {"p": "127.0.0.1:11883", "t": "18883", "r": "mqtts://127.0.0.1:18884", "chosen": "127.0.0.1:11883"}


def test_serial_url_accepts_a_symlink_to_a_pty(tmp_path: Path) -> None:
    from harness.profile.models import check_serial_url

    master, slave = os.openpty()
    try:
        link = tmp_path / "by-id-usb-FTDI"
        link.symlink_to(os.ttyname(slave))
        assert check_serial_url(str(link)) == str(link)
        plain = tmp_path / "not-a-tty"
        plain.write_text("")
        with pytest.raises(ValueError, match="character device"):
            check_serial_url(str(plain))
    finally:
        os.close(master)
        os.close(slave)


def test_console_drain_silence_and_settle_on_a_loop_port(tmp_path: Path) -> None:
    dev = make_device(tmp_path, {
        "quiet": [{"console.send": "hello"}, {"console.drain": 1, "quiet": 0.1},
                  {"console.expect_silence": 0.2, "timeout": 5}, {"console.send": "again"},
                  {"console.expect": "again"}],
        "secret": [{"console.send": "pw {{accounts.admin.password | base64}}"}, {"console.drain": 0.5, "quiet": 0.1}],
    }, links={"console": {"type": "serial", "url": "loop://", "settle": 0.05, "newline": "\n"}})
    result = dev.run("quiet")
    assert result.ok, result.detail
    assert dev.run("secret").ok
    dev.close()
    text = "".join(p.read_text() for p in (tmp_path / "tr").glob("*.log"))
    assert "«secret input»" in text
    assert base64.b64encode(b"plug-pw-9137").decode() not in text  # the echo is redacted too
