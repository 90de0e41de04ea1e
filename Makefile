# AnkiConnect developer commands. `make run` and `make test` work on a fresh machine.
#
#   make test                     the whole suite against Anki 26.9.3 (the default release)
#   make test ANKI=2.1.50         ... against another release, in its own venv (.venv/2.1.50)
#   make smoke ANKI=24.11         the smoke set (tests/smoke.txt) against one release
#   make test-matrix              the smoke set against every release in MATRIX, then a summary
#   make bench ANKI=2.1.50        the benchmark on one release
#
# Each release has requirements/anki-<release>.txt: every dependency pinned, and the Python its
# desktop build ships (2.1.50 .. 25.02: 3.9; 25.07 and later: 3.13), found by devtools/matrix.py
# (a pythonX.Y on PATH, or pyenv's). PYTHON=/path/to/python overrides it.
DEFAULT_ANKI := 26.9.3
ANKI ?= $(DEFAULT_ANKI)
MATRIX ?= 2.1.50 2.1.66 23.12.1 24.11 25.02.7 25.09.5 26.9.3
REQS := requirements/anki-$(ANKI).txt
VENV ?= .venv/$(ANKI)
PY := $(VENV)/bin/python
PYTHON ?= $(shell python3 devtools/matrix.py python $(ANKI))
ANKI_BASE_GIVEN := $(if $(filter command line environment,$(origin ANKI_BASE)),$(ANKI_BASE),)
# a collection upgraded by a newer Anki does not open in an older one: one base per release
ANKI_BASE ?= $(CURDIR)/.anki-base$(if $(filter $(DEFAULT_ANKI),$(ANKI)),,-$(ANKI))
PACKAGE := build/AnkiConnect.ankiaddon
PYTEST_ARGS ?=

.PHONY: venv clients run test smoke test-matrix package install bench clean

venv: $(VENV)/.stamp

$(REQS):
	@echo "No $(REQS): the releases with pinned requirements are:" \
	  $(patsubst requirements/anki-%.txt,%,$(wildcard requirements/anki-*.txt)) >&2; exit 1

$(VENV)/.stamp: $(REQS) requirements-addon.txt
	@python_bin="$(PYTHON)"; test -n "$$python_bin" || exit 1; \
	  echo "creating $(VENV) with $$python_bin"; \
	  rm -rf "$(VENV)" && "$$python_bin" -m venv "$(VENV)"
	$(PY) -m pip install -q --disable-pip-version-check -r $(REQS)
	touch $@

# The third-party clients tests/test_clients.py drives (PyPI into the venv, npm into
# tests/clients/node_modules): the full suite needs them, the smoke set does not.
clients: $(VENV)/.clients-stamp tests/clients/node_modules/.stamp

$(VENV)/.clients-stamp: $(VENV)/.stamp tests/clients/requirements.txt
	$(PY) -m pip install -q --disable-pip-version-check -r tests/clients/requirements.txt \
	  || echo "WARNING: tests/clients/requirements.txt does not install on $(VENV)" >&2
	touch $@

tests/clients/node_modules/.stamp: tests/clients/package-lock.json
	npm ci --prefix tests/clients --no-audit --no-fund --loglevel=error
	touch $@

run: venv
	$(PY) devtools/launch.py --base "$(ANKI_BASE)" --link . --announce

test: venv clients
	$(PY) -m pytest -q tests $(PYTEST_ARGS)

smoke: venv
	$(PY) -m pytest -q tests --smoke $(PYTEST_ARGS)

test-matrix:
	python3 devtools/matrix.py smoke $(MATRIX)

package: venv
	$(PY) devtools/package.py --out $(PACKAGE)

bench: venv
	$(PY) devtools/bench.py

# Link this checkout into an existing Anki's add-on folder (with h11 unpacked into vendor/).
install: venv
	$(PY) devtools/package.py --vendor-into .
	$(PY) devtools/install.py "$(ANKI_BASE_GIVEN)"

clean:
	rm -rf build .pytest_cache
