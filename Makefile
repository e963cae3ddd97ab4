# Two entry points for a new user (see README): `make run` and `make test`.
# `make run` installs what running needs; `make test` adds the test and lint tools and, on CI, the browser.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
OUT    ?= out/malaysia-base

.PHONY: run test lint bench fuzz install install-test browser clean

$(VENV)/.installed-run: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml $(VENV)/.installed-run
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

install: $(VENV)/.installed-run

install-test: $(VENV)/.installed-test browser

## Debian's chromium for the browser tests: installed on CI (CI=true), where a missing browser fails the suite;
## elsewhere the browser tests skip with a printed reason when no chromium is found.
browser:
	@if [ "$$CI" = "true" ] && ! command -v chromium >/dev/null 2>&1; then \
		SUDO=$$( [ "$$(id -u)" = 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && $$SUDO apt-get install -y -qq chromium >/dev/null; \
	fi

## run the flagship scenario end to end and write its report
run: install
	$(BIN)/mine2magnet run malaysia-base --compare all --ranges --out $(OUT)

## run the test suite on every core (fails if a test fails or none ran)
test: install-test
	$(BIN)/python -m pytest -q -n auto

## the large fuzz campaign over every shipped input kind (a fast subset runs in `make test`)
fuzz: install-test
	$(BIN)/python benchmarks/fuzz_campaign.py

lint: install-test
	$(BIN)/ruff check . && $(BIN)/ruff format --check .

bench: install-test
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) out .pytest_cache
