"""`harness ics`: write the questionnaire (ICS and IXIT) for a new device, check a filled one, and
export a profile's ICS in the shape of TS 103 701 Table B.1.

``init`` writes a profile fragment (``ics:`` and ``ixit:``) from the catalogue: every Table B.1
condition and provision with its status and our summary, every IXIT document with the fields the
test cases read, each with the wording and the test cases that read it as YAML comments. Unanswered
values are ``null``, so the fragment validates only once it is filled (``harness ics check``).
Given an existing profile, the fragment starts from that profile's answers.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import PydanticUndefined

from harness.profile.ixit import IXIT_DOCUMENTS, Ics, Ixit, _split_ixit
from harness.standard import load_catalogue
from harness.standard.model import Catalogue

FORMATS = ("csv", "yaml", "md")
COLUMNS = ("provision", "status", "condition", "support", "justification")


# --- init -------------------------------------------------------------------------------------

def _flow(value: Any) -> str:
    """A value on one line (JSON is valid YAML flow style)."""
    return json.dumps(value, ensure_ascii=False, default=str)


def _one_line(text: str | None, limit: int = 160) -> str:
    words = " ".join(str(text or "").split())
    return words if len(words) <= limit else words[:limit - 1] + "…"


def _readers(catalogue: Catalogue) -> tuple[dict[str, list[str]], dict[tuple[str, str], list[str]]]:
    """Test cases reading each IXIT document, and each (document, field)."""
    from harness.checks.conceptual.questions import load_questions

    docs: dict[str, list[str]] = {}
    fields: dict[tuple[str, str], list[str]] = {}
    for tc in catalogue.test_cases.values():
        for d in tc.ixit:
            docs.setdefault(d, []).append(tc.id)
    for q in load_questions().values():
        for d, fs in q.ixit.items():
            if q.test_case not in docs.setdefault(d, []):
                docs[d].append(q.test_case)
            for f in fs:
                fields.setdefault((d, f), []).append(q.test_case)
    return docs, fields


def _entry_model(document: str) -> tuple[type[BaseModel] | None, bool]:
    """The typed model of one entry of ``document`` and whether the document is a list."""
    from harness.checks.conceptual._base import DOCUMENT_FIELDS
    from harness.checks.conceptual.questions import _entry_model as find

    attr = DOCUMENT_FIELDS.get(document)
    if attr is None:
        return None, True
    annotation = Ixit.model_fields[attr].annotation
    return find(annotation), "list" in str(annotation)


def _template_fields(model: type[BaseModel], document: str,
                     fields_read: dict[tuple[str, str], list[str]]) -> list[tuple[str, Any, str]]:
    """(field, placeholder, comment) for the required fields and every field a test case reads."""
    out = []
    for name, info in model.model_fields.items():
        key = info.alias or name
        read_by = fields_read.get((document, name), []) + fields_read.get((document, key), [])
        if not info.is_required() and not read_by:
            continue
        nested = _nested_model(info.annotation)
        if nested is not None:
            placeholder: Any = {k: None for k in nested.model_fields}  # the shape to fill
        elif info.is_required():
            placeholder = None
        elif info.default_factory is not None:
            placeholder = info.default_factory()  # type: ignore[call-arg]
        elif info.default is not PydanticUndefined and info.default is not None:
            placeholder = info.default
        else:
            placeholder = None
        notes = ["required"] if info.is_required() else []
        if info.description:
            notes.append(_one_line(info.description, 140).rstrip("."))
        if read_by:
            notes.append("read by " + ", ".join(sorted(set(read_by), key=_natural)))
        out.append((key, placeholder, "; ".join(notes)))
    return out


def _nested_model(annotation: Any) -> type[BaseModel] | None:
    """The model of a field holding one nested mapping (e.g. 2-UserInfo disclosure_policy), else None."""
    from typing import get_args
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    args = [a for a in get_args(annotation) if a is not type(None)]
    if len(args) == 1 and isinstance(args[0], type) and issubclass(args[0], BaseModel):
        return args[0]
    return None


def _natural(test_case: str) -> tuple[int, ...]:
    import re
    return tuple(int(n) for n in re.findall(r"\d+", test_case))


def questionnaire(catalogue: Catalogue, profile: Any = None) -> str:
    """The ICS/IXIT questionnaire as YAML text (a profile fragment), pre-filled from ``profile``."""
    docs_read, fields_read = _readers(catalogue)
    ics = getattr(profile, "ics", None)
    ixit = getattr(profile, "ixit", None)
    title = f"{profile.product.manufacturer} {profile.product.model}" if profile is not None else "a new device"
    lines = [
        f"# ICS and IXIT questionnaire for {title}: EN 303 645 {catalogue.edition} assessed per "
        f"{catalogue.assessment or 'ETSI TS 103 701'}.",
        "# Replace every null (Table B.1 support: Y, N or N/A; a justification for every N on a",
        "# recommendation and every N/A), fill the IXIT entries, check it with `harness ics check FILE`,",
        "# then copy `ics:` and `ixit:` into the device profile (docs/ics.md).",
        "",
        "ics:",
        "  # Table B.1 conditions: true when the condition holds for this product.",
        "  conditions:",
    ]
    for number, text in catalogue.conditions.items():
        value = ics.conditions.get(number) if ics is not None else None
        lines.append(f"    {number}: {_flow(value):<6} # {_one_line(text)}")
    features = getattr(catalogue, "features", {}) or {}
    if features:
        lines += ["", "  # Table B.1 features (this edition): true when the product has the feature.", "  features:"]
        for letter, text in features.items():
            value = getattr(ics, "features", {}).get(letter) if ics is not None else None
            lines.append(f"    {letter}: {_flow(value):<6} # {_one_line(text)}")
    lines += ["", "  # One entry per provision: support Y (implemented), N (not implemented: recommendations",
              "  # only, with a justification) or N/A (a condition does not hold, with a justification).",
              "  provisions:"]
    for prov in catalogue.provisions.values():
        entry = ics.provisions.get(prov.id) if ics is not None else None
        support = entry.support if entry is not None else None
        justification = entry.justification if entry is not None else None
        cases = ", ".join(f"{t} ({catalogue.test_cases[t].kind})" for t in prov.test_cases)
        lines.append(f"    # {prov.id} [{prov.status_text}] {_one_line(prov.summary, 120)}")
        if prov.conditions:
            lines.append("    #   applies when: " + "; ".join(
                f"{c}: {_one_line(catalogue.conditions.get(c, ''), 70)}" for c in prov.conditions))
        if getattr(prov, "features", ()):
            lines.append("    #   applies with feature: " + "; ".join(
                f"{f}: {_one_line(features.get(f, ''), 70)}" for f in prov.features))
        if cases:
            lines.append(f"    #   test cases: {cases}")
        lines.append(f'    "{prov.id}": {{support: {_flow(support)}, justification: {_flow(justification)}}}')
    lines += ["", "ixit:"]
    for document in IXIT_DOCUMENTS:
        lines += _ixit_document(document, catalogue, ixit, docs_read, fields_read)
    return "\n".join(lines) + "\n"


def _ixit_document(document: str, catalogue: Catalogue, ixit: Any, docs_read: dict[str, list[str]],
                   fields_read: dict[tuple[str, str], list[str]]) -> list[str]:
    from harness.checks.conceptual._base import DOCUMENT_FIELDS, supplied

    meaning = catalogue.ixit_documents.get(document, "")
    readers = ", ".join(sorted(set(docs_read.get(document, [])), key=_natural)) or "no test case"
    lines = ["", f"  # IXIT {document}: {_one_line(meaning, 110)}", f"  #   read by {readers}"]
    model, is_list = _entry_model(document)
    if model is None:
        columns = sorted({f for (d, f) in fields_read if d == document})
        if columns:
            lines.append(f"  #   give per entry: {', '.join(columns)}")
        given = ixit.other.get(document) if ixit is not None else None
        if given is not None:
            lines.append(f"  {document}: {_flow(given)}")
        else:
            lines.append(f"  {document}: []   # fill in, or remove the key if the product has none")
        return lines
    template = _template_fields(model, document, fields_read)
    attr = DOCUMENT_FIELDS[document]
    existing: list[dict[str, Any]] = []
    if ixit is not None and supplied(ixit, document):
        value = getattr(ixit, attr)
        items = value if isinstance(value, list) else [value]
        existing = [v.model_dump(by_alias=True, exclude_none=True, exclude_defaults=True, mode="json") for v in items]
    entries = existing or [{}]
    lines.append(f"  {document}:")
    indent = "    - " if is_list else "    "
    more = "      " if is_list else "    "
    for entry in entries:
        first = True
        keys = [k for k, _, _ in template] + [k for k in entry if k not in {t[0] for t in template}]
        notes = {k: c for k, _, c in template}
        defaults = {k: p for k, p, _ in template}
        for key in keys:
            value = entry.get(key, defaults.get(key))
            comment = f"  # {notes[key]}" if key in notes and notes[key] else ""
            lines.append(f"{indent if first else more}{key}: {_flow(value)}{comment}")
            first = False
    return lines


def check_fragment(doc: Any, catalogue: Catalogue) -> list[str]:
    """Problems of a filled questionnaire (an empty list: it validates)."""
    problems: list[str] = []
    if not isinstance(doc, dict):
        return ["expected a mapping with `ics:` and `ixit:`"]
    raw_ics = doc.get("ics") or {}
    try:
        ics = Ics.model_validate(raw_ics)
    except ValidationError as exc:
        problems += [f"ics.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        ics = None
    if ics is not None:
        missing_conditions = sorted(set(catalogue.conditions) - set(ics.conditions))
        if missing_conditions:
            problems.append(f"ics.conditions: no answer for {missing_conditions}")
        missing_features = sorted(set(getattr(catalogue, "features", {}) or {}) - set(ics.features))
        if missing_features:
            problems.append(f"ics.features: no answer for {missing_features}")
        unanswered = [p for p in catalogue.provisions if p not in ics.provisions]
        if unanswered:
            problems.append(f"ics.provisions: no answer for {', '.join(unanswered)}")
        unknown = [p for p in ics.provisions if p not in catalogue.provisions]
        if unknown:
            problems.append(f"ics.provisions: {', '.join(unknown)} not in EN 303 645 {catalogue.edition}")
    try:
        Ixit.model_validate(_split_ixit(doc.get("ixit") or {}))
    except (ValidationError, ValueError) as exc:
        if isinstance(exc, ValidationError):
            problems += [f"ixit.{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()]
        else:
            problems.append(f"ixit: {exc}")
    return problems


# --- export -----------------------------------------------------------------------------------

def ics_rows(catalogue: Catalogue, ics: Ics) -> list[dict[str, str]]:
    """One row per provision in document order, as Table B.1 lays it out."""
    rows = []
    for prov in catalogue.provisions.values():
        entry = ics.provisions.get(prov.id)
        conds = []
        for c in prov.conditions:
            held = ics.conditions.get(c)
            conds.append(f"{c} ({'holds' if held else 'does not hold' if held is False else 'unanswered'})")
        for f in getattr(prov, "features", ()):
            has = ics.features.get(f)
            conds.append(f"feature {f} ({'present' if has else 'absent' if has is False else 'unanswered'})")
        rows.append({"provision": prov.id, "status": prov.status_text, "condition": "; ".join(conds),
                     "support": entry.support if entry else "",
                     "justification": (entry.justification or "") if entry else ""})
    return rows


def render_rows(rows: list[dict[str, str]], fmt: str) -> str:
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=COLUMNS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return buf.getvalue()
    if fmt == "yaml":
        return yaml.safe_dump({"ics": rows}, sort_keys=False, allow_unicode=True, width=120)
    if fmt == "md":
        def cell(v: str) -> str:
            return " ".join(str(v).split()).replace("|", "\\|")
        out = ["| Provision | Status | Condition | Support | Justification / reference |",
               "|---|---|---|---|---|"]
        out += ["| " + " | ".join(cell(r[c]) for c in COLUMNS) + " |" for r in rows]
        return "\n".join(out) + "\n"
    raise ValueError(f"format {fmt!r} is not one of {FORMATS}")


# --- command line -----------------------------------------------------------------------------

def _write(text: str, output: str | None) -> None:
    if output in (None, "-"):
        sys.stdout.write(text)
    else:
        Path(output).write_text(text, encoding="utf-8")
        print(f"wrote {output}", file=sys.stderr)


def _load(path: str) -> Any:
    from harness.profile.loader import load_profile
    return load_profile(path)


def _looks_like_profile(path: Path) -> bool:
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError):
        return False
    return isinstance(doc, dict) and "product" in doc


def cmd_init(args: argparse.Namespace) -> int:
    target = Path(args.path)
    profile = None
    output = args.output
    if target.exists() and not _looks_like_profile(target) and args.force:
        target.unlink()  # an earlier questionnaire, overwritten on request
    if target.exists():
        try:
            profile = _load(str(target))
        except Exception as exc:  # noqa: BLE001 — any load problem is the user's to fix
            print(f"harness ics init: {target} exists and is not a valid profile ({_one_line(str(exc), 300)}); "
                  f"give a new path or a valid profile", file=sys.stderr)
            return 2
        output = output or str(target.with_name(target.stem + "-ics.yaml"))
    else:
        output = output or str(target)
    if output != "-" and Path(output).exists() and not args.force:
        print(f"harness ics init: {output} exists (use --force to overwrite)", file=sys.stderr)
        return 2
    edition = getattr(getattr(profile, "standard", None), "edition", None) or args.edition
    _write(questionnaire(load_catalogue(edition), profile), output)
    return 0


def cmd_check(args: argparse.Namespace) -> int:
    try:
        doc = yaml.safe_load(Path(args.path).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        print(f"harness ics check: {exc}", file=sys.stderr)
        return 2
    problems = check_fragment(doc, load_catalogue(args.edition))
    for p in problems:
        print(f"{args.path}: {p}")
    if not problems:
        print(f"{args.path}: OK — every condition and provision answered, IXIT valid")
    return 1 if problems else 0


def cmd_export(args: argparse.Namespace) -> int:
    profile = _load(args.profile)
    edition = getattr(getattr(profile, "standard", None), "edition", None) or args.edition
    _write(render_rows(ics_rows(load_catalogue(edition), profile.ics), args.format), args.output)
    return 0


def add_parsers(sub: Any) -> None:
    """Register ``ics`` on the ``harness`` command."""
    ics = sub.add_parser("ics", help="write, check and export the ICS/IXIT questionnaire (TS 103 701 Table B.1)")
    isub = ics.add_subparsers(dest="ics_command", required=True)

    i = isub.add_parser("init", help="write the questionnaire for a new device (or from an existing profile)")
    i.add_argument("path", help="a new file to write, or an existing profile to start from "
                                "(then the questionnaire goes to <profile>-ics.yaml)")
    i.add_argument("-o", "--output", help="where to write (default: see path; '-' for standard output)")
    i.add_argument("--edition", default="v2.1.1", help="EN 303 645 edition (default v2.1.1)")
    i.add_argument("--force", action="store_true", help="overwrite an existing output file")
    i.set_defaults(func=cmd_init)

    c = isub.add_parser("check", help="check a filled questionnaire: every answer given, IXIT valid")
    c.add_argument("path")
    c.add_argument("--edition", default="v2.1.1")
    c.set_defaults(func=cmd_check)

    e = isub.add_parser("export", help="write a profile's ICS as Table B.1 (provision, status, condition, "
                                       "support, justification)")
    e.add_argument("profile")
    e.add_argument("--format", choices=FORMATS, default="csv")
    e.add_argument("-o", "--output", help="file to write (default standard output)")
    e.add_argument("--edition", default="v2.1.1")
    e.set_defaults(func=cmd_export)
