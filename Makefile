# Quick start: `make demo` (install, simulate, run, report) and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
HARNESS := $(VENV)/bin/harness
ALLURE_NPM := allure@3.18.0

.PHONY: install demo test lint bench docs schema clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

demo: install
	$(HARNESS) demo --out reports/demo

test: install
	$(PY) -m pytest -q

lint: install
	$(VENV)/bin/ruff check harness test_suites tests bench

bench: install
	$(PY) bench/console_matching.py

docs: install
	$(HARNESS) schema --out docs/profile.schema.json
	$(HARNESS) schema --lab --out docs/lab.schema.json
	$(PY) -m harness.docgen docs

schema: install
	$(HARNESS) schema --out docs/profile.schema.json

clean:
	rm -rf reports/demo .sim
