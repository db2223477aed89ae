"""The specific invalid values `harness validate` refuses since the hardening review, each with exit 2
and `file:line: field: message` at the line of the mistake — and the valid neighbours it still
accepts (a custom baud rate declared, a MAC written another way on another unit, a YAML merge key
overridden)."""

from __future__ import annotations

import contextlib
import io
import json
from pathlib import Path

import pytest

from harness.cli import main

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = (ROOT / "device_profiles" / "template-real-device.yaml").read_text(encoding="utf-8")
LAB = """\
schema_version: 1
name: bench-7
secrets: {file: secrets.json, environment: false}
networks: [192.0.2.0/24]
broker:
  host: 192.0.2.1
  accounts: {installer: {secret: BROKER_INSTALLER}}
capture: {interface: enp3s0}
instruments:
  psu1:
    resource: TCPIP::192.0.2.5::5025::SOCKET
    channels: {U1: 1, U2: 2}
"""
SECRETS = {"EX100_U1_LABEL": "a", "EX100_U2_LABEL": "b", "BROKER_INSTALLER": "c"}


def _validate(*argv: str) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["validate", *argv])
    return code, err.getvalue() + out.getvalue()


def _edit(text: str, old: str, new: str) -> tuple[str, int]:
    """The text with ``old`` replaced once by ``new``, and the line where ``new`` starts."""
    assert text.count(old) == 1, old
    at = text.index(old)
    return text.replace(old, new, 1), text.count("\n", 0, at) + 1 + new[: len(new) - len(new.lstrip("\n"))].count("\n")


def _refused(code: int, output: str, file: Path, line: int, field: str, text: str) -> None:
    assert code == 2, output
    assert "Traceback" not in output
    wanted = f"{file}:{line}: {field}: "
    found = [row for row in output.splitlines() if row.startswith(wanted)]
    assert found, f"expected {wanted}…{text}…, got:\n{output}"
    assert any(text in row for row in found), output


