"""Command lines of Robot runs: one process with one unit, pabot per unit then the product run."""

from __future__ import annotations

from pathlib import Path

from harness.robot.runner import LISTENER, RobotRun, plan, rerun_plan


def _run(tmp_path: Path, units: list[str], **kw) -> RobotRun:
    return RobotRun(profile="/p/profile.yaml", lab="/p/lab.yaml", run_dir=tmp_path / "run", units=units,
                    suites=Path("/suites"), python="py", **kw)


def _option_values(cmd: list[str], option: str) -> list[str]:
    return [cmd[i + 1] for i, c in enumerate(cmd) if c == option]


def test_one_unit_is_one_robot_process_with_every_scope(tmp_path: Path) -> None:
    (step,) = plan(_run(tmp_path, ["U1"]))
    assert step.cmd[:3] == ["py", "-m", "robot"] and step.cmd[-1] == "/suites"
    assert "HARNESS_UNIT:U1" in _option_values(step.cmd, "--variable")
    assert _option_values(step.cmd, "--prerunmodifier") == ["harness.robot.scopes.KeepScopes:unit,profile,cross_unit"]


def test_several_units_run_through_pabot_then_the_product_process(tmp_path: Path) -> None:
    run = _run(tmp_path, ["U1", "U2", "U3"], extra=["--include", "5.1-1-2"])
    units, product = plan(run)
    cmd = units.cmd
    assert cmd[:3] == ["py", "-m", "pabot.pabot"]
    assert cmd[cmd.index("--command") + 1:cmd.index("--end-command")] == ["py", "-m", "robot"]
    assert _option_values(cmd, "--processes") == ["3"] and "--no-pabotlib" in cmd
    for n, unit in enumerate(["U1", "U2", "U3"], start=1):
        argfile = Path(_option_values(cmd, f"--argumentfile{n}")[0])
        assert f"--variable HARNESS_UNIT:{unit}" in argfile.read_text()
    # The whole suite tree is one pabot item, so a unit's test cases run in order in one process.
    assert Path(_option_values(cmd, "--ordering")[0]).read_text() == "--suite Conformance\n"
    assert _option_values(cmd, "--prerunmodifier") == ["harness.robot.scopes.KeepScopes:unit"]
    assert _option_values(product.cmd, "--prerunmodifier") == ["harness.robot.scopes.KeepScopes:profile,cross_unit"]
    assert product.cmd[:3] == ["py", "-m", "robot"]
    for c in (cmd, product.cmd):
        listeners = _option_values(c, "--listener")
        # Ours before Allure's: it ends a test while Allure still has it open.
        assert listeners[0] == LISTENER and listeners[1].startswith("allure_robotframework:")
        assert "HARNESS_UNITS:U1,U2,U3" in _option_values(c, "--variable")
        assert f"HARNESS_RUN_DIR:{run.run_dir}" in _option_values(c, "--variable")
        assert _option_values(c, "--include") == ["5.1-1-2"]  # the user's selection, untouched
        assert _option_values(c, "--name") == ["Conformance"]


def test_rerun_repeats_exactly_the_named_tests_on_their_units(tmp_path: Path) -> None:
    records = [{"unit": "U2", "name": "Conformance.Clause 5 1.5.1-1-2 No default"},
               {"unit": "*", "name": "Conformance.Clause 5 1.5.1-2-2 Across [units]"},
               {"unit": None, "name": "Conformance.Clause 4.4-1-1 Justification?"}]
    unit_step, product_step = rerun_plan(_run(tmp_path, ["U1", "U2"]), records)
    assert "HARNESS_UNIT:U2" in _option_values(unit_step.cmd, "--variable")
    assert _option_values(unit_step.cmd, "--test") == ["Conformance.Clause 5 1.5.1-1-2 No default"]
    assert sorted(_option_values(product_step.cmd, "--test")) == [
        "Conformance.Clause 4.4-1-1 Justification[?]", "Conformance.Clause 5 1.5.1-2-2 Across [[]units]"]
