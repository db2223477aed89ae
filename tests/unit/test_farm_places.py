"""labgrid places without a coordinator: --place syntax, resources → runtime facts, labgrid absent."""

from __future__ import annotations

import argparse
import importlib.util

import pytest

from harness.farm import places
from harness.farm.places import PlaceRequest, PlaceUsageError, facts_from_env, overlay_runtime

UNITS = ["U1", "U2"]


@pytest.mark.parametrize(("text", "expected"), [
    ("U1=hub-3", PlaceRequest("U1", name="hub-3")),
    ("U2=board=hub,site=east", PlaceRequest("U2", tags=(("board", "hub"), ("site", "east")))),
    ("U1=+ABC123", PlaceRequest("U1", token="ABC123")),
])
def test_place_syntax(text: str, expected: PlaceRequest) -> None:
    assert PlaceRequest.parse(text, UNITS) == expected


def test_a_single_unit_run_needs_no_unit_name(monkeypatch: pytest.MonkeyPatch) -> None:
    assert PlaceRequest.parse("hub-3", ["U1"]) == PlaceRequest("U1", name="hub-3")
    assert PlaceRequest.parse("board=hub", ["U1"]) == PlaceRequest("U1", tags=(("board", "hub"),))
    monkeypatch.setenv("LG_TOKEN", "TOK")
    monkeypatch.setenv("LG_PLACE", "bench-7")
    assert PlaceRequest.parse("U1=+", UNITS) == PlaceRequest("U1", token="TOK")
    assert PlaceRequest.parse("U1=", UNITS) == PlaceRequest("U1", name="bench-7")
    assert PlaceRequest("U1", name="hub-3").filters == ["name=hub-3"]