# (case, old text of the template, new text, field, words of the message)
PROFILE_CASES = [
    ("socket URL without port", "console: {url: /dev/ttyUSB0}", "console: {url: 'socket://10.0.0.5'}",
     "units[0].links.console.url", "needs host:port"),
    ("socket URL without host", "console: {url: /dev/ttyUSB0}", "console: {url: 'socket://:7000'}",
     "units[0].links.console.url", "needs host:port"),
    ("socket URL port 0", "console: {url: /dev/ttyUSB0}", "console: {url: 'socket://10.0.0.5:0'}",
     "units[0].links.console.url", "1..65535"),
    ("rfc2217 port out of range", "console: {url: /dev/ttyUSB0}", "console: {url: 'rfc2217://bench-7:70000'}",
     "units[0].links.console.url", "1..65535"),
    ("rfc2217 host with a space", "console: {url: /dev/ttyUSB0}", "console: {url: 'rfc2217://bench 7:4001'}",
     "units[0].links.console.url", "neither an IP address nor a host name"),
    ("serial URL with a trailing newline", "console: {url: /dev/ttyUSB0}", 'console: {url: "socket://10.0.0.5:7000\\n"}',
     "units[0].links.console.url", "newline"),
    ("device path with a trailing newline", "console: {url: /dev/ttyUSB0}", 'console: {url: "/dev/ttyUSB0\\n"}',
     "units[0].links.console.url", "newline"),
    ("non-standard baud rate", "    baud: 115200\n", "    baud: 74880\n", "links.console.baud", "custom_baud"),
    ("baud rate as text", "    baud: 115200\n", "    baud: '115200'\n", "links.console.baud", "valid integer"),
    ("infinite timeout", "    timeout: 10                      #", "    timeout: .inf                    #",
     "links.console.timeout", "finite"),
    ("negative settle", "    settle: 0.2 ", "    settle: -0.2", "links.console.settle", "greater than or equal to 0"),
    ("timeout as a boolean", "    timeout: 10                      #", "    timeout: true                    #",
     "links.console.timeout", "valid number"),
    ("infinite named settle time", "  discharge: 2.0 ", "  discharge: .inf", "settle.discharge", "finite"),
    ("negative named settle time", "  discharge: 2.0 ", "  discharge: -2.0", "settle.discharge", "greater than or equal"),
    ("infinite step timeout", "      timeout: 10\n    - settle: discharge", "      timeout: .inf\n    - settle: discharge",
     "procedures.power_cycle[0].timeout", "positive number"),
    ("schema_version as text", "schema_version: 1\n", "schema_version: '1'\n", "schema_version", "integer"),
    ("schema_version as a boolean", "schema_version: 1\n", "schema_version: true\n", "schema_version", "integer"),
    ("schema_version as a float", "schema_version: 1\n", "schema_version: 1.0\n", "schema_version", "integer"),
    ("boolean written as text", "admin: {password: {secret: EX100_U1_LABEL}}",
     "admin: {password: {secret: EX100_U1_LABEL}, user_defined: 'yes'}", "units[0].accounts.admin.user_defined",
     "valid boolean"),
    ("boolean written as a number", "admin: {password: {secret: EX100_U1_LABEL}}",
     "admin: {password: {secret: EX100_U1_LABEL}, user_defined: 1}", "units[0].accounts.admin.user_defined",
     "valid boolean"),
    ("account name with a colon", "      admin: {password: {secret: EX100_U1_LABEL}}",
     "      'ad:min': {password: {secret: EX100_U1_LABEL}}", "units[0].accounts.ad:min", "without ':'"),
    ("inline password with a newline", "admin: {password: {secret: EX100_U1_LABEL}}",
     'admin: {password: "one\\ntwo"}', "units[0].accounts.admin.password", "one line"),
    ("duplicate MAC written another way", 'mac: "02:00:00:00:01:24"', 'mac: "02-00-00-00-01-23"',
     "units[1].mac", "duplicate unit mac"),
    ("broker URL port out of range", "settle:\n  discharge: 2.0", "  m:\n    type: mqtt\n    broker: 'mqtt://10.0.0.1:99999'\nsettle:\n  discharge: 2.0",
     "links.m.broker", "1..65535"),
    ("broker URL with credentials", "settle:\n  discharge: 2.0", "  m:\n    type: mqtt\n    broker: 'mqtt://u:p@10.0.0.1:1883'\nsettle:\n  discharge: 2.0",
     "links.m.broker", "no credentials"),
    ("VISA resource port out of range", "settle:\n  discharge: 2.0",
     "  psu:\n    type: instrument\n    role: supply\n    resource: 'TCPIP::10.0.0.5::99999::SOCKET'\nsettle:\n  discharge: 2.0",
     "links.psu.resource", "1..65535"),
    ("VISA resource that is not one", "settle:\n  discharge: 2.0",
     "  psu:\n    type: instrument\n    role: supply\n    resource: 'tcp://10.0.0.5:5025'\nsettle:\n  discharge: 2.0",
     "links.psu.resource", "not a VISA resource name"),
    ("HTTP base URL that is not one", "settle:\n  discharge: 2.0",
     "  web:\n    type: http\n    base_url: 'ftp://{{unit.address}}'\nsettle:\n  discharge: 2.0", "links.web.base_url",
     "http:// or https://"),
    ("brute-force budget for an interface that is not there", "settle:\n  discharge: 2.0",
     "policies:\n  brute_force:\n    attempt_s: {telnt: 2.0}\nsettle:\n  discharge: 2.0",
     "policies.brute_force.attempt_s.telnt", "no interface 'telnt'"),
    ("telnet host that is not a host", "settle:\n  discharge: 2.0",
     "  tn:\n    type: telnet\n    host: 'bench 7'\nsettle:\n  discharge: 2.0", "links.tn.host", "neither an IP address"),
]


