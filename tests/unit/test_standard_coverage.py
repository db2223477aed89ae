"""What the harness automates (coverage.yaml), checked against the suites, and the terminal table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from harness.standard import Catalogue, format_catalogue, load_catalogue

ROOT = Path(__file__).resolve().parents[2]
MARKER = re.compile(r"""@pytest\.mark\.conformance\(\s*["']([^"']+)["']""")

# The test cases automated when coverage.d/ was introduced: none of them may silently drop out.
BASELINE = {
    "5.1-3-2": "test_suites/pytest/test_5_1_3_authentication_channel.py",
    "4-1-1": "test_suites/pytest/test_4_reporting.py",
    "5.1-1-2": "test_suites/pytest/test_5_1_passwords.py",
    "5.1-2-1": "test_suites/pytest/test_5_1_passwords.py",
    "5.1-2-2": "test_suites/pytest/test_5_1_passwords.py",
    "5.1-4-2": "test_suites/pytest/test_5_1_passwords.py",
    "5.2-1-1": "test_suites/pytest/test_5_2_disclosure.py",
    "5.2-1-2": "test_suites/pytest/test_5_2_disclosure.py",
    "5.3-13-1": "test_suites/pytest/test_5_3_support.py",
    "5.3-13-2": "test_suites/pytest/test_5_3_support.py",
    "5.11-1-2": "test_suites/pytest/test_5_11_erasure.py",
    "5.1-5-2": "test_suites/pytest/test_5_1_5_brute_force.py",
    "5.3-2-2": "test_suites/pytest/test_5_3_updates.py",
    "5.3-7-1": "test_suites/pytest/test_5_3_updates.py",
    "5.3-9-1": "test_suites/pytest/test_5_3_updates.py",
    "5.3-10-1": "test_suites/pytest/test_5_3_updates.py",
    "5.3-16-2": "test_suites/pytest/test_5_3_updates.py",
    "5.7-1-2": "test_suites/pytest/test_5_3_updates.py",
    "5.5-1-2": "test_suites/pytest/test_5_5_communication.py",
    "5.5-5-2": "test_suites/pytest/test_5_5_communication.py",
    "5.6-1-2": "test_suites/pytest/test_5_6_surface.py",
    "5.6-2-2": "test_suites/pytest/test_5_6_surface.py",
    "5.6-4-2": "test_suites/pytest/test_5_6_surface.py",
    "5.9-1-2": "test_suites/pytest/test_5_9_resilience.py",
    "5.9-2-2": "test_suites/pytest/test_5_9_resilience.py",
    "5.13-1-2": "test_suites/pytest/test_5_9_resilience.py",
    "5.5-7-2": "test_suites/pytest/test_5_5_communication.py",
    "5.8-2-2": "test_suites/pytest/test_5_8_personal_data.py",
}


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


def suite_markers() -> dict[str, set[str]]:
    """Test case id -> suite modules (relative to the project root) that carry its marker."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / "test_suites").rglob("test_*.py")):
        for tid in MARKER.findall(path.read_text(encoding="utf-8")):
            found.setdefault(tid, set()).add(path.relative_to(ROOT).as_posix())
    return found


def test_automated_test_cases(cat: Catalogue) -> None:
    automated = {tid: tc.automated_by for tid, tc in cat.test_cases.items() if tc.automated}
    assert {tid: automated.get(tid) for tid in BASELINE} == BASELINE
    assert all(tc.automated_by is None and tc.automated_kind is None
               for tc in cat.test_cases.values() if not tc.automated)
    assert cat.test_cases["5.1-1-2"].automated_kind == "functional"
    assert cat.test_cases["4-1-1"].automated_kind == "conceptual"


def test_coverage_ids_exist(cat: Catalogue) -> None:
    assert set(BASELINE) <= set(cat.test_cases)


def test_each_covered_case_is_run_by_its_suite(cat: Catalogue) -> None:
    markers = suite_markers()
    if not markers:
        pytest.skip("no suites in this checkout")
    for tc in cat.automated:
        assert (ROOT / tc.automated_by).is_file(), tc.automated_by
        assert tc.automated_by in markers.get(tc.id, set()), f"{tc.automated_by} has no marker for {tc.id}"


def test_every_suite_marker_is_in_the_catalogue_and_covered(cat: Catalogue) -> None:
    for tid, suites in suite_markers().items():
        assert tid in cat.test_cases, f"{sorted(suites)} mark unknown test case {tid}"
        assert cat.test_cases[tid].automated, f"{tid} is run by {sorted(suites)} but coverage.yaml omits it"


def test_coverage_table(cat: Catalogue) -> None:
    table = cat.coverage_table()
    assert len(table) == 109
    assert [row["id"] for row in table] == list(cat.test_cases)
    assert set(table[0]) == {"id", "provision", "status", "kind", "automated", "automated_by"}
    row = next(r for r in table if r["id"] == "5.1-1-2")
    assert row == {"id": "5.1-1-2", "provision": "5.1-1", "status": "MC", "kind": "functional",
                   "automated": True, "automated_by": "test_suites/pytest/test_5_1_passwords.py"}
    assert sum(r["automated"] for r in table) == len(cat.automated)


def test_format_catalogue_without_ics(cat: Catalogue) -> None:
    text = format_catalogue(cat)
    lines = text.splitlines()
    assert lines[0].startswith("ETSI EN 303 645 V2.1.1 (2020-06)")
    n = len(cat.automated)
    assert f"109 test cases: {n} automated, {109 - n} need an assessor" in lines
    assert "68 provisions: 33 mandatory, 35 recommendations" in lines
    assert "Applies" not in text
    assert "5.1  No universal default passwords" in lines
    row = next(line for line in lines if line.split()[:1] == ["5.1-1"])
    assert "MC(1)" in row and "[A] 5.1-1-2 (F)" in row and " 5.1-1-1 (C)" in row
    assert "[A] 5.3-10-1 (C+F)" in text and "[ ] 5.3-10-2" not in text
    for pid in cat.provisions:
        assert any(line.split()[:1] == [pid] for line in lines), pid


def test_format_catalogue_with_ics(cat: Catalogue) -> None:
    ics = {"conditions": {**{n: True for n in range(1, 14)}, 2: False, 13: False},
           "provisions": {"5.6-4": {"support": "N/A"}, "5.3-3": {"support": "N/A"}}}
    del ics["conditions"][7]
    text = format_catalogue(cat, ics)
    lines = text.splitlines()

    def applies(pid: str) -> str:
        return next(line for line in lines if line.split()[:1] == [pid]).split()[2]

    assert applies("5.1-1") == "yes"
    assert applies("5.1-2") == "no"
    assert applies("5.6-4") == "no"
    assert applies("5.3-3") == "yes*"  # N/A though condition 12 holds
    assert applies("6-2") == "yes*"  # condition 7 unanswered
    assert "Applicability notes:" in lines
    assert any(line.startswith("  5.3-3 (MC) ") and "N/A" in line for line in lines)
    assert any(line.startswith("  6-2 (MC) ") and "condition 7" in line for line in lines)
    assert "68 provisions: 33 mandatory, 35 recommendations; 66 applicable to this product" in lines


def test_format_catalogue_only_automated(cat: Catalogue) -> None:
    text = format_catalogue(cat, only_automated=True)
    shown = {tid for tid in cat.test_cases if f" {tid} (" in text}
    assert shown == {tc.id for tc in cat.automated}
    assert "[ ]" not in text.split("\n", 1)[1].replace("[ ] needs an assessor", "")
    assert "5.11  Make it easy for users to delete user data" in text
    assert "5.5  Communicate securely" in text
    for clause in {cat.provisions[tc.provision].clause for tc in cat.test_cases.values()} - \
            {cat.provisions[tc.provision].clause for tc in cat.automated}:
        assert f"\n{clause}  " not in text  # a clause with nothing automated is not shown
    n = len(cat.automated)
    assert f"109 test cases: {n} automated, {109 - n} need an assessor" in text
