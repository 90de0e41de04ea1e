# AnkiConnect developer commands. `make run` and `make test` work on a fresh machine.
#
#   make run                      a real Anki with this checkout as its AnkiConnect (ANKI_BASE)
#   make test                     the whole suite against Anki 26.9.3 (the default release)
#   make test ANKI=2.1.50         ... against another release
#   make smoke ANKI=24.11         the smoke set (tests/smoke.txt) against one release
#   make test-matrix              the smoke set against every release in MATRIX, then a summary
#   make bench ANKI=2.1.50        the benchmark on one release
#   make package                  build/AnkiConnect.ankiaddon, what users install
#   make dist                     build/ankiconnect-<version>-py3-none-any.whl: ankiconnect serve
#   make reference                README.md's API reference, regenerated (devtools/reference.py)
#   make typecheck                mypy over the built package (part of make test)
#
# Three kinds of venv, so that the Anki under test holds exactly what a user's Anki holds:
#   .venv/anki-<release>   Anki itself: requirements/anki-<release>.txt (aqt, anki, their
#                          dependencies) and nothing else. Tests and `make run` start Anki in it.
#   .venv/tests-<release>  pytest, hypothesis and the client libraries (requirements/tests-<py>.txt,
#                          tests/clients/requirements.txt) beside the same Anki pins, for the test
#                          process and the benchmark's in-process side.
#   .venv/build            vendoring (requirements/build.txt), which bundles requirements-addon.txt.
#   .venv/headless-<release>  the `anki` library alone, with the dependencies it names, pinned
#                          as in requirements/anki-<release>.txt: what `pip install anki` gives a
#                          machine without Anki's desktop; tests/test_headless.py installs the
#                          wheel (make dist) into it and runs its `ankiconnect serve`.
# Each release's requirements name the Python its desktop build ships (2.1.50 .. 25.02: 3.9;
# 25.07 and later: 3.13), found by devtools/matrix.py (a pythonX.Y on PATH, or pyenv's).
# PYTHON=/path/to/python overrides it.
DEFAULT_ANKI := 26.9.3
ANKI ?= $(DEFAULT_ANKI)
MATRIX ?= 2.1.50 2.1.66 23.12.1 24.11 25.02.7 25.09.5 26.9.3
REQS := requirements/anki-$(ANKI).txt
ANKI_VENV := .venv/anki-$(ANKI)
TEST_VENV := .venv/tests-$(ANKI)
BUILD_VENV := .venv/build
HEADLESS_VENV := .venv/headless-$(ANKI)
ANKI_PY := $(ANKI_VENV)/bin/python
PY := $(TEST_VENV)/bin/python
BUILD_PY := $(BUILD_VENV)/bin/python
PYTHON ?= $(shell python3 devtools/matrix.py python $(ANKI))
BUILD_PYTHON ?= $(shell python3 devtools/matrix.py find 3.13)
TEST_REQS = requirements/tests-$(shell python3 devtools/matrix.py pyver $(ANKI)).txt
ANKI_BASE_GIVEN := $(if $(filter command line environment,$(origin ANKI_BASE)),$(ANKI_BASE),)
# a collection upgraded by a newer Anki does not open in an older one: one base per release
ANKI_BASE ?= $(CURDIR)/.anki-base$(if $(filter $(DEFAULT_ANKI),$(ANKI)),,-$(ANKI))
PACKAGE := build/AnkiConnect.ankiaddon
PYTEST_ARGS ?=
PIP := -m pip install -q --disable-pip-version-check
# the harness (devtools/harness.py) starts Anki with this interpreter, never the test process's
export ANKICONNECT_ANKI_PYTHON := $(CURDIR)/$(ANKI_PY)
export ANKICONNECT_RELEASE := $(ANKI)

.PHONY: venv anki-venv build-venv clients run test typecheck smoke test-matrix package dist install bench clean reference

venv: anki-venv $(TEST_VENV)/.stamp build-venv $(HEADLESS_VENV)/.stamp
anki-venv: $(ANKI_VENV)/.stamp
build-venv: $(BUILD_VENV)/.stamp

$(REQS):
	@echo "No $(REQS): the releases with pinned requirements are:" \
	  $(patsubst requirements/anki-%.txt,%,$(wildcard requirements/anki-*.txt)) >&2; exit 1

$(ANKI_VENV)/.stamp: $(REQS)
	@python_bin="$(PYTHON)"; test -n "$$python_bin" || exit 1; \
	  echo "creating $(ANKI_VENV) with $$python_bin"; \
	  rm -rf "$(ANKI_VENV)" && "$$python_bin" -m venv "$(ANKI_VENV)"
	$(ANKI_PY) $(PIP) -r $(REQS)
	touch $@

