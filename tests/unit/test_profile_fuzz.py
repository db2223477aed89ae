"""Mutated profiles and lab files: `harness validate` (run in-process) answers every one with exit 0
or exit 2 and `file:line: field: message` lines, never a traceback, never a hang.

The corpus starts from the real files (the shipped device profiles, the simulator's lab files and
the documented bench lab file) and mutates them with hypothesis: values replaced by hostile ones
(wrong types, booleans written as strings, numbers that are not finite, text with newlines, URLs
out of range, kernel folders), keys deleted or misspelt, subtrees moved, wrapped or flattened, and
a few edits of the YAML text itself. Examples are bounded and derandomised, so the run is the same
on every machine."""

from __future__ import annotations

import contextlib
import copy
import io
import json
import math
import re
import signal
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from harness.cli import main
from harness.docgen import LAB_EXAMPLE
from harness.sim.labfile import observed_cloud_lab
from harness.simctl import LAB_TEMPLATE

ROOT = Path(__file__).resolve().parents[2]
PROFILES = sorted((ROOT / "device_profiles").glob("*.yaml"))
LABS = {
    "hub": LAB_TEMPLATE.format(persona="compliant"),
    "cloud": observed_cloud_lab("camera", "the camera's cloud broker", "mqtts://127.0.0.1:8883",
                                "{runtime: cloud.ca}", "lab-observer", "CLOUD_OBSERVER"),
    "bench": LAB_EXAMPLE,
}
PER_CALL_S = 10.0  # one validation; a hang or an exploding document takes far longer
PROFILE_EXAMPLES = 280
LAB_EXAMPLES = 240
# `file:line: field: message` (the field is "(document)" for the file as a whole; the line is left
# out only where there is none). The test's files have no ':' in their paths.
ANY_ISSUE = re.compile(r"^(?P<file>[^:]+)(:(?P<line>\d+))?: (?P<field>.+?): \S")

HOSTILE_TEXT = ["", " ", "1", "true", "no", "null", "0x10", "1e400", "nan", "-inf", "a:b", "line\nbreak",
                "trailing\n", "\t", "/proc", "/proc/self/mem", "/sys/kernel", "/dev/zero", "/dev/ttyUSB0\n",
                "../../../etc/shadow", "socket://", "socket://host", "socket://h:0", "socket://h:99999",
                "rfc2217://:4001", "rfc2217://bench-7:4001", "mqtt://", "mqtts://h:70000", "mqtt://u:p@h:1883",
                "http://", "https://[::1", "10.0.0.5/24", "10.0.0.0/33", "300.1.1.1", "::g", "TCPIP::h::99999::SOCKET",
                "TCPIP::::SOCKET", "GPIB::x::INSTR", "{{", "{{unit.vars.nope}}", "{{accounts.x.password | rot13}}",
                "(", "[a-", "x" * 3000, "é€𝄞", "\u202e", "\ufeff", "{secret: X}", "*alias", "&anchor", "%", "@", "`"]


def _hostile_values() -> st.SearchStrategy[Any]:
    scalars = st.one_of(
        st.sampled_from(HOSTILE_TEXT),
        st.booleans(),
        st.none(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.sampled_from([0, -1, 1, 65535, 65536, 74880, 115200, 2**31, 2**64]),
        st.floats(allow_nan=True, allow_infinity=True),
        st.sampled_from([math.inf, -math.inf, math.nan, 0.0, -0.0, 1e-300, 1e300]),
        st.text(max_size=40),
    )
    return st.recursive(scalars, lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.one_of(st.text(max_size=8), st.integers(-3, 3), st.booleans()), inner, max_size=3),
        st.fixed_dictionaries({"secret": st.sampled_from(["X", "", "a b"])}),
        st.fixed_dictionaries({"runtime": st.sampled_from(["units.U1.console", "nope", ""])}),
        st.fixed_dictionaries({"env": st.sampled_from(["HOME", "NO_SUCH_VARIABLE_X"])}),
    ), max_leaves=6)


def _paths(data: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix]
    if isinstance(data, dict):
        for k, v in data.items():
            out += _paths(v, prefix + (k,))
    elif isinstance(data, list):
        for i, v in enumerate(data):
            out += _paths(v, prefix + (i,))
    return out


