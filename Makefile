# Quick start: `make demo` (install, simulate, run, report) and `make test`.
VENV ?= .venv
PYTHON ?= python3
PY := $(VENV)/bin/python
HARNESS := $(VENV)/bin/harness
ALLURE_NPM := allure@3.18.0

# The suites start the harness in hundreds of subprocesses (runs, simulators, lab tools): with a
# shell that sets PYTHONDONTWRITEBYTECODE each of them compiles the harness (and pytest rewrites
# its test modules) again. Bytecode goes to the ignored __pycache__ folders, as Python does by default.
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install system-deps demo test test-farm lint bench bench-farm docs schema clean

# Debian packages the harness drives for real: Mosquitto (lab broker), iproute2 (bench network
# namespaces), nmap (only for bench/ comparisons), tcpdump (passive capture of a unit's traffic),
# chromium (the report's PDF and its browser test), ser2net (remote serial consoles in tests).
# Installed when missing and we are root.
SYSTEM_DEPS := mosquitto:/usr/sbin/mosquitto iproute2:/usr/sbin/ip nmap:/usr/bin/nmap tcpdump:/usr/bin/tcpdump \
  chromium:/usr/bin/chromium ser2net:/usr/sbin/ser2net

install: system-deps $(VENV)/.installed

system-deps:
	@missing=""; for dep in $(SYSTEM_DEPS); do pkg=$${dep%%:*}; bin=$${dep#*:}; \
	  [ -x "$$bin" ] || missing="$$missing $$pkg"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "installing$$missing"; apt-get update -qq && \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else echo "missing Debian packages:$$missing (install them as root)"; fi; fi

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[dev]'
	touch $@

demo: install
	$(HARNESS) demo --out reports/demo
	# The assessor's part, from the decisions file that goes with the compliant simulator: the
	# complete report a lab would submit (HTML, and PDF when Chromium is installed).
	$(HARNESS) assess reports/demo/compliant --decisions fixtures/decisions/sim-compliant.yaml
	-$(HARNESS) report reports/demo/compliant --pdf --no-allure

FARM_VENV ?= .venv-farm
FARM_TESTS := tests/unit/test_farm_places.py tests/unit/test_farm_power.py tests/unit/test_links_serial_pty.py \
  tests/integration/test_farm_labgrid.py

# The harness's own tests and, beside them, the farm tests with the optional `farm` extra (labgrid, whose
# pyserial fork replaces pyserial's `serial` package) in a venv of its own: the harness must work
# with and without it.
test: install $(FARM_VENV)/.installed system-deps
	@# The farm tests mostly wait on labgrid and ser2net: they run beside the main suite.
	@HARNESS_FARM=1 $(FARM_VENV)/bin/python -m pytest -q -p no:cacheprovider $(FARM_TESTS) > .farm-tests.log 2>&1 & \
	farm=$$!; $(PY) -m pytest -q -n 4 --dist loadfile; main=$$?; wait $$farm; farm_rc=$$?; \
	echo "--- the farm tests (with the labgrid extra, $(FARM_VENV)):"; cat .farm-tests.log; rm -f .farm-tests.log; \
	[ $$main -eq 0 ] && [ $$farm_rc -eq 0 ]

test-farm: system-deps $(FARM_VENV)/.installed
	HARNESS_FARM=1 $(FARM_VENV)/bin/python -m pytest -q -n 2 --dist loadfile $(FARM_TESTS)

$(FARM_VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(FARM_VENV)
	$(FARM_VENV)/bin/python -m pip install -q --upgrade pip
	$(FARM_VENV)/bin/python -m pip install -q -e '.[dev,farm]'
	touch $@

lint: install
	$(VENV)/bin/ruff check harness test_suites tests bench

bench: install
	$(PY) bench/console_matching.py

bench-farm: install
	$(PY) bench/farm.py

docs: install
	$(HARNESS) schema --out docs/profile.schema.json
	$(HARNESS) schema --lab --out docs/lab.schema.json
	$(PY) -m harness.docgen docs
	$(PY) -m robot.libdoc harness.robot.HarnessLibrary docs/robot/harness-library.html
	sed -i 's#$(CURDIR)/##g' docs/robot/harness-library.html  # source paths relative to the project

schema: install
	$(HARNESS) schema --out docs/profile.schema.json

clean:
	rm -rf reports/demo .sim $(FARM_VENV)