@pytest.mark.parametrize("case", PROFILE_CASES, ids=[c[0] for c in PROFILE_CASES])
def test_profile_mistakes_are_refused_at_their_line(tmp_path: Path, case: tuple[str, str, str, str, str]) -> None:
    _, old, new, field, words = case
    text, line = _edit(TEMPLATE, old, new)
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    # The new text's first changed line (the mistake sits on a line of it).
    code, output = _validate(str(path))
    assert code == 2, output
    rows = [row for row in output.splitlines() if row.startswith(f"{path}:") and f": {field}: " in row]
    assert rows and any(words in row for row in rows), output
    assert all(words in row for row in output.strip().splitlines()), f"other problems than the one made:\n{output}"
    at = int(rows[0].split(":")[1])
    assert line <= at <= line + new.count("\n"), (line, output)


@pytest.mark.parametrize("old,new", [
    ("    baud: 115200\n", "    baud: 74880\n    custom_baud: true\n"),
    ('mac: "02:00:00:00:01:24"', 'mac: "02-00-00-00-01-24"'),
    ("console: {url: /dev/ttyUSB0}", "console: {url: 'socket://[::1]:7000'}"),
    ("console: {url: /dev/ttyUSB0}", "console: {url: 'rfc2217://bench-7.lab:4001'}"),
], ids=["custom baud declared", "MAC with dashes", "socket URL to IPv6", "rfc2217 to a name"])
def test_valid_neighbours_are_accepted(tmp_path: Path, old: str, new: str) -> None:
    path = tmp_path / "profile.yaml"
    path.write_text(_edit(TEMPLATE, old, new)[0], encoding="utf-8")
    code, output = _validate(str(path))
    assert code == 0, output


def test_a_merge_key_override_is_not_a_duplicate(tmp_path: Path) -> None:
    """`<<: *base` with a key written again in the mapping: the written one wins (YAML merge
    semantics), no duplicate; a key written twice in the mapping itself still is one."""
    text = TEMPLATE.replace("  console:\n    type: serial\n", "  console: &serial\n    type: serial\n", 1)
    text, _ = _edit(text, "settle:\n  discharge: 2.0", "  other:\n    <<: *serial\n    baud: 9600\nsettle:\n  discharge: 2.0")
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    code, output = _validate(str(path))
    assert code == 0, output
    twice, line = _edit(text, "    baud: 9600\n", "    baud: 9600\n    baud: 19200\n")
    path.write_text(twice, encoding="utf-8")
    code, output = _validate(str(path))
    assert code == 2 and f"{path}:{line + 1}: links.other.baud: duplicate key 'baud'" in output, output


def _bench(tmp_path: Path, lab: str, secrets: object = None) -> tuple[Path, Path]:
    (tmp_path / "secrets.json").write_text(json.dumps(SECRETS if secrets is None else secrets), encoding="utf-8")
    profile = tmp_path / "profile.yaml"
    profile.write_text(_edit(TEMPLATE, "settle:\n  discharge: 2.0", "    hotplug: true\nsettle:\n  discharge: 2.0")[0], encoding="utf-8")
    path = tmp_path / "lab.yaml"
    path.write_text(lab, encoding="utf-8")
    return profile, path


