"""YAML loading that remembers where every value came from.

pydantic reports a location as a tuple of keys and indices; a lab engineer needs ``file:line``.
PyYAML's composer keeps marks on every node, so we build the plain Python data and a map from
each path to its line in one walk. Duplicate mapping keys are an error (PyYAML would silently keep
the last one, hiding a typo such as two ``login:`` procedures).
"""

from __future__ import annotations

import os
import re
import stat
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
        text = f"{_visible(where)}: {_visible(self.field) or '(document)'}: {_visible(self.message)}"
        # A lone surrogate (from a "\udc80" escape or a file name) cannot be printed as UTF-8.
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


# Line breaks and control characters in a key, value or file name would break the one-line
# `file:line: field: message` shape (and could drive the terminal): shown escaped instead.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def _visible(text: str) -> str:
    return _CONTROL.sub(lambda m: m.group(0).encode("unicode_escape").decode("ascii"), text)


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


# Bounds for files a lab engineer writes by hand: generous for any real profile (the largest
# shipped is ~12 kB, ~600 values, 6 levels deep), small enough that a hostile file is refused in
# about a second instead of growing memory (YAML "billion laughs") or the stack (deep nesting).
MAX_FILE_BYTES = 1 << 20
MAX_DEPTH = 64
MAX_NODES = 20_000  # values as written (composed nodes)
MAX_VALUES = 100_000  # values after aliases are expanded
_CHUNK = 64 * 1024
_SURROGATE = re.compile("[\ud800-\udfff]")
_MERGE_TAG = "tag:yaml.org,2002:merge"


class _LimitExceeded(Exception):
    def __init__(self, line: int | None, message: str, loc: Loc = ()) -> None:
        super().__init__(message)
        self.line = line
        self.message = message
        self.loc = loc


