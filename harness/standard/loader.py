"""Load one EN 303 645 edition from package data and cross-check every file it draws on.

An edition is ``data/en303645-<edition>.yaml``; it names its assessment spec
(``data/<assessment>.yaml`` + CSV of test cases) and its PSTI mapping (``data/<psti>.yaml``);
``data/coverage.yaml`` says which test cases the harness automates. Any inconsistency is a
``CatalogueError`` listing every problem, so a data typo fails the unit tests, not a run.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Mapping
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any

import yaml

from harness.standard.model import (
    KINDS,
    Catalogue,
    Provision,
    PstiRequirement,
    SchemeEntry,
    SchemeMapping,
    TestCase,
)

DEFAULT_EDITION = "v2.1.1"
EDITION_PREFIX = "en303645-"
COVERAGE_FILE = "coverage.yaml"
COVERAGE_DIR = "coverage.d"

# Clause "4", "5.1", "5.0" (V3.1.3) or "6", a dash, a number, and the letter V3.1.3 uses to split.
PROVISION_ID = re.compile(r"^(\d+(?:\.\d+)?)-\d+[A-Z]?$")
STATUS_KEYS = {"mandatory", "conditional", "feature", "meaning"}
PROVISION_KEYS = {"id", "status", "conditions", "features", "summary"}
MAPPING_PREFIX = "map-"


class CatalogueError(ValueError):
    """The catalogue data is missing or inconsistent; the message lists every problem found."""

    def __init__(self, issues: list[str]) -> None:
        self.issues = issues
        super().__init__("; ".join(issues) if len(issues) == 1 else
                         f"{len(issues)} problems in the catalogue data:\n  " + "\n  ".join(issues))


def normalise_edition(edition: str) -> str:
    """``"V2.1.1"``, ``"2.1.1"`` and ``"v2.1.1"`` all name edition ``"v2.1.1"``."""
    text = str(edition).strip().lower()
    return text if text.startswith("v") else f"v{text}"


def available_editions() -> list[str]:
    names = (p.name for p in _data().iterdir())
    return sorted(n[len(EDITION_PREFIX):-len(".yaml")] for n in names
                  if n.startswith(EDITION_PREFIX) and n.endswith(".yaml"))


@functools.cache
def _cached(edition: str) -> Catalogue:
    return load(edition)


def load_catalogue(edition: str = DEFAULT_EDITION) -> Catalogue:
    """The catalogue of one edition, loaded once per process (treat it as read-only)."""
    return _cached(normalise_edition(edition))


def load(edition: str) -> Catalogue:
    """Read and check an edition's data afresh (``load_catalogue`` is the cached entry point)."""
    edition = normalise_edition(edition)
    name = f"{EDITION_PREFIX}{edition}.yaml"
    if not (_data() / name).is_file():
        raise CatalogueError([f"no EN 303 645 edition {edition!r} in the catalogue "
                              f"(available: {', '.join(available_editions()) or 'none'})"])
    issues: list[str] = []
    doc = _yaml(name)
    if doc.get("edition") != edition:
        issues.append(f"{name}: edition is {doc.get('edition')!r}, the file name says {edition!r}")

    statuses = _statuses(name, doc.get("statuses"), issues)
    conditions = _conditions(name, doc.get("conditions"), issues)
    features = _features(name, doc.get("features"), issues)
    clauses = _clauses(name, doc.get("clauses"), issues)
    provisions = _provisions(name, doc.get("provisions"), statuses, conditions, features, clauses, issues)

    test_cases: dict[str, TestCase] = {}
    ixit: dict[str, str] = {}
    assessment_ref: str | None = None
    if doc.get("assessment"):
        assessment = str(doc["assessment"])
        assessment_ref, ixit, test_cases = _assessment(assessment, edition, provisions, issues)
        _apply_coverage(assessment, test_cases, issues)

    via = _Via()
    if doc.get("assessed_via"):
        if doc.get("assessment"):
            issues.append(f"{name}: give either assessment or assessed_via, not both")
        else:
            via = _assessed_via(name, doc["assessed_via"], edition, provisions, issues)
            test_cases, ixit, assessment_ref = via.test_cases, via.ixit, via.assessment

    psti: list[PstiRequirement] = []
    if doc.get("psti"):
        psti = _psti(str(doc["psti"]), edition, provisions, issues)

    if issues:
        raise CatalogueError(issues)

    by_provision: dict[str, list[str]] = {pid: [] for pid in provisions}
    for tc in test_cases.values():
        by_provision[tc.provision].append(tc.id)
    by_psti: dict[str, list[int]] = {pid: [] for pid in provisions}
    for req in psti:
        for pid in req.provisions:
            by_psti[pid].append(req.number)
    linked = {pid: Provision(id=p.id, clause=p.clause, status=p.status, conditions=p.conditions,
                             summary=p.summary, mandatory=p.mandatory, conditional=p.conditional,
                             test_cases=by_provision[pid], psti=by_psti[pid], features=p.features,
                             unassessed=via.unassessed.get(pid, ""))
              for pid, p in provisions.items()}
    mappings = _mappings(edition, via, provisions)
    return Catalogue(edition=edition, title=_text(doc.get("title")), reference=_text(doc.get("reference")),
                     conditions=conditions, clauses=clauses, provisions=linked, test_cases=test_cases,
                     psti=psti, assessment=assessment_ref, ixit_documents=ixit, features=features,
                     assessed_via=via.edition, provision_map=via.provision_map, mappings=mappings)