LAB_CASES = [
    ("network with host bits", "networks: [192.0.2.0/24]", "networks: [192.0.2.7/24]", "networks", "host bits"),
    ("network prefix out of range", "networks: [192.0.2.0/24]", "networks: [192.0.2.0/33]", "networks", "not a network"),
    ("network that is a sentence", "networks: [192.0.2.0/24]", "networks: ['the lab net']", "networks", "not a network"),
    ("schema_version as text", "schema_version: 1\n", "schema_version: '1'\n", "schema_version", "integer"),
    ("timeout not finite", "name: bench-7\n", "name: bench-7\ntimeouts: {broker: .inf}\n", "timeouts.broker", "finite"),
    ("timeout negative", "name: bench-7\n", "name: bench-7\ntimeouts: {broker: -1}\n", "timeouts.broker", "greater than 0"),
    ("boolean as text", "capture: {interface: enp3s0}", "capture: {interface: enp3s0, enabled: 'no'}",
     "capture.enabled", "valid boolean"),
    ("broker start as text", "  host: 192.0.2.1\n", "  host: 192.0.2.1\n  start: 'false'\n", "broker.start", "valid boolean"),
    ("broker host a name", "  host: 192.0.2.1\n", "  host: broker.lab\n", "broker.host", "IP address"),
    ("broker host with a newline", "  host: 192.0.2.1\n", '  host: "192.0.2.1\\n"\n', "broker.host", "IP address"),
    ("broker account with a colon", "accounts: {installer:", "accounts: {'inst:aller':", "broker.accounts.inst:aller", "without ':'"),
    ("broker password with a newline", "accounts: {installer: {secret: BROKER_INSTALLER}}",
     'accounts: {installer: "pass\\nword"}', "broker.accounts", "one line"),
    ("observed broker port out of range", "  host: 192.0.2.1\n",
     "  start: false\n  url: mqtts://192.0.2.9:65536\n  observer: {user: o, password: p}\n", "broker.url", "1..65535"),
    ("observer name with a colon", "  host: 192.0.2.1\n",
     "  start: false\n  url: mqtts://192.0.2.9:8883\n  observer: {user: 'o:x', password: p}\n", "broker.observer.user",
     "without ':'"),
    ("reports in /proc", "name: bench-7\n", "name: bench-7\nreports_dir: /proc/self\n", "reports_dir", "kernel file system"),
    ("CA folder in /sys", "  host: 192.0.2.1\n", "  host: 192.0.2.1\n  ca_dir: /sys/kernel\n", "broker.ca_dir",
     "kernel file system"),
    ("package CA folder in /dev", "name: bench-7\n", "name: bench-7\nserve_ca_dir: /dev/shm/../\n", "serve_ca_dir",
     "kernel file system"),
    ("VISA resource malformed", "resource: TCPIP::192.0.2.5::5025::SOCKET", "resource: '192.0.2.5:5025'",
     "instruments.psu1.resource", "not a VISA resource name"),
    ("VISA TCPIP port out of range", "resource: TCPIP::192.0.2.5::5025::SOCKET",
     "resource: TCPIP::192.0.2.5::0::SOCKET", "instruments.psu1.resource", "1..65535"),
    ("instrument channel 0", "channels: {U1: 1, U2: 2}", "channels: {U1: 0, U2: 2}", "instruments.psu1.channels",
     "numbered from 1"),
    ("instrument channel as text", "channels: {U1: 1, U2: 2}", "channels: {U1: '1', U2: 2}",
     "instruments.psu1.channels.U1", "valid integer"),
    ("host map to a name", "networks: [192.0.2.0/24]\n", "networks: [192.0.2.0/24]\nhosts: {psu.lab: psu.other}\n",
     "hosts", "not an IP address"),
    ("host map outside the networks", "networks: [192.0.2.0/24]\n",
     "networks: [192.0.2.0/24]\nhosts: {psu.lab: 10.1.1.1}\n", "(document)", "outside the declared networks"),
    ("capture interface with a space", "capture: {interface: enp3s0}", "capture: {interface: 'enp3s0 or 1=1'}",
     "capture.interface", "pattern"),
]