def _get(data: Any, path: tuple[Any, ...]) -> Any:
    for part in path:
        data = data[part]
    return data


def _set(data: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    _get(data, path[:-1])[path[-1]] = value
    return data


def _delete(data: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return data
    parent = _get(data, path[:-1])
    del parent[path[-1]]
    return data


def _rename(data: Any, path: tuple[Any, ...], new: Any) -> Any:
    parent = _get(data, path[:-1]) if path else None
    if isinstance(parent, dict) and new not in parent:
        parent[new] = parent.pop(path[-1])
    return data


@st.composite
def mutated(draw: st.DrawFn, bases: list[tuple[str, Any]]) -> tuple[str, str, list[str]]:
    """(base name, YAML text, what was done) of one mutant."""
    name, base = draw(st.sampled_from(bases))
    data = copy.deepcopy(base)
    done: list[str] = []
    for _ in range(draw(st.integers(1, 3))):
        paths = _paths(data)
        path = paths[draw(st.integers(0, len(paths) - 1))]
        op = draw(st.sampled_from(["value", "value", "value", "delete", "rename", "move", "wrap", "flatten",
                                   "typo"]))
        done.append(f"{op} at {'.'.join(map(str, path)) or '(top)'}")
        if op == "value":
            data = _set(data, path, draw(_hostile_values()))
        elif op == "delete":
            data = _delete(data, path)
        elif op == "rename" and path:
            data = _rename(data, path, draw(st.one_of(st.text(max_size=12), st.integers(-2, 9), st.booleans())))
        elif op == "typo" and path and isinstance(path[-1], str) and path[-1]:
            data = _rename(data, path, path[-1][:-1] + draw(st.sampled_from(["_", "s", "-", path[-1][-1].upper()])))
        elif op == "move":
            other = paths[draw(st.integers(0, len(paths) - 1))]
            if other[: len(path)] != path:  # not into itself
                data = _set(data, other, copy.deepcopy(_get(data, path)))
        elif op == "wrap":
            data = _set(data, path, [_get(data, path)])
        elif op == "flatten":
            value = _get(data, path)
            data = _set(data, path, json.dumps(value, default=str) if isinstance(value, (dict, list)) else {"v": value})
    text = yaml.safe_dump(data, allow_unicode=draw(st.booleans()), sort_keys=False, width=10_000)
    if draw(st.integers(0, 9)) == 0:  # now and then an edit of the text itself
        lines = text.splitlines(keepends=True) or [""]
        at = draw(st.integers(0, len(lines) - 1))
        edit = draw(st.sampled_from(["dup", "drop", "indent", "dedent", "insert"]))
        if edit == "dup":
            lines.insert(at, lines[at])
        elif edit == "drop":
            del lines[at]
        elif edit == "indent":
            lines[at] = "   " + lines[at]
        elif edit == "dedent":
            lines[at] = lines[at].lstrip()
        else:
            lines.insert(at, draw(st.sampled_from(["<<: *nothing\n", "- [\n", "key: &a [*a]\n", "? [a]\n: b\n",
                                                    "\t: tab\n", "x: !!python/object {}\n", "--- \n"])))
        text = "".join(lines)
        done.append(f"text {edit} at line {at + 1}")
    return name, text, done


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


PROFILE_BASES = [(p.name, _load(p)) for p in PROFILES]
LAB_BASES = [(name, yaml.safe_load(text)) for name, text in LABS.items()]


class _Hang(Exception):
    pass


def _alarm(signum: int, frame: object) -> None:
    raise _Hang(f"validation did not return within {PER_CALL_S:g} s")


def _validate(*argv: str) -> tuple[int, str, str]:
    """`harness validate` in this process; a hang is cut by an alarm and reported as one."""
    out, err = io.StringIO(), io.StringIO()
    start = time.monotonic()
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, PER_CALL_S)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            try:
                code = main(["validate", *argv])
            except SystemExit as exc:  # argparse only: an exit code, not a traceback
                code = exc.code if isinstance(exc.code, int) else 2
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    assert time.monotonic() - start < PER_CALL_S, f"validation took {time.monotonic() - start:.1f} s"
    return code, out.getvalue(), err.getvalue()


def problems(code: int, out: str, err: str, mutant: Path) -> list[str]:
    """What is wrong with one answer of `harness validate` (nothing: the answer is right)."""
    if code not in (0, 2):
        return [f"exit {code}: {err[-3000:]}"]
    if code == 0:
        return [] if "OK" in out and not err.strip() else [f"exit 0 with messages: {err[:500]}"]
    lines = [line for line in err.splitlines() if line.strip()]
    if not lines:
        return ["refused without a message"]
    bad = []
    for line in lines:
        m = ANY_ISSUE.match(line)
        if not m:
            bad.append(f"not `file:line: field: message`: {line[:300]!r}")
        elif m.group("file") == str(mutant) and not m.group("line") and m.group("field") != "(document)":
            # Every problem in the mutated file is located; only the file as a whole (empty, not
            # a mapping at all) has no line.
            bad.append(f"no line: {line[:300]!r}")
    return bad


def _judge(code: int, out: str, err: str, mutant: Path, done: list[str]) -> None:
    bad = problems(code, out, err, mutant)
    assert not bad, f"mutations: {done}\n" + "\n".join(bad)


# No shrinking: a mutant of a 12 kB profile shrinks for minutes; the message names the mutations.
FUZZ = settings(max_examples=PROFILE_EXAMPLES, deadline=None, derandomize=True, database=None,
                phases=(Phase.explicit, Phase.generate),
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                       HealthCheck.function_scoped_fixture])


