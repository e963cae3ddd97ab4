# Two entry points for a new user (see README): `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out/malaysia-base

.PHONY: run test lint bench install clean

$(BIN)/mine2magnet: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --upgrade pip
	$(BIN)/python -m pip install -e '.[dev]'
	touch $@

install: $(BIN)/mine2magnet

## run the flagship scenario end to end and write its report
run: install
	$(BIN)/mine2magnet run malaysia-base --compare all --out $(OUT)

## run the test suite (fails if a test fails or none ran)
test: install
	$(BIN)/python -m pytest -q

lint: install
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: install
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) out .pytest_cache
