"""The fail-closed rule, asserted over every check module: a PASS rests on something observed.

1. ``CheckResult`` itself refuses a PASS whose evidence records nothing (harness.verdict).
2. Every public ``judge_*`` function of every module in harness/checks is fed its
   zero-observation input — empty lists (0 ports, no probe, no capture, no input delivered), empty
   tables, and ``None`` for every value that could not be read — and must not PASS.
3. An AST scan: no ``CheckResult.passed(reason)`` / ``CheckResult(Verdict.PASS, reason)`` call in
   harness/ without evidence arguments.
4. Known zero-evidence verdicts seen on real devices, each pinned.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import inspect
import pkgutil
import types
import typing
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

import harness.checks
from harness.verdict import NO_OBSERVATION, CheckResult, Evidence, Verdict, combine

ROOT = Path(__file__).resolve().parents[2]


# -- 1. the structural rule ------------------------------------------------------------------------
@pytest.mark.parametrize("evidence", [
    [], [Evidence("table", "rows", [])], [Evidence("table", "rows", [{}])], [Evidence("text", "nothing")],
    [Evidence("text", "blank", "  ")], [Evidence("observation", "none", None)],
    [Evidence("observation", "empty", {"ports": [], "answers": None})],
])
def test_a_pass_without_observation_is_inconclusive(evidence: list[Evidence]) -> None:
    r = CheckResult.passed("every port is declared", *evidence)
    assert r.verdict == Verdict.INCONCLUSIVE and r.reason.startswith(NO_OBSERVATION)
    direct = CheckResult(Verdict.PASS, "decided", list(evidence))
    assert direct.verdict == Verdict.INCONCLUSIVE


def test_a_pass_with_an_observation_stays() -> None:
    for ev in (Evidence("table", "ports", [{"port": "tcp/443", "open": True}]),
               Evidence("observation", "open ports", {"count": 0, "scanned": "1-65535"}),
               Evidence("measurement", "seconds", 0.0), Evidence("document", "policy", "We answer in 5 days.")):
        assert CheckResult.passed("seen", ev).verdict == Verdict.PASS


def test_combining_nothing_or_silent_parts_is_not_a_pass() -> None:
    assert combine([]).verdict == Verdict.INCONCLUSIVE
    assert combine([CheckResult.passed("a"), CheckResult.passed("b")]).verdict == Verdict.INCONCLUSIVE


# -- 2. every judge_* function, fed nothing --------------------------------------------------------
def _check_modules() -> list[types.ModuleType]:
    return [importlib.import_module(f"harness.checks.{m.name}") for m in pkgutil.iter_modules(harness.checks.__path__)
            if not m.name.startswith("_")]


def _judges() -> list[tuple[str, Callable[..., CheckResult]]]:
    out = []
    for mod in _check_modules():
        for name, fn in inspect.getmembers(mod, inspect.isfunction):
            if name.startswith("judge") and fn.__module__ == mod.__name__:
                out.append((f"{mod.__name__.rsplit('.', 1)[1]}.{name}", fn))
    return out


def _nothing(tp: Any, *, none: bool = True) -> Any:
    """The 'nothing was observed' value of a type: None where a value may be unread, empty
    collections, empty strings, zero counts, dataclasses filled the same way."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        if type(None) in args and none:
            return None
        return _nothing(next(a for a in args if a is not type(None)), none=none)
    if origin is typing.Literal:
        return args[0]
    if tp in (list,) or origin in (list, typing.Sequence, __import__("collections.abc").abc.Sequence):
        return []
    if tp is tuple or origin is tuple:
        return ()
    if tp in (dict,) or origin in (dict, typing.Mapping, __import__("collections.abc").abc.Mapping):
        return {}
    if tp is str:
        return ""
    if tp is bytes:
        return b""
    if tp is bool:
        return False
    if tp in (int, float):
        return 0
    if tp is datetime:
        return datetime(2026, 1, 1)
    if tp is date:
        return date(2026, 1, 1)
    if dataclasses.is_dataclass(tp):
        return _empty_instance(tp, none=none)
    return None


