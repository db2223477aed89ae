"""YAML loading that remembers where every value came from.

pydantic reports a location as a tuple of keys and indices; a lab engineer needs ``file:line``.
PyYAML's composer keeps marks on every node, so we build the plain Python data and a map from
each path to its line in one walk. Duplicate mapping keys are an error (PyYAML would silently keep
the last one, hiding a typo such as two ``login:`` procedures).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

Loc = tuple[Any, ...]


@dataclass
class ConfigIssue:
    """One problem in a configuration file, located for a human."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field or '(document)'}: {self.message}"


class ConfigError(Exception):
    """Bad input: raised with every issue found; the CLI prints them and exits 2."""

    def __init__(self, issues: list[ConfigIssue]) -> None:
        self.issues = issues
        super().__init__("\n".join(str(i) for i in issues))


def format_loc(loc: Loc) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


class _Loader(yaml.SafeLoader):
    pass


def _construct(loader: yaml.SafeLoader, node: yaml.Node, path: Loc, lines: dict[Loc, int],
               issues: list[tuple[Loc, int, str]]) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        loader.flatten_mapping(node)
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, (str, int, float, bool)) and key is not None:
                issues.append((path, key_node.start_mark.line + 1, "mapping keys must be plain scalars"))
                continue
            if key in out:
                issues.append((path + (key,), key_node.start_mark.line + 1, f"duplicate key {key!r}"))
                continue
            child = path + (key,)
            out[key] = _construct(loader, value_node, child, lines, issues)
            lines[child] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_construct(loader, item, path + (i,), lines, issues) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


@dataclass
class LocatedDocument:
    file: str
    data: Any
    lines: dict[Loc, int]

    def line_of(self, loc: Loc) -> int | None:
        """Line of the deepest known prefix of ``loc`` (a missing field points at its parent)."""
        loc = tuple(loc)
        while True:
            if loc in self.lines:
                return self.lines[loc]
            if not loc:
                return None
            loc = loc[:-1]

    def issue(self, loc: Loc, message: str) -> ConfigIssue:
        return ConfigIssue(self.file, self.line_of(loc), format_loc(loc), message)


def load_located(path: str | Path) -> LocatedDocument:
    path = Path(path)
    name = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigIssue(name, None, "", "file not found")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigIssue(name, None, "", f"cannot read: {exc}")]) from None
    return parse_located(text, name)


def parse_located(text: str, name: str) -> LocatedDocument:
    loader = _Loader(text)
    lines: dict[Loc, int] = {}
    issues: list[tuple[Loc, int, str]] = []
    try:
        node = loader.get_single_node()
        data = _construct(loader, node, (), lines, issues) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or "invalid YAML"
        if exc.context and exc.context_mark:
            problem += f" ({exc.context} started at line {exc.context_mark.line + 1})"
        raise ConfigError([ConfigIssue(name, line, "", f"YAML syntax error: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigIssue(name, None, "", f"YAML error: {exc}")]) from None
    finally:
        loader.dispose()
    if issues:
        raise ConfigError([ConfigIssue(name, line, format_loc(loc), msg) for loc, line, msg in issues])
    return LocatedDocument(name, data, lines)
