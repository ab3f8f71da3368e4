# runyard — the targets the README names. Everything runs from the virtual environment in .venv/.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: setup run test lint format bench clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(STAMP)

## setup: create .venv with runyard (the `runyard` command) and the test tools
setup: $(STAMP)

## run: log example runs into ./.runyard, print a summary, then serve the API on 127.0.0.1:8765
run: $(STAMP)
	$(BIN)/python examples/log_every_kind.py
	$(BIN)/runyard run submit-script -e explore-runs -d examples --query "{run: runId, status: status}" hello_script.py
	$(BIN)/runyard run list -e explore-runs -o table --last 5 --query "[].{run: runId, status: status, target: target, tags: tags}"
	$(BIN)/runyard server --host 127.0.0.1 --port 8765

## test: the whole test suite (SQLite and PostgreSQL at 127.0.0.1:5432, database test)
test: $(STAMP)
	$(BIN)/python -m pytest -q

## lint: ruff (lint + format check) and mypy --strict on src/
lint: $(STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy

## format: apply ruff's formatting and safe fixes
format: $(STAMP)
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

## bench: every benchmark in benchmarks/, side by side with MLflow where installed
bench: $(STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .runyard .pytest_cache .mypy_cache .ruff_cache