# --- files -----------------------------------------------------------------------------------

def _data() -> Traversable:
    return resources.files("harness.standard") / "data"


def _read(name: str) -> str:
    path = _data() / name
    if not path.is_file():
        raise CatalogueError([f"catalogue data file {name} is missing"])
    return path.read_text(encoding="utf-8")


# The package's own data files are trusted and long: libyaml's parser (when PyYAML was built with
# it) reads them several times faster than the pure-Python one; the results are the same.
_DATA_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_data(text: str) -> Any:
    """One YAML document of the package's own data (never a user's file: those go through
    harness.profile.yamlpos, with lines and bounds)."""
    return yaml.load(text, Loader=_DATA_LOADER)  # noqa: S506 (a safe loader)


def _yaml(name: str) -> dict[str, Any]:
    try:
        doc = load_data(_read(name))
    except yaml.YAMLError as exc:
        raise CatalogueError([f"{name}: not valid YAML: {exc}"]) from None
    if not isinstance(doc, dict):
        raise CatalogueError([f"{name}: expected a mapping at the top level"])
    return doc


def _text(value: Any) -> str:
    return " ".join(str(value).split()) if value is not None else ""


# --- edition ---------------------------------------------------------------------------------

def _statuses(name: str, raw: Any, issues: list[str]) -> dict[str, tuple[bool, bool, bool]]:
    """Status code -> (mandatory, conditional, feature-dependent)."""
    out: dict[str, tuple[bool, bool, bool]] = {}
    if not isinstance(raw, dict) or not raw:
        issues.append(f"{name}: statuses must map each status code to its properties")
        return out
    for code, props in raw.items():
        if not isinstance(props, dict) or not isinstance(props.get("mandatory"), bool) \
                or not isinstance(props.get("conditional"), bool):
            issues.append(f"{name}: statuses.{code}: needs mandatory and conditional, each true or false")
            continue
        unknown = set(props) - STATUS_KEYS
        if unknown:
            # A property we have no rule for (e.g. feature-dependent) must not be silently ignored.
            issues.append(f"{name}: statuses.{code}: no applicability rule for {sorted(unknown)}")
            continue
        feature = props.get("feature", False)
        if not isinstance(feature, bool):
            issues.append(f"{name}: statuses.{code}: feature must be true or false")
            continue
        out[str(code)] = (props["mandatory"], props["conditional"], feature)
    return out


