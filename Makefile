# AnkiConnect developer commands. `make run` and `make test` work on a fresh machine.
ANKI ?= 26.9.3
PYTHON ?= python3.11
VENV ?= .venv/$(ANKI)
PY := $(VENV)/bin/python
ANKI_BASE_GIVEN := $(if $(filter command line environment,$(origin ANKI_BASE)),$(ANKI_BASE),)
ANKI_BASE ?= $(CURDIR)/.anki-base
PACKAGE := build/AnkiConnect.ankiaddon
PYTEST_ARGS ?=

.PHONY: venv run test package install bench clean

venv: $(VENV)/.stamp

$(VENV)/.stamp: requirements-dev.txt requirements-addon.txt
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -r requirements-dev.txt
	touch $@

run: venv
	$(PY) devtools/launch.py --base "$(ANKI_BASE)" --link . --announce

test: venv
	$(PY) -m pytest -q tests $(PYTEST_ARGS)

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
