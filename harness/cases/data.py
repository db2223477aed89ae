"""Public data the test cases read: default-credential dictionaries and the common-password list.

Paths are the caller's (a runner option); the defaults are the project's ``fixtures/dictionaries``.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from harness.checks.passwords import Credential, load_dictionary, load_wordlist
from harness.redact import REDACTOR

DICTIONARY_FILES = ("mirai.csv", "iot-defaults.csv")
WORDLIST_FILE = "common-passwords.txt"


def fixtures_dir(root: str | Path) -> Path:
    return Path(root) / "fixtures" / "dictionaries"


def default_dictionary_paths(root: str | Path) -> list[Path]:
    """The default-credential dictionaries under the project root ``root``."""
    return [fixtures_dir(root) / name for name in DICTIONARY_FILES]


def default_wordlist_path(root: str | Path) -> Path:
    return fixtures_dir(root) / WORDLIST_FILE


def load_dictionaries(paths: Iterable[str | Path]) -> list[Credential]:
    """Every credential of every dictionary, in file then line order."""
    creds: list[Credential] = []
    for path in paths:
        creds.extend(load_dictionary(path))
    return creds


def load_words(path: str | Path, dictionary: Iterable[Credential]) -> set[str]:
    """The common-password list plus every dictionary password (both are what an attacker tries)."""
    words = set(load_wordlist(Path(path)))
    words.update(c.password for c in dictionary if c.password)
    return words


def declassify_public_words(paths: Iterable[str | Path]) -> None:
    """Passwords from public default-credential lists are not secrets: don't mask them.

    A label password that happens to equal a public word would otherwise mask that word wherever
    a dictionary attempt shows it.
    """
    for path in paths:
        try:
            for cred in load_dictionary(path):
                REDACTOR.declassify(cred.password)
        except (OSError, ValueError):
            continue
