# The two commands of the quick start:  `make serve`  and  `make test`.
# Both create .venv/ on first use (and again whenever pyproject.toml changes).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup browser serve build test test-fast bench docs clean

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

# The query page's YASGUI, from the npm registry by the lock file (served by us, no CDN).
UI_VENDOR := server/ui/node_modules/.package-lock.json
$(UI_VENDOR): server/ui/package-lock.json
	npm ci --prefix server/ui --ignore-scripts --no-audit --no-fund --loglevel=error

# Debian's Chromium drives the UI test (Playwright's Python client, no browser download).
browser:
	@command -v chromium >/dev/null || { apt-get update -qq && apt-get install -y -qq chromium >/dev/null; }

setup: $(STAMP) $(UI_VENDOR)

## Build the graph from the bundled corpus and serve it on http://127.0.0.1:$CBMKG_PORT (8080).
serve: setup
	$(BIN)/cbmkg build
	$(BIN)/cbmkg serve

build: setup
	$(BIN)/cbmkg build

## Set everything up and run the whole test suite (what .ci/run calls).
test: setup browser
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

bench: setup
	$(BIN)/python benchmarks/bulk_load.py

clean:
	rm -rf var build .pytest_cache