def _empty_instance(cls: type, *, none: bool = True) -> Any:
    hints = typing.get_type_hints(cls)
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.init and f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            kwargs[f.name] = _nothing(hints.get(f.name, Any), none=none)
    return cls(**kwargs)


def _zero_calls(fn: Callable[..., CheckResult]) -> list[dict[str, Any]]:
    """Two zero-observation argument sets: unread values as None, and unread values as their
    empty form (for parameters that are not Optional these are the same)."""
    hints = typing.get_type_hints(fn)
    calls = []
    for none in (True, False):
        kwargs = {}
        for name, p in inspect.signature(fn).parameters.items():
            if p.default is not inspect.Parameter.empty:
                continue
            kwargs[name] = _nothing(hints.get(name, Any), none=none)
        calls.append(kwargs)
    return calls


# Zero-observation inputs a generic filler cannot build (a non-empty argument whose emptiness is
# elsewhere), keyed by module.function. Each must still not PASS.
EXTRA: dict[str, list[Callable[[], CheckResult]]] = {}


def _extra() -> dict[str, list[Callable[[], CheckResult]]]:
    from harness.checks import network_auth, surface
    return {
        "surface.judge_open_ports": [
            lambda: surface.judge_open_ports(surface.PortFacts("127.0.0.1", [], True), [
                {"name": "web", "port": "tcp/443", "status": "enabled"}]),
            lambda: surface.judge_open_ports(surface.PortFacts("127.0.0.1", [443], True, alive_after=False), [
                {"name": "web", "port": "tcp/443", "status": "enabled"}]),
        ],
        "surface.judge_debug_interfaces": [
            lambda: surface.judge_debug_interfaces([], open_ports=[]),
            lambda: surface.judge_debug_interfaces([], open_ports=[], declared_enabled=[443]),
            lambda: surface.judge_debug_interfaces([], open_ports=[443], declared_enabled=[443],
                                                   consoles=[surface.ConsoleProbe("uart", None)]),
        ],
        "surface.judge_unauthenticated_disclosure": [
            lambda: surface.judge_unauthenticated_disclosure([surface.Disclosure("tcp/22 banner", None, "")], {}),
        ],
        "network_auth.judge_rogue_broker": [
            lambda: network_auth.judge_rogue_broker(network_auth.RogueBrokerObservation(
                tls_failures=["127.0.0.1: wrong version number"], alive_after=True)),
            lambda: network_auth.judge_rogue_broker(network_auth.RogueBrokerObservation(
                tls_failures=["127.0.0.1: unexpected eof while reading"], alive_after=True)),
        ],
    }


JUDGES = _judges()


@pytest.mark.parametrize("name,fn", JUDGES, ids=[n for n, _ in JUDGES])
def test_no_judge_passes_on_nothing(name: str, fn: Callable[..., CheckResult]) -> None:
    for kwargs in _zero_calls(fn):
        try:
            result = fn(**kwargs)
        except (ValueError, TypeError, AttributeError, KeyError) as exc:
            # Refusing the input loudly is fail-closed too, but only for inputs the filler could
            # not make meaningful; record which so a reviewer sees it.
            pytest.skip(f"{name} rejects its zero input: {exc!r}")
        assert isinstance(result, CheckResult), name
        assert result.verdict != Verdict.PASS, f"{name}({kwargs!r}) PASSed on nothing: {result.reason}"
    for make in _extra().get(name, []):
        result = make()
        assert result.verdict != Verdict.PASS, f"{name}: {result.reason}"


def test_every_judge_is_found() -> None:
    names = {n for n, _ in JUDGES}
    # A sample of the judges this rule must cover; a module renamed away would silently drop out.
    for expected in ("surface.judge_open_ports", "surface.judge_debug_interfaces",
                     "surface.judge_unauthenticated_disclosure", "network_auth.judge_rogue_broker",
                     "traffic.judge_security_parameters", "updates.judge_negative_update",
                     "resilience.judge_input_validation", "bruteforce.judge_brute_force"):
        assert expected in names
    assert set(_extra()) <= names


