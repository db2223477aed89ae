"""What the defective plug's shell makes of a setting (harness.sim.plug.busybox): nothing runs on
the host, the applets are answered from a table."""

from __future__ import annotations

import pytest

from harness.sim.plug import busybox

ID = busybox.APPLETS["id"]


@pytest.mark.parametrize(("value", "stored"), [
    ("pool.ntp.org", "pool.ntp.org"),
    ("$(id)", ID),
    ("`id`", ID),
    ("x;id", f"x {ID}"),
    ("x|id", f"x {ID}"),
    ("x&&id", f"x {ID}"),
    ("x\nid", f"x {ID}"),
    ("$(echo HX$((12345+54321)))", "HX66666"),
    ("`echo HX$((1+2))`", "HX3"),
    ("x;nosuch", "x sh: nosuch: not found"),
])
def test_ntp_setting(value: str, stored: str) -> None:
    assert busybox.ntp_setting(value) == stored


def test_substitution_depth_and_command_count_are_bounded() -> None:
    deep = "$(echo " * 50 + "x" + ")" * 50
    assert len(busybox.ntp_setting(deep)) < 1000
    many = ";".join(["id"] * 1000)
    assert busybox.run_script(many).count("uid=") == busybox.MAX_COMMANDS