@pytest.mark.parametrize("case", LAB_CASES, ids=[c[0] for c in LAB_CASES])
def test_lab_mistakes_are_refused_at_their_line(tmp_path: Path, case: tuple[str, str, str, str, str]) -> None:
    _, old, new, field, words = case
    text, line = _edit(LAB, old, new)
    profile, lab = _bench(tmp_path, text)
    code, output = _validate(str(profile), "--lab", str(lab), "--resolve")
    assert code == 2, output
    rows = [row for row in output.splitlines() if row.startswith(f"{lab}:") and f": {field}: " in row]
    assert rows and any(words in row for row in rows), output
    assert all(words in row for row in output.strip().splitlines()), f"other problems than the one made:\n{output}"
    if field != "(document)":
        at = int(rows[0].split(":")[1])
        assert line <= at <= line + new.count("\n"), (line, output)


def test_the_lab_base_is_valid(tmp_path: Path) -> None:
    profile, lab = _bench(tmp_path, LAB)
    code, output = _validate(str(profile), "--lab", str(lab), "--resolve")
    assert code == 0, output


@pytest.mark.parametrize("value,kind", [(["a", "b"], "list"), ({"x": 1}, "dict"), (True, "bool"), (None, "null")])
def test_a_secret_that_is_not_text_is_refused_without_its_value(tmp_path: Path, value: object, kind: str) -> None:
    """A list or mapping in the secrets file used to become its str() ("['a', 'b']") and be used
    as a password; now it is a located mistake that does not print the value."""
    profile, lab = _bench(tmp_path, LAB, {**SECRETS, "EX100_U1_LABEL": value})
    code, output = _validate(str(profile), "--lab", str(lab), "--resolve")
    assert code == 2, output
    assert f"{tmp_path / 'secrets.json'}: EX100_U1_LABEL: secret 'EX100_U1_LABEL' is" in output
    assert kind in output
    assert "'a', 'b'" not in output and "'x': 1" not in output


def test_a_yaml_secret_that_is_a_list_is_refused_at_its_line(tmp_path: Path) -> None:
    profile, lab = _bench(tmp_path, LAB.replace("secrets.json", "secrets.yaml"))
    (tmp_path / "secrets.yaml").write_text("EX100_U1_LABEL: a\nEX100_U2_LABEL:\n  - b\nBROKER_INSTALLER: c\n")
    code, output = _validate(str(profile), "--lab", str(lab), "--resolve")
    assert code == 2 and f"{tmp_path / 'secrets.yaml'}:2: EX100_U2_LABEL: secret 'EX100_U2_LABEL' is a list" in output, output


def test_an_inline_console_path_missing_on_the_bench_is_named_before_the_run(tmp_path: Path) -> None:
    """A device path written in the profile must exist on this bench, unless the link declares that
    the port appears later (`hotplug: true`)."""
    profile, lab = _bench(tmp_path, LAB)
    profile.write_text(TEMPLATE.replace("/dev/ttyUSB0", "/dev/harness-no-such-tty"), encoding="utf-8")
    code, output = _validate(str(profile), "--lab", str(lab), "--resolve")
    assert code == 2 and "units.U1.links.console.url: serial port '/dev/harness-no-such-tty' is not there" in output, output
    assert "hotplug: true" in output


def test_an_instrument_time_that_is_neither_seconds_nor_a_settle_name_is_refused(tmp_path: Path) -> None:
    text, _ = _edit(TEMPLATE, "settle:\n  discharge: 2.0", "  psu:\n    type: instrument\n    role: supply\n"
                                                         "    resource: 'TCPIP::192.0.2.5::5025::SOCKET'\n"
                                                         "settle:\n  discharge: 2.0")
    text, line = _edit(text, "  read_user_data:\n", "  cut:\n    - psu.power_cycle: discharg\n  read_user_data:\n")
    path = tmp_path / "profile.yaml"
    path.write_text(text, encoding="utf-8")
    code, output = _validate(str(path))
    assert code == 2 and f"{path}:{line + 1}: procedures.cut[0].psu.power_cycle: power_cycle takes seconds" in output, output
    path.write_text(text.replace("power_cycle: discharg", "power_cycle: discharge"), encoding="utf-8")
    assert _validate(str(path))[0] == 0
