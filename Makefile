# The two commands of the README: `make run` and `make test`. Everything else is a helper.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin

# The official EN 16931 validation artefacts beside the project (read in place, never copied):
# `make run` and `make test` use them unless HUB_EN16931_DIR says otherwise.
ifeq ($(origin HUB_EN16931_DIR),undefined)
  ifneq ($(wildcard ../shared/en16931/EN16931-UBL-validation.xslt),)
    export HUB_EN16931_DIR := $(abspath ../shared/en16931)
  endif
endif

.PHONY: run test install install-dev lint typecheck format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# Stamps re-run the install when pyproject.toml changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-dev: $(VENV)/.installed-dev

## make run: install, migrate the embedded SQLite database, load demo data, serve on 127.0.0.1:8000
run: install
	$(BIN)/hub migrate
	$(BIN)/hub demo
	$(BIN)/hub serve

## make test: install dev dependencies and run the whole suite (SQLite, PostgreSQL, RabbitMQ), its
## files shared out to two processes (pytest-xdist; each has its own databases and virtual host),
## each process taking them in the order of a one-process run (ADR 0025)
test: install-dev
	$(BIN)/python -m pytest -n 2 --dist loadfile --no-loadscope-reorder

lint: install-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install-dev
	$(BIN)/mypy

format: install-dev
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

bench: install-dev
	$(BIN)/hub bench

clean:
	rm -rf $(VENV) var .pytest_cache .mypy_cache .ruff_cache .hypothesis
