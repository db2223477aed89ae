"""Suite-level fixtures: data the test cases share (dictionaries, word lists, fetch scope)."""

from __future__ import annotations

from pathlib import Path

import pytest
from harness.checks.passwords import Credential, load_dictionary, load_wordlist

from harness import documents
from harness.profile.resolve import Bench
from harness.pytest_plugin import dictionary_paths, rootdir
from harness.scope import Scope


@pytest.fixture(scope="session")
def dictionary(pytestconfig: pytest.Config) -> list[Credential]:
    creds: list[Credential] = []
    for path in dictionary_paths(pytestconfig):
        creds.extend(load_dictionary(path))
    return creds


@pytest.fixture(scope="session")
def wordlist(pytestconfig: pytest.Config, dictionary: list[Credential]) -> set[str]:
    path = pytestconfig.getoption("wordlist") or rootdir(pytestconfig) / "fixtures" / "dictionaries" / "common-passwords.txt"
    words = set(load_wordlist(Path(path)))
    words.update(c.password for c in dictionary if c.password)
    return words


@pytest.fixture(scope="session")
def fetch_scope(bench: Bench) -> Scope:
    return documents.fetch_scope(bench)


@pytest.fixture(scope="session")
def fetch_ca(bench: Bench) -> str | None:
    return documents.fetch_ca(bench)