def _features(name: str, raw: Any, issues: list[str]) -> dict[str, str]:
    """Table B.1 features (V3.1.3): letter -> what the product must have for an F status to apply."""
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        issues.append(f"{name}: features must map Table B.1 feature letters to their text")
        return {}
    out: dict[str, str] = {}
    for key, text in raw.items():
        if not isinstance(key, str) or not re.fullmatch(r"[a-z]{1,2}", key) \
                or not isinstance(text, str) or not text.strip():
            issues.append(f"{name}: features.{key}: needs a letter (quoted) and a text")
            continue
        out[key] = text.strip()
    return out


def _conditions(name: str, raw: Any, issues: list[str]) -> dict[int, str]:
    if not isinstance(raw, dict) or not raw:
        issues.append(f"{name}: conditions must map Table B.1 numbers to their text")
        return {}
    out: dict[int, str] = {}
    for key, text in raw.items():
        if not isinstance(key, int) or isinstance(key, bool) or not isinstance(text, str) or not text.strip():
            issues.append(f"{name}: conditions.{key}: needs a number and a text")
            continue
        out[key] = text.strip()
    return out


def _clauses(name: str, raw: Any, issues: list[str]) -> dict[str, str]:
    if not isinstance(raw, dict) or not raw:
        issues.append(f"{name}: clauses must map clause ids to titles")
        return {}
    out: dict[str, str] = {}
    for key, title in raw.items():
        if not isinstance(key, str):
            issues.append(f"{name}: clauses.{key}: quote the clause id (YAML reads 5.1 and 5.10 as one number)")
        elif not isinstance(title, str) or not title.strip():
            issues.append(f"{name}: clauses.{key}: needs a title")
        else:
            out[key] = title.strip()
    return out


def _provisions(name: str, raw: Any, statuses: dict[str, tuple[bool, bool, bool]], conditions: dict[int, str],
                features: dict[str, str], clauses: dict[str, str], issues: list[str]) -> dict[str, Provision]:
    out: dict[str, Provision] = {}
    if not isinstance(raw, list) or not raw:
        issues.append(f"{name}: provisions must be a list in document order")
        return out
    for i, entry in enumerate(raw):
        where = f"{name}: provisions[{i}]"
        if not isinstance(entry, dict):
            issues.append(f"{where}: expected a mapping")
            continue
        pid = entry.get("id")
        where = f"{name}: {pid}" if isinstance(pid, str) else where
        match = PROVISION_ID.match(pid) if isinstance(pid, str) else None
        if match is None:
            issues.append(f"{where}: id {pid!r} is not a provision id like 5.1-1")
            continue
        if pid in out:
            issues.append(f"{where}: listed twice")
            continue
        unknown = set(entry) - PROVISION_KEYS
        if unknown:
            issues.append(f"{where}: unknown keys {sorted(unknown)}")
        clause = match.group(1)
        if clause not in clauses:
            issues.append(f"{where}: clause {clause} has no title in clauses")
        # A bad entry is still registered, so that its test cases do not report knock-on errors.
        status = entry.get("status")
        known_status = status in statuses
        if not known_status:
            issues.append(f"{where}: status {status!r} is not one of {sorted(statuses)}")
        mandatory, conditional, feature = statuses.get(status, (False, False, False))
        conds = entry.get("conditions") or []
        if not isinstance(conds, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in conds):
            issues.append(f"{where}: conditions must be a list of Table B.1 numbers")
            conds = []
        if known_status and conditional and not conds:
            issues.append(f"{where}: status {status} needs the Table B.1 conditions it depends on")
        if known_status and not conditional and conds:
            issues.append(f"{where}: status {status} takes no conditions, got {conds}")
        for c in conds:
            if c not in conditions:
                issues.append(f"{where}: condition {c} is not in Table B.1")
        feats = entry.get("features") or []
        if not isinstance(feats, list) or not all(isinstance(f, str) for f in feats):
            issues.append(f"{where}: features must be a list of Table B.1 feature letters")
            feats = []
        if known_status and feature and not feats:
            issues.append(f"{where}: status {status} needs the Table B.1 features it depends on")
        if known_status and not feature and feats:
            issues.append(f"{where}: status {status} takes no features, got {feats}")
        for f in feats:
            if f not in features:
                issues.append(f"{where}: feature {f!r} is not in the edition's features")
        summary = entry.get("summary")
        if not isinstance(summary, str) or not summary.strip():
            issues.append(f"{where}: needs a summary")
            summary = ""
        out[pid] = Provision(id=pid, clause=clause, status=str(status), conditions=tuple(conds),
                             summary=_text(summary), mandatory=mandatory, conditional=conditional,
                             features=tuple(feats))
    return out


