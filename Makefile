# The two commands of the quick start:  `make serve`  and  `make test`.
# Both create .venv/ on first use (and again whenever pyproject.toml changes).

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: setup browser virtuoso serve build test test-fast bench docs clean

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

# Debian's Virtuoso 7.2 for the remote-store tests (about 10 s with apt's lists fresh; the
# tests start it themselves, and skip with a message naming the package where it is missing).
virtuoso:
	@command -v virtuoso-t >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
		apt-get install -y -qq virtuoso-opensource >/dev/null; } || echo "virtuoso-opensource not installed: its tests skip"

setup: $(STAMP) $(UI_VENDOR)

## Build the graph from the bundled corpus and serve it on http://127.0.0.1:$CBMKG_PORT (8080).
serve: setup
	$(BIN)/cbmkg build
	$(BIN)/cbmkg serve

build: setup
	$(BIN)/cbmkg build

## Set everything up and run the whole test suite (what .ci/run calls).
test: setup browser virtuoso
	$(BIN)/python -m pytest

test-fast: setup
	$(BIN)/python -m pytest -m "not slow"

bench: setup
	$(BIN)/python benchmarks/bulk_load.py

clean:
	rm -rf var build .pytest_cache
