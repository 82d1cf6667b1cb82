# reintegration_effects: `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
DATA ?=
OUT ?= reports/$(if $(DATA),$(notdir $(patsubst %/,%,$(DATA))),default)
# LANG is also the shell's locale variable: only a LANG given on the make command line is ours.
REPORT_LANG := $(if $(filter command line,$(origin LANG)),$(LANG),nl)
SEED ?= 20150101
PERSONS ?=

.DEFAULT_GOAL := help
.PHONY: help install report run data validate-data test validate bench lint clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed ## create .venv and install the package with pinned dependencies

report: $(VENV)/.installed ## run everything and write the report to OUT (default: reports/default; DATA=folder LANG=en)
	$(BIN)/reintegration-effects run $(if $(DATA),--data $(DATA),) --out $(OUT) --lang $(REPORT_LANG) --seed $(SEED)

data: $(VENV)/.installed ## write the simulated municipality to data/simulated (PERSONS=n to scale)
	$(BIN)/reintegration-effects simulate --out data/simulated/input --seed $(SEED) $(if $(PERSONS),--persons $(PERSONS),)

validate-data: $(VENV)/.installed ## check an input folder: make validate-data DATA=folder
	$(BIN)/reintegration-effects validate --data $(DATA) --out $(OUT)

test: $(VENV)/.installed ## run the test suite (fast; what CI runs)
	$(BIN)/python -m pytest -m "not slow" -q

validate: $(VENV)/.installed ## slow validation against simulated truth (many seeds; not in CI)
	$(BIN)/python -m pytest -m slow -q

bench: $(VENV)/.installed ## benchmarks (wall time, peak memory) -> benchmarks/results/
	$(BIN)/python -m benchmarks.run $(if $(PERSONS),--persons $(PERSONS),)

lint: $(VENV)/.installed ## ruff, and the import layers of pyproject.toml (import-linter)
	$(BIN)/ruff check reintegration_effects tests benchmarks setup.py
	$(BIN)/lint-imports

clean: ## remove generated output, the panel cache (reports/.reintegration-cache) and the virtual environment
	rm -rf $(VENV) reports/default reports/.reintegration-cache data/simulated .pytest_cache .hypothesis