# --- assessment (TS 103 701) -------------------------------------------------------------------

def _assessment(assessment: str, edition: str, provisions: dict[str, Provision],
                issues: list[str]) -> tuple[str, dict[str, str], dict[str, TestCase]]:
    name = f"{assessment}.yaml"
    doc = _yaml(name)
    if doc.get("assessment") != assessment:
        issues.append(f"{name}: assessment is {doc.get('assessment')!r}, the file name says {assessment!r}")
    if doc.get("assesses") != edition:
        issues.append(f"{name}: assesses edition {doc.get('assesses')!r}, not {edition!r}")
    ixit = doc.get("ixit")
    if not isinstance(ixit, dict) or not ixit:
        issues.append(f"{name}: ixit must map IXIT document names to descriptions")
        ixit = {}
    ixit = {str(k): _text(v) for k, v in ixit.items()}
    csv_name = doc.get("test_cases")
    if not isinstance(csv_name, str):
        issues.append(f"{name}: test_cases must name the CSV of test cases")
        return _text(doc.get("reference")), ixit, {}
    return _text(doc.get("reference")), ixit, _test_cases(csv_name, provisions, ixit, issues)


def _test_cases(name: str, provisions: dict[str, Provision], ixit: dict[str, str],
                issues: list[str]) -> dict[str, TestCase]:
    out: dict[str, TestCase] = {}
    rows = csv.DictReader(io.StringIO(_read(name)))
    wanted = ["test_case", "provision", "kind", "units", "ixit"]
    if rows.fieldnames != wanted:
        issues.append(f"{name}: columns are {rows.fieldnames}, expected {wanted}")
        return out
    for line, row in enumerate(rows, start=2):
        tid, pid, kind = row["test_case"], row["provision"], row["kind"]
        where = f"{name}:{line}: {tid}"
        if tid in out:
            issues.append(f"{where}: listed twice")
            continue
        if pid not in provisions:
            issues.append(f"{where}: provision {pid!r} is not in the edition")
        if not re.fullmatch(re.escape(pid) + r"-\d+", tid or ""):
            issues.append(f"{where}: id does not extend its provision {pid!r} with -N")
        if kind not in KINDS:
            issues.append(f"{where}: kind {kind!r} is not one of {list(KINDS)}")
        try:
            units = int(row["units"])
        except (TypeError, ValueError):
            units = 0
        if units < 1:
            issues.append(f"{where}: units must be a positive number, got {row['units']!r}")
        refs = tuple((row["ixit"] or "").split())
        for ref in refs:
            if ref not in ixit:
                issues.append(f"{where}: IXIT document {ref!r} is not listed")
        out[tid] = TestCase(id=tid, provision=pid, kind=kind, units=units, ixit=refs)
    return out


def _coverage_files() -> list[str]:
    """coverage.yaml, then the fragments in coverage.d/ (one per suite family, so that suites added
    side by side each declare their own test cases), in name order."""
    frag = _data() / COVERAGE_DIR
    extra = sorted(f"{COVERAGE_DIR}/{p.name}" for p in frag.glob("*.yaml")) if frag.is_dir() else []
    return [COVERAGE_FILE, *extra]