# -- 3. AST net --------------------------------------------------------------------------------------
def _silent_pass_calls(tree: ast.AST) -> list[int]:
    lines = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        starred = any(isinstance(a, ast.Starred) for a in node.args) or any(k.arg is None for k in node.keywords)
        if starred:
            continue
        if isinstance(f, ast.Attribute) and f.attr == "passed" and isinstance(f.value, ast.Name) \
                and f.value.id == "CheckResult":
            if len(node.args) < 2 and not any(k.arg == "evidence" for k in node.keywords):
                lines.append(node.lineno)
        elif isinstance(f, ast.Name) and f.id == "CheckResult" and node.args:
            first = node.args[0]
            if isinstance(first, ast.Attribute) and first.attr == "PASS" and len(node.args) < 3 \
                    and not any(k.arg == "evidence" for k in node.keywords):
                lines.append(node.lineno)
    return lines


def test_no_pass_is_built_without_evidence_in_harness() -> None:
    offenders = []
    for path in sorted((ROOT / "harness").rglob("*.py")):
        if "sim" in path.relative_to(ROOT).parts:
            continue
        for line in _silent_pass_calls(ast.parse(path.read_text(encoding="utf-8"))):
            offenders.append(f"{path.relative_to(ROOT)}:{line}")
    assert not offenders, "PASS built without evidence: " + ", ".join(offenders)


def test_the_ast_net_catches_what_it_should() -> None:
    src = ("CheckResult.passed('x')\nCheckResult.passed('x', ev)\nCheckResult(Verdict.PASS, 'x')\n"
           "CheckResult.passed('x', *ev)\n")
    assert _silent_pass_calls(ast.parse(src)) == [1, 3]


# -- 4. verdicts seen on real devices ------------------------------------------------------------------
def test_dead_unit_is_not_a_pass_for_5_6() -> None:
    from harness.checks.surface import DebugProbe, PortFacts, judge_debug_interfaces, judge_open_ports
    ixit = [{"name": "web", "port": "tcp/443", "status": "enabled"}]
    # 5.6-1-2 "PASS" after the unit died: the scan found 0 open ports.
    assert judge_open_ports(PortFacts("127.0.0.1", [], True, alive_after=False), ixit).verdict == Verdict.INCONCLUSIVE
    # 5.6-4-2 "PASS: 0 open ports probed".
    assert judge_debug_interfaces([], open_ports=[], declared_enabled=[443]).verdict == Verdict.INCONCLUSIVE
    # A frozen unit: the kernel completes the handshake, the service says nothing.
    frozen = judge_debug_interfaces([DebugProbe(4444, "", "")], open_ports=[443, 4444], declared_enabled=[443])
    assert frozen.verdict == Verdict.INCONCLUSIVE


def test_a_plaintext_client_is_not_a_certificate_refusal() -> None:
    from harness.checks.network_auth import RogueBrokerObservation, judge_rogue_broker
    r = judge_rogue_broker(RogueBrokerObservation(
        tls_failures=["127.0.0.1: error:0A00010B:SSL routines::wrong version number"], alive_after=True))
    assert r.verdict == Verdict.FAIL


def test_a_value_that_could_not_be_read_is_no_evidence() -> None:
    """Seen on a real device: "FAIL: the device installed a package … None → 4.0.0" when the version
    read failed and the device had answered HTTP 422; and PASS on an empty model read."""
    from harness.checks import updates
    tampered = updates.UpdateRound("flip_byte", "pkg", "4.0.0", "refused", "HTTP 422", None, "4.0.0")
    assert updates.judge_negative_update(tampered).verdict != Verdict.FAIL
    assert updates.judge_model_designation("", "Hub H1").verdict == Verdict.INCONCLUSIVE
    assert updates.judge_model_designation("Hub H1", " ").verdict == Verdict.INCONCLUSIVE
    unknown = updates.UpdateCrypto(None, [], None)  # signature not determined
    assert updates.judge_update_crypto(unknown).verdict == Verdict.INCONCLUSIVE