@pytest.mark.parametrize("text", ["hub-3", "U7=hub", "U1=Board=x", "U1=+"])
def test_place_syntax_errors(text: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("LG_TOKEN", raising=False)
    with pytest.raises(PlaceUsageError):
        PlaceRequest.parse(text, UNITS)


ENV = {"targets": {"hub-3": {"resources": [
    {"NetworkPowerPort": {"host": "http://pdu:80/{index}/{value}", "index": 2, "model": "simplerest"}},
    {"NetworkSerialPort": {"name": "RawSerialPort", "speed": 115200, "host": "10.0.0.5", "port": 40123}},
    {"NetworkService": {"address": "192.168.7.9%eth1", "username": "root"}},
]}}}


def test_resources_resolve_to_runtime_facts() -> None:
    f = facts_from_env("U1", "hub-3", "TOK", ENV)
    assert f.console == "rfc2217://10.0.0.5:40123?ign_set_control"
    assert f.power == {"model": "simplerest", "host": "http://pdu:80/{index}/{value}", "index": "2"}
    assert f.address == "192.168.7.9"
    raw = {"targets": {"p": {"resources": [{"NetworkSerialPort": {"host": "h", "port": 5, "protocol": "raw"}}]}}}
    assert facts_from_env("U1", "p", "T", raw).console == "socket://h:5"
    unexported = {"targets": {"p": {"resources": [{"NetworkSerialPort": {"host": "h", "port": None}}]}}}
    assert facts_from_env("U1", "p", "T", unexported).console is None


def test_overlay_keeps_the_other_facts() -> None:
    base = {"https": {"ca": "/x"}, "units": {"U1": {"console": "/dev/pts/3", "supply": "TCPIP::…"}, "U2": {"x": 1}}}
    out = overlay_runtime(base, {"U1": facts_from_env("U1", "hub-3", "TOK", ENV)})
    assert out["units"]["U1"]["console"].startswith("rfc2217://10.0.0.5:40123")
    assert out["units"]["U1"]["supply"] == "TCPIP::…" and out["units"]["U1"]["place"] == "hub-3"
    assert out["units"]["U2"] == {"x": 1} and out["https"] == {"ca": "/x"}
    assert base["units"]["U1"]["console"] == "/dev/pts/3"  # the base is not changed


def test_without_labgrid_a_place_is_a_usage_error(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(places.importlib.util, "find_spec", lambda name, *a: None if name == "labgrid" else real(name, *a))
    assert "pip install" in (places.labgrid_missing() or "")
    from harness.cli import main
    assert main(["run", "device_profiles/sim-compliant.yaml", "--place", "U1=hub-3"]) == 2
    assert "labgrid" in capsys.readouterr().err


def test_power_back_end_names_are_checked() -> None:
    from harness.farm.power import LabgridPower
    if importlib.util.find_spec("labgrid") is None:
        pytest.skip("labgrid not installed (the farm extra)")
    with pytest.raises(PlaceUsageError):
        LabgridPower("../../os", "h").set(True)
    with pytest.raises(PlaceUsageError):
        LabgridPower("no_such_switch", "h").get()


def test_run_parser_accepts_places() -> None:
    from harness.cli import build_parser
    args = build_parser().parse_args(["run", "p.yaml", "--place", "U1=hub", "--place", "U2=board=x",
                                      "--coordinator", "127.0.0.1:20408", "--place-wait", "5"])
    assert args.place == ["U1=hub", "U2=board=x"] and args.place_wait == 5.0
    assert isinstance(args, argparse.Namespace)


class FakeClient:
    """labgrid-client stand-in: records the calls; `fail_acquire` names places that are busy."""

    def __init__(self, fail_acquire: set[str] | None = None) -> None:
        self.calls: list[tuple[str, ...]] = []
        self.fail_acquire = fail_acquire or set()
        self.tokens = 0

    def reserve(self, filters: list[str], wait: float) -> str:
        self.tokens += 1
        self.calls.append(("reserve", *filters))
        return f"T{self.tokens}:{filters[0].split('=', 1)[1]}"

    def place_of(self, token: str) -> str:
        return token.split(":", 1)[1]

    def acquire(self, token: str) -> None:
        self.calls.append(("acquire", token))
        if self.place_of(token) in self.fail_acquire:
            raise places.PlaceError(f"place {self.place_of(token)} is already acquired")

    def env(self, token: str) -> dict:
        return {"targets": {self.place_of(token): {"resources": [
            {"NetworkSerialPort": {"host": "127.0.0.1", "port": 4000 + self.tokens}}]}}}

    def release(self, token: str) -> None:
        self.calls.append(("release", token))

    def cancel(self, token: str) -> None:
        self.calls.append(("cancel", token))


def test_session_releases_everything_it_holds() -> None:
    import io
    client = FakeClient()
    reqs = [PlaceRequest("U1", name="a"), PlaceRequest("U2", name="b"), PlaceRequest("U3", token="MINE:c")]
    with places.PlaceSession(reqs, client=client, out=io.StringIO()) as facts:  # type: ignore[arg-type]
        assert facts["U1"].console == "rfc2217://127.0.0.1:4001?ign_set_control"
        assert set(facts) == {"U1", "U2", "U3"}
    tail = client.calls[-5:]
    # released in reverse order; only the reservations this run made are cancelled
    assert tail == [("release", "MINE:c"), ("release", "T2:b"), ("cancel", "T2:b"), ("release", "T1:a"),
                    ("cancel", "T1:a")]


def test_a_failed_acquire_releases_the_places_already_held() -> None:
    import io
    client = FakeClient(fail_acquire={"b"})
    session = places.PlaceSession([PlaceRequest("U1", name="a"), PlaceRequest("U2", name="b")],
                                  client=client, out=io.StringIO())  # type: ignore[arg-type]
    with pytest.raises(places.PlaceError):
        session.open()
    assert ("release", "T1:a") in client.calls and ("cancel", "T1:a") in client.calls
    assert ("cancel", "T2:b") in client.calls and ("release", "T2:b") not in client.calls


def test_farm_local_without_labgrid_is_a_usage_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from harness.cli import build_parser, main
    args = build_parser().parse_args(["farm", "local", "--units", "3", "--persona", "legacy"])
    assert (args.units, args.persona, args.time_scale) == (3, "legacy", 0.0)
    real = importlib.util.find_spec
    monkeypatch.setattr(places.importlib.util, "find_spec", lambda name, *a: None if name == "labgrid" else real(name, *a))
    assert main(["farm", "local"]) == 2
