"""Secrets that writers would escape (quote, backslash, control characters, non-ASCII) and session
tokens never reach a file of the run directory in any spelling; a declassified finding does."""

from __future__ import annotations

import html
import json
import os
import re
import sys
import types
from pathlib import Path

import pytest

from harness.links.transcript import Transcript
from harness.redact import MASK, REDACTOR, Redactor
from harness.report import build_reports, summary_lines
from harness.results import Observations, ResultsLog
from harness.verdict import Evidence, Verdict

try:
    from test_report_support import fake_catalogue, record, session
except ImportError:  # tests/unit became a package
    from tests.unit.test_report_support import fake_catalogue, record, session

QUOTED = 'pä"ss\\wörd\n1'
CONTROL = "ctl\x01\x1b[2Jq'uo\"te\tx"
UNICODE = "Ünïcödé-пароль-密码"
TOKEN = "eyJhbGciOiJIUzI1NiJ9.c2Vzc2lvbi0xMjM0NQ.s1gn_Ab-9"
SECRETS = [QUOTED, CONTROL, UNICODE, TOKEN]
FOUND_DEFAULT = 'adm"in\\123'  # a public default the device accepted: a finding, stays visible


def spellings(secret: str) -> set[str]:
    """Independent list of the ways a text writer may spell the secret."""
    visible = re.sub(r"[\x00-\x1f\x7f]", lambda m: f"\\x{ord(m.group()):02x}", secret)
    forms = {
        secret,
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        repr(secret)[1:-1],
        html.escape(secret),
        html.escape(secret, quote=False),
        visible,
        html.escape(visible),
        secret.encode("unicode_escape").decode(),
        secret.replace("\n", "&#10;"),
        html.escape(secret).replace("\n", "&#10;").replace("\t", "&#09;"),
    }
    return {f for f in forms if len(f) >= 4}


@pytest.fixture()
def secrets():
    saved = (dict(REDACTOR._secrets), set(REDACTOR._declassified))
    for i, s in enumerate(SECRETS):
        REDACTOR.add(s, f"hostile {i}")
    REDACTOR.add(FOUND_DEFAULT, "accounts.admin.password")
    REDACTOR.declassify(FOUND_DEFAULT)
    yield SECRETS
    REDACTOR._secrets, REDACTOR._declassified = saved
    REDACTOR._pattern, REDACTOR._none_live = None, False


def test_every_spelling_is_masked() -> None:
    r = Redactor()
    for s in SECRETS:
        r.add(s)
    for s in SECRETS:
        for form in spellings(s):
            assert form not in r.redact(f"before {form} after"), (s, form)
        assert MASK in r.redact(json.dumps({"k": s}))
        assert MASK in r.redact(json.dumps({"k": s}, ensure_ascii=False))


def test_redact_obj_walks_keys_and_values() -> None:
    r = Redactor()
    r.add(QUOTED)
    out = r.redact_obj({QUOTED: [QUOTED, {"x": (1, QUOTED)}], "n": 3, "none": None})
    assert out == {MASK: [MASK, {"x": [1, MASK]}], "n": 3, "none": None}
    text = json.dumps(out)
    assert "w\\u00f6rd" not in text and "wörd" not in text


def test_declassified_finding_stays_visible() -> None:
    r = Redactor()
    r.add(FOUND_DEFAULT)
    r.declassify(FOUND_DEFAULT)
    assert r.redact(json.dumps({"password": FOUND_DEFAULT})) == json.dumps({"password": FOUND_DEFAULT})


class _Attach:
    """Stands in for ``allure.attach``: records what would go into allure-results."""

    def __init__(self, calls: list[tuple[str, str]]) -> None:
        self.calls = calls

    def __call__(self, body: str, name: str, attachment_type: object = None) -> None:
        self.calls.append((name, body))

    def file(self, path: str, name: str, attachment_type: object = None) -> None:
        self.calls.append((name, Path(path).read_text("utf-8")))