$(HEADLESS_VENV)/.stamp: $(REQS)
	@python_bin="$(PYTHON)"; test -n "$$python_bin" || exit 1; \
	  rm -rf "$(HEADLESS_VENV)" && "$$python_bin" -m venv "$(HEADLESS_VENV)"
	$(HEADLESS_VENV)/bin/python $(PIP) "anki==$(ANKI)" -c $(REQS)
	touch $@

$(TEST_VENV)/.stamp: $(REQS) requirements/tests-3.9.txt requirements/tests-3.13.txt
	@python_bin="$(PYTHON)"; test -n "$$python_bin" || exit 1; \
	  echo "creating $(TEST_VENV) with $$python_bin"; \
	  rm -rf "$(TEST_VENV)" && "$$python_bin" -m venv "$(TEST_VENV)"
	$(PY) $(PIP) -r $(REQS) -r $(TEST_REQS)
	touch $@

$(BUILD_VENV)/.stamp: requirements/build.txt
	@python_bin="$(BUILD_PYTHON)"; test -n "$$python_bin" || exit 1; \
	  echo "creating $(BUILD_VENV) with $$python_bin"; \
	  rm -rf "$(BUILD_VENV)" && "$$python_bin" -m venv "$(BUILD_VENV)"
	$(BUILD_PY) $(PIP) -r requirements/build.txt
	touch $@

# The third-party clients tests/test_clients.py, test_events_clients.py and test_mcp_clients.py
# drive (PyPI into the tests venv, npm into tests/clients/node_modules, the MCP SDK into
# .venv/mcp-sdk): the full suite needs them, the smoke set does not.
MCP_VENV := .venv/mcp-sdk
clients: $(TEST_VENV)/.clients-stamp $(MCP_VENV)/.stamp tests/clients/node_modules/.stamp

# the official MCP Python SDK (tests/test_mcp_clients.py): a Python 3.13 venv of its own for
# every ANKI (it needs h11 0.16.0, which the tests venv must not hold: tests/test_package.py)
$(MCP_VENV)/.stamp: tests/clients/requirements-mcp.txt
	@python_bin="$(BUILD_PYTHON)"; test -n "$$python_bin" || exit 1; \
	  rm -rf "$(MCP_VENV)" && "$$python_bin" -m venv "$(MCP_VENV)"
	$(MCP_VENV)/bin/python $(PIP) -r tests/clients/requirements-mcp.txt
	touch $@

$(TEST_VENV)/.clients-stamp: $(TEST_VENV)/.stamp tests/clients/requirements.txt
	$(PY) $(PIP) -r tests/clients/requirements.txt
	touch $@

tests/clients/node_modules/.stamp: tests/clients/package-lock.json
	npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error
	touch $@

# this checkout, linked into ANKI_BASE, with its bundled dependencies in vendor/
run: anki-venv build-venv
	$(BUILD_PY) devtools/package.py --vendor-into .
	$(ANKI_PY) devtools/launch.py --base "$(ANKI_BASE)" --link . --announce

test: venv clients typecheck
	$(PY) -m pytest -q tests $(PYTEST_ARGS)

# mypy (pinned for Python 3.13) runs in the default release's tests venv, whatever ANKI is
typecheck:
	@$(MAKE) --no-print-directory venv ANKI=$(DEFAULT_ANKI)
	.venv/tests-$(DEFAULT_ANKI)/bin/python devtools/typecheck.py

# the API reference in README.md, from the action declarations, their docstrings and
# docs/examples/*.json; tests/test_reference.py fails while README.md is stale
reference: $(TEST_VENV)/.stamp
	$(PY) devtools/reference.py --write

smoke: venv
	$(PY) -m pytest -q tests --smoke $(PYTEST_ARGS)

test-matrix:
	python3 devtools/matrix.py smoke $(MATRIX)

package: build-venv
	$(BUILD_PY) devtools/package.py --out $(PACKAGE)

dist: build-venv
	$(BUILD_PY) devtools/package.py --wheel build

bench: venv
	$(PY) devtools/bench.py

# Link this checkout into an existing Anki's add-on folder (with h11 bundled into vendor/).
install: build-venv
	$(BUILD_PY) devtools/package.py --vendor-into .
	$(BUILD_PY) devtools/install.py "$(ANKI_BASE_GIVEN)"

clean:
	rm -rf build .pytest_cache vendor