def _apply_coverage(assessment: str, test_cases: dict[str, TestCase], issues: list[str]) -> None:
    seen: dict[str, str] = {}
    for name in _coverage_files():
        _apply_coverage_file(name, assessment, test_cases, issues, seen)


def _apply_coverage_file(name: str, assessment: str, test_cases: dict[str, TestCase], issues: list[str],
                         seen: dict[str, str]) -> None:
    COVERAGE_FILE = name  # noqa: N806  (the messages below name the file they come from)
    try:
        docs = [d for d in yaml.load_all(_read(name), Loader=_DATA_LOADER) if d is not None]  # noqa: S506
    except yaml.YAMLError as exc:
        issues.append(f"{COVERAGE_FILE}: not valid YAML: {exc}")
        return
    for doc in docs:
        if not isinstance(doc, dict) or doc.get("assessment") != assessment:
            continue  # coverage of another assessment spec
        automated = doc.get("automated") or {}
        if not isinstance(automated, dict):
            issues.append(f"{COVERAGE_FILE}: automated must map test case ids to how they are automated")
            continue
        for tid, how in automated.items():
            where = f"{COVERAGE_FILE}: {tid}"
            if tid in seen:
                issues.append(f"{where}: already declared in {seen[tid]}")
                continue
            seen[tid] = COVERAGE_FILE
            if tid not in test_cases:
                issues.append(f"{where}: no such test case in {assessment}")
                continue
            if not isinstance(how, Mapping) or not isinstance(how.get("suite"), str) \
                    or not how["suite"].endswith(".py"):
                issues.append(f"{where}: needs suite: <path of the pytest module>")
                continue
            kind = how.get("kind")
            if kind not in KINDS:
                issues.append(f"{where}: kind {kind!r} is not one of {list(KINDS)}")
                continue
            tc = test_cases[tid]
            test_cases[tid] = TestCase(id=tc.id, provision=tc.provision, kind=tc.kind, units=tc.units,
                                       ixit=tc.ixit, automated=True, automated_by=how["suite"],
                                       automated_kind=kind)


# --- PSTI ------------------------------------------------------------------------------------

def _psti(psti: str, edition: str, provisions: dict[str, Provision], issues: list[str]) -> list[PstiRequirement]:
    name = f"{psti}.yaml"
    doc = _yaml(name)
    if doc.get("edition") != edition:
        issues.append(f"{name}: maps onto edition {doc.get('edition')!r}, not {edition!r}")
    raw = doc.get("requirements")
    if not isinstance(raw, list) or not raw:
        issues.append(f"{name}: requirements must be a list")
        return []
    out: list[PstiRequirement] = []
    seen: set[int] = set()
    for i, entry in enumerate(raw):
        where = f"{name}: requirements[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("number"), int) \
                or not isinstance(entry.get("title"), str) or not isinstance(entry.get("deemed_compliance"), bool):
            issues.append(f"{where}: needs number, title and deemed_compliance (true or false)")
            continue
        number = entry["number"]
        if number in seen:
            issues.append(f"{where}: requirement {number} listed twice")
        seen.add(number)
        mapped = entry.get("provisions") or []
        if not isinstance(mapped, list):
            issues.append(f"{where}: provisions must be a list of provision ids")
            mapped = []
        for pid in mapped:
            if pid not in provisions:
                issues.append(f"{where}: provision {pid!r} is not in the edition")
        if entry["deemed_compliance"] and not mapped:
            issues.append(f"{where}: a deemed-compliance route needs the provisions it rests on")
        out.append(PstiRequirement(number=number, title=entry["title"].strip(), provisions=[str(p) for p in mapped],
                                   deemed_compliance=entry["deemed_compliance"], note=_text(entry.get("note"))))
    return out