def _fake_allure(calls: list[tuple[str, str]]) -> types.ModuleType:
    mod = types.ModuleType("allure")
    mod.attach = _Attach(calls)  # type: ignore[attr-defined]
    mod.attachment_type = types.SimpleNamespace(TEXT="text", JSON="json")  # type: ignore[attr-defined]
    return mod


def test_no_secret_in_any_file_of_a_built_run(tmp_path: Path, secrets, monkeypatch) -> None:
    run = tmp_path / "run"
    log = ResultsLog(run)
    session(log, units=["U1"])
    said = " | ".join(SECRETS)
    rec = record(
        "5.1-1-1", Verdict.FAIL, unit="U1",
        reason=f"device echoed {said} and Authorization: Bearer {TOKEN}",
        evidence=[
            Evidence("text", f"sent {QUOTED}", said),
            Evidence("table", "answers", [{s: s for s in SECRETS}, {"repr": repr(SECRETS)}]),
            Evidence("finding", "default credential that worked", {"user": "admin", "password": FOUND_DEFAULT}),
        ],
        measurements={"raw": said},
    )
    t = Transcript("console", run / "transcripts")
    t.sent(f"login {QUOTED}\n")
    t.received(f"echo {json.dumps(CONTROL)} {repr(UNICODE)}\n")
    t.note(f"Authorization: Bearer {TOKEN}")
    t.close()
    rec.attachments.append(log.attach(rec.id, "console transcript", t.path.read_text("utf-8")))
    rec.attachments.append(log.attach(rec.id, "api.json", json.dumps({"token": TOKEN, "s": SECRETS}).encode(),
                                      mime="text/json"))
    log.write(rec)
    Observations(run).record("U1", "answers", SECRETS)
    (run / "allure-results").mkdir()

    calls: list[tuple[str, str]] = []
    monkeypatch.setitem(sys.modules, "allure", _fake_allure(calls))
    from harness.pytest_plugin import _allure_attach
    _allure_attach(run, rec)
    assert [name for name, _ in calls] == ["console transcript", "api.json", "verdict and evidence"]
    assert MASK in calls[-1][1]
    for i, (_name, body) in enumerate(calls):
        (run / "allure-results" / f"attach-{i}.txt").write_text(body, "utf-8")

    paths = build_reports(run, catalogue=fake_catalogue(), allure=False)
    (run / "summary.txt").write_text("\n".join(summary_lines(paths.model)), "utf-8")

    leaks = []
    files = [p for p in run.rglob("*") if p.is_file()]
    assert len(files) >= 12
    for path in files:
        text = path.read_bytes().decode("utf-8", errors="replace")
        for secret in SECRETS:
            leaks += [(str(path.relative_to(run)), form) for form in spellings(secret) if form in text]
    assert leaks == []
    # The finding is still shown, in the results log and the report.
    seg = next((run / "results").glob("segment-*.jsonl")).read_text("utf-8")
    assert json.dumps(FOUND_DEFAULT, ensure_ascii=False)[1:-1] in seg
    assert json.dumps(FOUND_DEFAULT, ensure_ascii=False)[1:-1] in (run / "conformance.json").read_text("utf-8")
    assert MASK in seg


def test_login_answer_token_is_registered_as_secret() -> None:
    from harness.procedures import _session_tokens
    answer = types.SimpleNamespace(text=json.dumps({"token": TOKEN, "user": "admin", "ok": True}),
                                   headers={"Set-Cookie": "LCSESSID=0123456789abcdef; Path=/; HttpOnly"})
    found = dict(_session_tokens(answer))
    assert found == {"token": TOKEN, "cookie LCSESSID": "0123456789abcdef"}


def test_files_are_not_world_readable_even_with_secrets_masked(tmp_path: Path, secrets) -> None:
    log = ResultsLog(tmp_path / "run")
    log.write(record("5.2-1-1", Verdict.PASS, reason=QUOTED))
    assert os.stat(log.path).st_mode & 0o077 == 0
