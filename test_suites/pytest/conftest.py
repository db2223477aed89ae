"""Suite-level fixtures: data the test cases share (dictionaries, word lists, fetch scope)."""

from __future__ import annotations

import pytest

from harness import documents
from harness.cases.data import default_wordlist_path, load_dictionaries, load_words
from harness.checks.passwords import Credential
from harness.profile.resolve import Bench
from harness.pytest_plugin import dictionary_paths, rootdir
from harness.scope import Scope


@pytest.fixture(scope="session")
def dictionary(pytestconfig: pytest.Config) -> list[Credential]:
    return load_dictionaries(dictionary_paths(pytestconfig))


@pytest.fixture(scope="session")
def wordlist(pytestconfig: pytest.Config, dictionary: list[Credential]) -> set[str]:
    path = pytestconfig.getoption("wordlist") or default_wordlist_path(rootdir(pytestconfig))
    return load_words(path, dictionary)


@pytest.fixture(scope="session")
def fetch_scope(bench: Bench) -> Scope:
    return documents.fetch_scope(bench)


@pytest.fixture(scope="session")
def fetch_ca(bench: Bench) -> str | None:
    return documents.fetch_ca(bench)