# --- reporting one edition through another's assessment (V3.1.3 via TS 103 701 V1.1.1) ---------

class _Via:
    """What ``assessed_via`` gives an edition: the predecessor's test cases on this edition's ids."""

    def __init__(self) -> None:
        self.edition: str | None = None
        self.assessment: str | None = None
        self.ixit: dict[str, str] = {}
        self.test_cases: dict[str, TestCase] = {}
        self.provision_map: dict[str, str] = {}  # predecessor provision -> this edition's provision
        self.unassessed: dict[str, str] = {}  # this edition's provision -> why no test case counts for it


def _assessed_via(name: str, raw: Any, edition: str, provisions: dict[str, Provision],
                  issues: list[str]) -> _Via:
    via = _Via()
    if not isinstance(raw, dict) or not isinstance(raw.get("edition"), str):
        issues.append(f"{name}: assessed_via needs the edition whose assessment is used")
        return via
    base_edition = normalise_edition(raw["edition"])
    if base_edition == edition:
        issues.append(f"{name}: assessed_via names the edition itself")
        return via
    try:
        base = load(base_edition)
    except CatalogueError as exc:
        issues.append(f"{name}: assessed_via edition {base_edition}: {exc}")
        return via
    renamed = raw.get("provisions") or {}
    unassessed = raw.get("unassessed") or {}
    if not isinstance(renamed, dict) or not isinstance(unassessed, dict):
        issues.append(f"{name}: assessed_via.provisions and .unassessed must be mappings")
        return via
    for old, new in renamed.items():
        if old not in base.provisions:
            issues.append(f"{name}: assessed_via.provisions: {old!r} is not a provision of {base_edition}")
        if new not in provisions:
            issues.append(f"{name}: assessed_via.provisions: {new!r} is not a provision of {edition}")
    for pid in base.provisions:
        target = str(renamed.get(pid, pid))
        if target not in provisions:
            issues.append(f"{name}: {base_edition} provision {pid} has no counterpart in {edition} "
                          "(add it to assessed_via.provisions)")
            continue
        via.provision_map[pid] = target
    covered = set(via.provision_map.values())
    for pid, why in unassessed.items():
        if pid not in provisions:
            issues.append(f"{name}: assessed_via.unassessed: {pid!r} is not a provision of {edition}")
        elif pid in covered:
            issues.append(f"{name}: assessed_via.unassessed: {pid} receives {base_edition} test cases")
        elif not isinstance(why, str) or not why.strip():
            issues.append(f"{name}: assessed_via.unassessed.{pid}: needs the reason")
        else:
            via.unassessed[pid] = _text(why)
    for pid in provisions:
        if pid not in covered and pid not in via.unassessed:
            issues.append(f"{name}: {pid} neither receives {base_edition} test cases nor says why in "
                          "assessed_via.unassessed")
    via.edition = base_edition
    via.assessment = base.assessment
    via.ixit = dict(base.ixit_documents)
    via.test_cases = {
        tid: TestCase(id=tc.id, provision=via.provision_map.get(tc.provision, tc.provision), kind=tc.kind,
                      units=tc.units, ixit=tc.ixit, automated=tc.automated, automated_by=tc.automated_by,
                      automated_kind=tc.automated_kind)
        for tid, tc in base.test_cases.items()}
    return via


# --- other schemes: EN 18031-1, Singapore CLS (data/map-*.yaml) --------------------------------

STRENGTHS = ("direct", "partial", "indicative")


def _mapping_files() -> list[str]:
    return sorted(p.name for p in _data().iterdir()
                  if p.name.startswith(MAPPING_PREFIX) and p.name.endswith(".yaml"))


def _mappings(edition: str, via: _Via, provisions: dict[str, Provision]) -> list[SchemeMapping]:
    """Every scheme mapping that names this edition's provisions, or its assessed_via edition's
    (translated to this edition's ids)."""
    issues: list[str] = []
    out = [m for m in (_mapping(name, edition, via, provisions, issues) for name in _mapping_files()) if m]
    if issues:
        raise CatalogueError(issues)
    return out


