# reintegration_effects: `make help` lists the targets.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
DATA ?=
OUT ?= reports/$(if $(DATA),$(notdir $(patsubst %/,%,$(DATA))),default)
# LANG is also the shell's locale variable: only a LANG given on the make command line is ours.
# Default: both languages from one run (report.html/.pdf Dutch, report.en.html/.pdf English; the
# English report adds 5 to 10 s to a run of about 90 s). LANG=en or LANG=nl for one.
BOTH_LANGS := nl,en
LANG_GIVEN := $(filter command line,$(origin LANG))
REPORT_LANG := $(if $(LANG_GIVEN),$(LANG),$(BOTH_LANGS))
SEED ?= 20150101
PERSONS ?=

.DEFAULT_GOAL := help
.PHONY: help install report render run data validate-data test validate explore bench lint clean

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-14s %s\n", $$1, $$2}'

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c constraints.txt -e ".[dev]"
	touch $@

install: $(VENV)/.installed ## create .venv and install the package with pinned dependencies

report: $(VENV)/.installed ## run everything, report in Dutch and English, to OUT (default: reports/default; DATA=folder LANG=en)
	$(BIN)/reintegration-effects run $(if $(DATA),--data $(DATA),) --out $(OUT) --lang $(REPORT_LANG) --seed $(SEED)

render: $(VENV)/.installed ## the report again from OUT's tables, nothing recomputed (seconds; LANG=en for one language)
	$(BIN)/reintegration-effects render --out $(OUT) $(if $(LANG_GIVEN),--lang $(LANG),)

data: $(VENV)/.installed ## write the simulated municipality to data/simulated (PERSONS=n to scale)
	$(BIN)/reintegration-effects simulate --out data/simulated/input --seed $(SEED) $(if $(PERSONS),--persons $(PERSONS),)

validate-data: $(VENV)/.installed ## check an input folder: make validate-data DATA=folder
	$(BIN)/reintegration-effects validate --data $(DATA) --out $(OUT)

test: $(VENV)/.installed ## run the test suite (fast; what CI runs; two pytest-xdist workers, one per test module)
	$(BIN)/python -m pytest -m "not slow" -q -n 2 --dist loadfile

validate: $(VENV)/.installed ## slow validation against simulated truth (many seeds; not in CI)
	$(BIN)/python -m pytest -m slow -q

explore: $(VENV)/.installed ## the property-based tests with fresh random examples (CI draws them from a fixed seed)
	HYPOTHESIS_PROFILE=explore $(BIN)/python -m pytest -m "not slow" -q -p no:cacheprovider tests/test_disclosure.py tests/test_panel.py tests/test_settings.py tests/test_validate.py

bench: $(VENV)/.installed ## benchmarks (wall time, peak memory) -> benchmarks/results/
	$(BIN)/python -m benchmarks.run $(if $(PERSONS),--persons $(PERSONS),)

lint: $(VENV)/.installed ## ruff, and the import layers of pyproject.toml (import-linter)
	$(BIN)/ruff check reintegration_effects tests benchmarks setup.py
	$(BIN)/lint-imports

clean: ## remove generated output, the panel cache (reports/.reintegration-cache) and the virtual environment
	rm -rf $(VENV) reports/default reports/.reintegration-cache data/simulated .pytest_cache .hypothesis