@FUZZ
@given(mutant=mutated(PROFILE_BASES))
def test_mutated_profiles_are_answered_with_located_errors(tmp_path_factory: pytest.TempPathFactory,
                                                           mutant: tuple[str, str, list[str]]) -> None:
    name, text, done = mutant
    path = tmp_path_factory.getbasetemp() / f"mutant-{name}"
    path.write_text(text, encoding="utf-8")
    _judge(*_validate(str(path)), path, done)


@pytest.fixture(scope="module")
def bench_files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder with what the lab files name: secrets, runtime facts, a CA; and a profile whose
    references they satisfy (the template, its console declared hot-plugged)."""
    folder = tmp_path_factory.mktemp("bench")
    (folder / "secrets.json").write_text(json.dumps({"EX100_U1_LABEL": "a", "EX100_U2_LABEL": "b",
                                                     "CLOUD_OBSERVER": "c", "BROKER_INSTALLER": "d"}))
    (folder / "runtime.json").write_text(json.dumps({"https": {"ca": "ca.pem"}, "cloud": {"ca": "ca.pem"}}))
    secrets_dir = folder / "secrets"
    secrets_dir.mkdir()
    (secrets_dir / "bench-7.yaml").write_text("EX100_U1_LABEL: a\nEX100_U2_LABEL: b\nBROKER_INSTALLER: d\n")
    template = (ROOT / "device_profiles" / "template-real-device.yaml").read_text(encoding="utf-8")
    anchor = "    type: serial\n"
    assert anchor in template
    (folder / "profile.yaml").write_text(template.replace(anchor, anchor + "    hotplug: true\n", 1), encoding="utf-8")
    return folder


@settings(FUZZ, max_examples=LAB_EXAMPLES)
@given(mutant=mutated(LAB_BASES))
def test_mutated_lab_files_are_answered_with_located_errors(bench_files: Path,
                                                            mutant: tuple[str, str, list[str]]) -> None:
    name, text, done = mutant
    path = bench_files / f"lab-{name}.yaml"
    path.write_text(text, encoding="utf-8")
    _judge(*_validate(str(bench_files / "profile.yaml"), "--lab", str(path), "--resolve"), path, done)


@pytest.mark.parametrize("name", sorted(LABS))
def test_the_unmutated_lab_files_are_valid(bench_files: Path, name: str) -> None:
    path = bench_files / f"lab-{name}.yaml"
    path.write_text(LABS[name], encoding="utf-8")
    code, out, err = _validate(str(bench_files / "profile.yaml"), "--lab", str(path), "--resolve")
    assert code == 0, err
