"""The profile language's new steps are validated at load time: each mistake names file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.profile import ConfigError, load_profile

BASE = """schema_version: 1
product: {manufacturer: T, model: Cam}
units:
  - id: U1
    serial: S1
    address: 127.0.0.1
    accounts: {admin: {password: {secret: CAM_PW}}}
    vars: {relay: '2'}
  - id: U2
    serial: S2
    accounts: {admin: {password: {secret: CAM_PW2}}}
    vars: {relay: '3'}
links:
  console: {type: serial, url: 'loop://', settle: 0.3, prompts: {prompt: '# $'}}
  web: {type: http, base_url: 'http://{{unit.address}}'}
procedures:
  login: [{console.send: root}]
  logout: [{console.send: exit}]
  factory_reset: [{console.send: reset}]
  set_user_data: [{console.send: x}]
  read_user_data: [{console.send: x}]
  change_password: [{console.send: x}]
  probe:
"""

GOOD_STEPS = """    - web.post: /login
      form: {user: admin, pass: '{{accounts.admin.password | urlencode}}'}
      capture: {session.token: {json: token}, sid: {cookie: sid}, loc: {header: Location, regex: 'id=(\\\\d+)'}}
    - web.get: /me
      auth: {bearer: '{{session.token}}'}
      query: {relay: '{{unit.vars.relay}}'}
      outcomes: {ok: 2xx, rejected: [401, 403], denied: {status: 200, body: 'denied'}}
    - web.put: /fw
      body_file: fw.bin
    - web.post: /upgrade
      files: {firmware: fw.bin, sig: {path: fw.sig, filename: fw.sig}}
      form: {slot: a}
      auth: {digest: {user: admin, password: '{{accounts.admin.password}}'}}
    - bench.run: [./relay, '{{unit.vars.relay}}', 'off']
      timeout: 5
      env: {MODE: pulse}
      outcomes: {ok: 0, busy: {exit: [1, 2], output: 'busy'}}
    - console.drain: 2
      quiet: 0.2
    - console.expect_silence: 1.5
      timeout: 10
    - set: {session.channel: '{{unit.vars.relay | hex}}'}
    - forget_session: true
"""


def test_every_new_step_validates(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text(BASE + GOOD_STEPS)
    profile = load_profile(path)
    assert len(profile.procedures["probe"]) == 9
    assert profile.units[0].vars == {"relay": "2"}


# (name, steps, expected field, message fragment)
BAD = [
    ("unknown filter", "    - console.send: '{{unit.id | rot13}}'\n", "procedures.probe[0].console.send", "unknown filter 'rot13'"),
    ("unit var missing on a unit", "    - console.send: '{{unit.vars.channel}}'\n", "procedures.probe[0].console.send", "U1, U2 declare no"),
    ("unknown account", "    - console.send: '{{accounts.root.password}}'\n", "procedures.probe[0].console.send", "no unit declares an account 'root'"),
    ("two bodies", "    - web.post: /x\n      json: {a: 1}\n      form: {a: 1}\n", "procedures.probe[0]", "one body"),
    ("bad auth", "    - web.get: /x\n      auth: {basic: {user: a}}\n", "procedures.probe[0].auth", "password"),
    ("two auths", "    - web.get: /x\n      auth: {bearer: t, basic: {user: a, password: b}}\n", "procedures.probe[0].auth", "exactly one"),
    ("bad status", "    - web.get: /x\n      outcomes: {ok: 2000}\n", "procedures.probe[0].outcomes.ok", "status codes"),
    ("bad body regex", "    - web.get: /x\n      outcomes: {ok: {status: 200, body: '(['}}\n", "procedures.probe[0].outcomes.ok.body", "regular expression"),
    ("mqtt option on http", "    - web.get: /x\n      payload: hi\n", "procedures.probe[0]", "no option payload"),
    ("bad capture", "    - web.get: /x\n      capture: {t: {headers: X}}\n", "procedures.probe[0].capture.t", "a capture is"),
    ("bench.run string", "    - bench.run: './relay off'\n", "procedures.probe[0].bench.run", "argument list"),
    ("bench.run exit", "    - bench.run: [./relay]\n      outcomes: {ok: zero}\n", "procedures.probe[0].outcomes.ok", "exit codes"),
    ("bench.run option", "    - bench.run: [./relay]\n      json: {a: 1}\n", "procedures.probe[0]", "no option json"),
    ("http option on console", "    - console.send: x\n      form: {a: b}\n", "procedures.probe[0]", "a serial step has no option form"),
    ("drain words", "    - console.drain: all\n", "procedures.probe[0].console.drain", "positive number"),
    ("set not a map", "    - set: x\n", "procedures.probe[0].set", "set maps"),
    ("bad var name", None, "units[0].vars", "identifiers"),
]


@pytest.mark.parametrize("name,steps,field,fragment", BAD, ids=[b[0] for b in BAD])
def test_bad_step_is_located(tmp_path: Path, name: str, steps: str | None, field: str, fragment: str) -> None:
    text = BASE + (steps or "    - console.send: x\n")
    if steps is None:
        text = text.replace("vars: {relay: '2'}", "vars: {relay-no: '2'}")
    path = tmp_path / "p.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_profile(path)
    issues = [i for i in err.value.issues if i.field == field]
    assert issues, [str(i) for i in err.value.issues]
    assert fragment in issues[0].message, str(issues[0])
    assert issues[0].line is not None


def test_serial_url_must_be_a_character_device(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text((BASE + "    - console.send: x\n").replace("url: 'loop://'", f"url: '{tmp_path}/nope'"))
    with pytest.raises(ConfigError, match="character device"):
        load_profile(path)


def test_link_templates_are_checked(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text((BASE + "    - console.send: x\n").replace("'http://{{unit.address}}'", "'http://{{unit.vars.host}}'"))
    with pytest.raises(ConfigError) as err:
        load_profile(path)
    assert any(i.field.startswith("links.web") and "declare no" in i.message for i in err.value.issues)
