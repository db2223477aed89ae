"""Broken profiles: each gives one-line errors naming file, line and field; the CLI exits 2."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.profile import ConfigError, load_profile

ROOT = Path(__file__).resolve().parents[2]
GOOD = (ROOT / "device_profiles" / "sim-compliant.yaml").read_text()


def _mutate(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1)


def _line_of(text: str, needle: str) -> int:
    for n, line in enumerate(text.splitlines(), 1):
        if needle in line:
            return n
    raise AssertionError(needle)


# (name, broken text, expected field, needle on the expected line, message fragment)
CASES = [
    ("yaml syntax", _mutate("  model: SimIoT Hub H1", "  model: [SimIoT Hub H1"), "", "hardware: rev B", "YAML syntax error"),
    ("unknown key", _mutate("  hardware: rev B", "  hardwear: rev B"), "product.hardwear", "hardwear", "unknown key"),
    ("wrong type", _mutate("    baud: 115200", "    baud: fast"), "links.console.baud", "baud: fast", "integer"),
    ("missing procedure", _mutate("  factory_reset:\n", "  factory_rest:\n"), "procedures", "procedures:", "factory_reset"),
    ("bad URL", _mutate("    links: {console: {url: {runtime: units.U2.console}}, supply: {resource: {runtime: units.U2.supply}}}", "    links: {console: {url: 'http://x'}}"),
     "units[1].links.console.url", "url: 'http://x'", "pyserial URL"),
    ("duplicate unit", _mutate("  - id: U2", "  - id: U1"), "units[1].id", "- id: U1\n", "duplicate unit id"),
    ("bad MAC", _mutate('mac: "02:53:49:A1:7C:32"', 'mac: "02:53:49:A1:7C"'), "units[1].mac", '02:53:49:A1:7C"', "MAC"),
    ("duplicate key", _mutate("  booted:\n", "  logout:  # again\n    - console.send: x\n  booted:\n"), "procedures.logout",
     "# again", "duplicate key"),
    ("unknown link in step", _mutate("    - console.send: exit", "    - consol.send: exit"), "procedures.logout[0].consol.send",
     "consol.send", "no link named 'consol'"),
    ("unknown verb", _mutate("    - console.send: reboot", "    - console.sned: reboot"), "procedures.reboot[0].console.sned",
     "console.sned", "no step 'sned'"),
    ("bad regex", _mutate("'firmware (?P<version>\\S+)'", "'firmware (?P<version>\\S+'"), "procedures.read_version[1].console.expect",
     "firmware (?P<version>", "regular expression"),
    ("bad ICS condition", _mutate("13: true}", "14: true}"), "ics.conditions", "conditions:", "1..13"),
    ("wait_for unknown", _mutate("    - wait_for: booted\n      timeout: 30\n  factory_reset", "    - wait_for: bootd\n      timeout: 30\n  factory_reset"),
     "procedures.reboot[2].wait_for", "bootd", "no procedure named 'bootd'"),
    ("schema version", _mutate("schema_version: 1", "schema_version: 7"), "schema_version", "schema_version", "1"),
    ("missing field", _mutate("    serial: SIM-C-0002\n", ""), "units[1].serial", "- id: U2", "missing required field"),
    ("bad reference", _mutate("{secret: SIM_U1_LABEL}", "{secrets: SIM_U1_LABEL}"), "units[0].accounts.admin.password",
     "secrets: SIM_U1_LABEL", "{secret: NAME}"),
]


@pytest.mark.parametrize("name,text,field,needle,fragment", CASES, ids=[c[0] for c in CASES])
def test_broken_profile_is_located(tmp_path: Path, name: str, text: str, field: str, needle: str, fragment: str) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        load_profile(path)
    issues = err.value.issues
    assert issues, name
    first = [i for i in issues if i.field == field] or issues
    issue = first[0]
    assert issue.field == field, [str(i) for i in issues]
    assert issue.line == _line_of(text, needle.rstrip("\n")) or (needle.endswith("\n") and issue.line), str(issue)
    assert fragment in issue.message, str(issue)
    line = str(issue)
    assert "\n" not in line and line.startswith(f"{path}:{issue.line}: "), line


def test_cli_validate_exits_2_without_traceback(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(CASES[2][1])
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "validate", str(path)], capture_output=True, text=True)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert re.match(rf"^{re.escape(str(path))}:\d+: links\.console\.baud: ", proc.stderr)


def test_cli_validate_ok() -> None:
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "validate", str(ROOT / "device_profiles" / "sim-compliant.yaml")],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert "OK" in proc.stdout


def test_missing_file_is_usage_error(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-m", "harness.cli", "validate", str(tmp_path / "nope.yaml")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "file not found" in proc.stderr and "Traceback" not in proc.stderr