class _Loader(yaml.SafeLoader):
    """SafeLoader that refuses documents nested or sized beyond the bounds while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        self._nodes += 1
        try:
            if self._depth > MAX_DEPTH:
                raise _LimitExceeded(self.peek_event().start_mark.line + 1,
                                     f"nested deeper than {MAX_DEPTH} levels")
            if self._nodes > MAX_NODES:
                raise _LimitExceeded(self.peek_event().start_mark.line + 1,
                                     f"more than {MAX_NODES} values; a configuration file is not a data set")
            return super().compose_node(parent, index)  # type: ignore[no-any-return]
        finally:
            self._depth -= 1


@dataclass
class _Walk:
    """One pass over the composed nodes; ``values`` counts every visit, so aliases count each time."""

    loader: _Loader
    lines: dict[Loc, int]
    issues: list[tuple[Loc, int, str]]
    values: int = 0
    merging: int = 0  # merge keys being expanded, one inside the other

    def construct(self, node: yaml.Node, path: Loc) -> Any:
        line = node.start_mark.line + 1
        self.values += 1
        if self.values > MAX_VALUES:
            raise _LimitExceeded(line, f"expands to more than {MAX_VALUES} values (aliases of aliases?)", path)
        if len(path) > MAX_DEPTH:  # only aliases get here: a recursive anchor such as `&a [*a]`
            raise _LimitExceeded(line, f"nested deeper than {MAX_DEPTH} levels (a recursive alias?)", path)
        self.lines[path] = line
        if isinstance(node, yaml.MappingNode):
            out: dict[Any, Any] = {}
            merges: list[yaml.Node] = []
            for key_node, value_node in node.value:
                if key_node.tag == _MERGE_TAG:
                    if merges:
                        self.issues.append((path + ("<<",), key_node.start_mark.line + 1, "duplicate key '<<'"))
                    merges.append(value_node)
                    continue
                key = self.scalar(key_node, path) if isinstance(key_node, yaml.ScalarNode) else None
                kline = key_node.start_mark.line + 1
                if not isinstance(key_node, yaml.ScalarNode) or not isinstance(key, (str, int, float, bool, type(None))):
                    self.issues.append((path, kline, "mapping keys must be plain scalars"))
                    continue
                if isinstance(key, str) and _SURROGATE.search(key):
                    self.issues.append((path, kline, f"key {key!r} holds a lone surrogate (a \\uD800-\\uDFFF "
                                                     "escape), which is not text"))
                    continue
                if key in out:
                    self.issues.append((path + (key,), kline, f"duplicate key {key!r}"))
                    continue
                child = path + (key,)
                out[key] = self.construct(value_node, child)
                self.lines[child] = kline
            if merges:
                self.merge(out, merges[0], path, line)
            return out
        if isinstance(node, yaml.SequenceNode):
            return [self.construct(item, path + (i,)) for i, item in enumerate(node.value)]
        value = self.scalar(node, path)
        if isinstance(value, str) and _SURROGATE.search(value):
            self.issues.append((path, line, "holds a lone surrogate (a \\uD800-\\uDFFF escape), which is not text"))
        return value

    def merge(self, out: dict[Any, Any], source: yaml.Node, path: Loc, line: int) -> None:
        """YAML merge keys (``<<: *base`` or ``<<: [*a, *b]``): keys written in the mapping win over
        merged ones, and an earlier merged mapping wins over a later one; only keys written twice in
        the mapping itself are duplicates. Merged values keep the lines they were written at."""
        sources = source.value if isinstance(source, yaml.SequenceNode) else [source]
        if not all(isinstance(node, yaml.MappingNode) for node in sources):
            self.issues.append((path + ("<<",), source.start_mark.line + 1,
                                "'<<' merges a mapping (an alias such as *base) or a list of them"))
            return
        self.merging += 1
        if self.merging > MAX_DEPTH:  # `&a {<<: *a}` merges itself forever without a longer path
            raise _LimitExceeded(line, f"merges nested deeper than {MAX_DEPTH} levels (a recursive '<<'?)", path)
        try:
            explicit = set(out)
            for node in reversed(sources):  # the earliest source is applied last: it wins
                outer, self.lines = self.lines, {}
                try:
                    merged = self.construct(node, path)
                finally:
                    inner, self.lines = self.lines, outer
                by_key: dict[Any, list[tuple[Loc, int]]] = {}
                for where, at in inner.items():
                    if len(where) > len(path):
                        by_key.setdefault(where[len(path)], []).append((where, at))
                for key, value in merged.items():
                    if key in explicit:
                        continue
                    out[key] = value
                    self.lines.update(by_key.get(key, ()))
        finally:
            self.merging -= 1

    def scalar(self, node: yaml.Node, path: Loc) -> Any:
        try:
            return self.loader.construct_object(node, deep=True)
        except (ValueError, TypeError, OverflowError) as exc:  # e.g. a date 2024-13-45, a 5000-digit int
            # Without the value: a secrets file is parsed here too.
            self.issues.append((path, node.start_mark.line + 1, f"cannot read this value: {exc}"))
            return None


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


def _fail(name: str, line: int | None, message: str, field: str = "") -> ConfigError:
    return ConfigError([ConfigIssue(name, line, field, message)])


def read_bounded(path: str | Path, what: str = "", limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of a file a configuration names, refusing what is not a file or is too large.

    A pipe (``<(…)``) is read like a file; a device such as ``/dev/zero`` is refused before reading.
    """
    name = str(path)
    prefix = f"cannot read {what}: " if what else "cannot read: "
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)  # a FIFO without writer must not block
    except FileNotFoundError:
        raise _fail(name, None, f"{what + ' ' if what else ''}file not found") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        raise _fail(name, None, prefix + (getattr(exc, "strerror", None) or str(exc))) from None
    try:
        mode = os.fstat(fd).st_mode
        if stat.S_ISDIR(mode):
            raise _fail(name, None, prefix + "it is a directory, not a file")
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise _fail(name, None, prefix + "it is a device or socket, not a file")
        os.set_blocking(fd, True)
        chunks: list[bytes] = []
        size = 0
        while size <= limit:
            chunk = os.read(fd, min(_CHUNK, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise _fail(name, None, f"{what or 'file'} is larger than {limit // 1024} KiB; refused")
        return b"".join(chunks)
    except OSError as exc:
        raise _fail(name, None, prefix + (exc.strerror or str(exc))) from None
    finally:
        os.close(fd)


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 text without NUL bytes, or a ConfigError naming the line of the first bad byte."""
    nul = data.find(b"\0")
    if nul >= 0:
        raise _fail(name, data.count(b"\n", 0, nul) + 1, "NUL byte in the file (a binary file, or UTF-16?); "
                                                          "a configuration file is UTF-8 text")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise _fail(name, line, f"not UTF-8 text: byte 0x{data[exc.start]:02x} at column {column} "
                                "(save the file as UTF-8)") from None


def load_located(path: str | Path) -> LocatedDocument:
    name = str(path)
    return parse_located(decode_text(read_bounded(path), name), name)


def parse_located(text: str, name: str) -> LocatedDocument:
    if len(text) > MAX_FILE_BYTES:
        raise _fail(name, None, f"file is larger than {MAX_FILE_BYTES // 1024} KiB; refused")
    loader: _Loader | None = None
    try:
        loader = _Loader(text)  # the reader refuses control characters here already
        walk = _Walk(loader, {}, [])
        node = loader.get_single_node()
        data = walk.construct(node, ()) if node is not None else None
    except _LimitExceeded as exc:
        # Reported at the top-level field it hides in: the full path of a billion-laughs document
        # or a recursive alias is as long as the limit and says nothing more.
        top = exc.loc[:1]
        raise _fail(name, walk.lines.get(top, exc.line) if top else exc.line, exc.message, format_loc(top)) from None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        problem = exc.problem or "invalid YAML"
        if exc.context and exc.context_mark:
            problem += f" ({exc.context} started at line {exc.context_mark.line + 1})"
        raise _fail(name, line, f"YAML syntax error: {problem}") from None
    except yaml.reader.ReaderError as exc:  # a control character; NUL and bad UTF-8 were refused before
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        char = exc.character if isinstance(exc.character, str) else chr(exc.character)
        raise _fail(name, line, f"character U+{ord(char):04X} is not allowed in YAML text") from None
    except yaml.YAMLError as exc:
        raise _fail(name, None, f"YAML error: {exc}") from None
    except (RecursionError, MemoryError):  # the bounds above should make these unreachable
        raise _fail(name, None, "document too large or too deeply nested") from None
    finally:
        if loader is not None:
            loader.dispose()
    if walk.issues:
        raise ConfigError([ConfigIssue(name, line, format_loc(loc), msg) for loc, line, msg in walk.issues])
    return LocatedDocument(name, data, walk.lines)
