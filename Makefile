# The README's two commands: `make run` (the daemon on the embedded paper venue) and
# `make test` (the test suite). Both create .venv from pyproject.toml on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: run test test-slow lint bench sim clean

# lumibot, a test-only judge, comes without the dependencies it declares (see its file).
LUMIBOT := tests/conformance/requirements-lumibot.txt

$(BIN)/.installed: pyproject.toml $(LUMIBOT)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test,lint]'
	$(BIN)/python -m pip install --quiet --no-deps -r $(LUMIBOT)
	touch $@

run: $(BIN)/.installed
	$(BIN)/tradingd run

sim: $(BIN)/.installed
	$(BIN)/tradingd sim --port 0

test: $(BIN)/.installed
	$(BIN)/pytest -m 'not slow' -q

# The randomized loops (kill -9, long fuzz runs). Each prints the seed it ran with; the same
# variable set to that seed replays the run.
test-slow: $(BIN)/.installed
	$(BIN)/pytest -m slow -q

lint: $(BIN)/.installed
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	# The benchmarks import the code like any user: a rename that breaks one shows here.
	$(BIN)/mypy bench
	$(BIN)/lint-imports

bench: $(BIN)/.installed
	$(BIN)/python bench/latency.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache .hypothesis
