# Each target sets itself up: a fresh machine needs only Python 3.11+ and make.
# The dependencies are installed at the exact versions (and hashes) of requirements.lock.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# -qq: errors only. pip's warnings here would be about the machine's own pip configuration
# (an index or a folder of wheels it lists and lacks), not about this project.
PIP := $(BIN)/python -m pip --disable-pip-version-check -qq
STAMP := $(VENV)/.installed
LOCK := requirements.lock
TOOLS := .venv-tools
PIP_TOOLS := pip-tools==7.6.2

.PHONY: install run test bench clean messages lock deploy-tools browser

$(BIN)/python:
	@echo "make: creating $(VENV) with $$($(PYTHON) --version)"
	@$(PYTHON) -m venv $(VENV)

$(STAMP): $(LOCK) pyproject.toml | $(BIN)/python
	@echo "make: installing the locked dependencies ($(LOCK)) into $(VENV)"
	@$(PIP) install --require-hashes --no-deps -r $(LOCK)
	@echo "make: installing moja-opstina itself (editable)"
	@$(PIP) install --no-deps --no-build-isolation -e .
	@touch $(STAMP)
	@echo "make: set up; the command is $(BIN)/moja-opstina"

install: $(STAMP)

run: $(STAMP)
	$(BIN)/moja-opstina run

test: $(STAMP) deploy-tools browser
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/python -m pytest

# systemd-analyze and nginx check the files of deploy/ in tests/test_deploy.py (fetched when missing).
deploy-tools:
	@deploy/get-check-tools $(VENV)/deploy-tools

# Debian's chromium for tests/test_site.py (apt-get as root when missing).
browser:
	@tests/get-chromium

bench: $(STAMP)
	$(BIN)/python bench/dispatcher.py

clean:
	rm -rf $(VENV) $(TOOLS) .mypy_cache .pytest_cache .ruff_cache

# After changing the dependencies in pyproject.toml: write requirements.lock again (commit it).
# `make lock UPGRADE=1` moves every package to its newest release that the ranges allow.
lock:
	@test -x $(TOOLS)/bin/pip-compile || { $(PYTHON) -m venv $(TOOLS) \
	  && $(TOOLS)/bin/python -m pip install --quiet --disable-pip-version-check $(PIP_TOOLS); }
	$(TOOLS)/bin/pip-compile --quiet --extra dev --all-build-deps --allow-unsafe --generate-hashes \
	  --strip-extras --no-emit-index-url --no-emit-find-links $(if $(UPGRADE),--upgrade) \
	  -o $(LOCK) pyproject.toml

# Re-extract the messages the code uses and merge them into the catalogs (then translate the new ones).
messages: $(STAMP)
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k N_ --no-location --sort-output --omit-header -o locales/messages.pot .
	$(BIN)/pybabel update -i locales/messages.pot -d locales -D messages --no-fuzzy-matching --ignore-obsolete