def _mapping(name: str, edition: str, via: _Via, provisions: dict[str, Provision],
             issues: list[str]) -> SchemeMapping | None:
    doc = _yaml(name)
    on = normalise_edition(str(doc.get("edition", "")))
    if on == edition:
        translate: dict[str, str] = {}
    elif via.edition and on == via.edition:
        translate = via.provision_map
    else:
        return None  # a mapping onto another edition
    for key in ("scheme", "reference", "title", "note"):
        if not isinstance(doc.get(key), str) or not doc[key].strip():
            issues.append(f"{name}: needs {key}")
    raw = doc.get("entries")
    if not isinstance(raw, list) or not raw:
        issues.append(f"{name}: entries must be a list")
        return None
    mandatory = [pid for pid, p in provisions.items() if p.mandatory]
    entries: list[SchemeEntry] = []
    seen: set[str] = set()
    for i, entry in enumerate(raw):
        where = f"{name}: entries[{i}]"
        if not isinstance(entry, dict) or not isinstance(entry.get("id"), str) \
                or not isinstance(entry.get("title"), str):
            issues.append(f"{where}: needs id and title")
            continue
        eid = entry["id"]
        where = f"{name}: {eid}"
        if eid in seen:
            issues.append(f"{where}: listed twice")
        seen.add(eid)
        strength = entry.get("strength")
        if strength not in STRENGTHS:
            issues.append(f"{where}: strength {strength!r} is not one of {list(STRENGTHS)}")
        mapped = entry.get("provisions") or []
        if not isinstance(mapped, list):
            issues.append(f"{where}: provisions must be a list")
            mapped = []
        ids: list[str] = []
        for pid in mapped:
            target = translate.get(str(pid), str(pid))
            if target not in provisions:
                issues.append(f"{where}: provision {pid!r} is not in edition {on}")
            elif target not in ids:
                ids.append(target)
        if entry.get("all_mandatory") is True:
            ids += [pid for pid in mandatory if pid not in ids]
        beyond = _text(entry.get("beyond_harness"))
        if not ids and not beyond:
            issues.append(f"{where}: maps no provision; say why in beyond_harness")
        entries.append(SchemeEntry(id=eid, title=_text(entry["title"]), provisions=ids, strength=str(strength),
                                   note=_text(entry.get("note")), beyond_harness=beyond,
                                   requirements=tuple(str(r) for r in entry.get("requirements") or ())))
    return SchemeMapping(scheme=_text(doc.get("scheme")), reference=_text(doc.get("reference")),
                         title=_text(doc.get("title")), note=_text(doc.get("note")),
                         status=_text(doc.get("status")), entries=entries,
                         translated_from=on if translate else None)


# --- which edition a report uses -------------------------------------------------------------

def run_report_edition(run_dir: Any) -> str | None:
    """The edition the run's profile chose for its report (``report_edition`` in a session record),
    or None. A damaged line is skipped: the report model says what is wrong with the log."""
    import json
    from pathlib import Path

    folder = Path(run_dir) / "results"
    found: str | None = None
    if not folder.is_dir():
        return None
    for seg in sorted(folder.glob("segment-*.jsonl")):
        for line in seg.read_text(encoding="utf-8", errors="replace").splitlines():
            if '"session"' not in line:
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(rec, dict) and rec.get("record") == "session" and isinstance(rec.get("report_edition"), str):
                found = rec["report_edition"]
    return found


def report_catalogue(edition: str | None = None, run_dir: Any = None) -> Catalogue | None:
    """The catalogue a report is built against: ``edition`` when given, else the one the run's profile
    chose, else None (the report model then uses the default edition)."""
    chosen = edition or (run_report_edition(run_dir) if run_dir is not None else None)
    if not chosen:
        return None
    return load_catalogue(chosen)
