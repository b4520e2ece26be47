# Jilu: `make run` serves the demo, `make test` runs every test.
# Both work on a fresh machine: system packages are installed when missing
# (as root), Python packages come from requirements.lock into .venv.

SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 8000
STAMP := $(VENV)/.installed
APT_PACKAGES := chromium fonts-noto-cjk libharfbuzz-subset0 xorriso genisoimage libarchive-tools p7zip-full udftools openssl poppler-utils nginx-core
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/test
PYTEST_WORKERS ?= 2

.PHONY: run test install system-deps node-deps check-python lint format bench clean

check-python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' || { \
	  echo "Jilu needs Python 3.11 or newer; '$(PYTHON)' is $$($(PYTHON) --version 2>&1)." >&2; \
	  echo "Install python3.11+ or run: make PYTHON=/path/to/python3.11 ..." >&2; exit 1; }

system-deps:
	@missing=""; for p in $(APT_PACKAGES); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "ok installed" || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    echo "Installing system packages:$$missing"; \
	    export DEBIAN_FRONTEND=noninteractive; \
	    apt-get update -qq && apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	  else \
	    echo "Missing system packages:$$missing" >&2; \
	    echo "Install them with: sudo apt-get install -y$$missing" >&2; exit 1; \
	  fi; \
	fi

$(STAMP): requirements.lock pyproject.toml | check-python
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -r requirements.lock
	$(BIN)/pip install -q --no-deps -e .
	touch $(STAMP)

install: check-python system-deps $(STAMP)

# The tus interoperability tests drive an independent client, tus-js-client, under Node.
node-deps:
	@command -v npm >/dev/null || { \
	  if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null; \
	  else echo "Node.js and npm are needed for the tests: sudo apt-get install -y nodejs npm" >&2; exit 1; fi; }
	@[ -d tests/interop/node_modules/tus-js-client ] || \
	  npm ci --prefix tests/interop --no-audit --no-fund --silent

run: install
	$(BIN)/jilu migrate --no-input
	$(BIN)/jilu seed-demo
	$(BIN)/jilu seed-demo-history
	@echo "Jilu is serving on http://127.0.0.1:$(PORT)/ (demo accounts: see README.md)"
	@trap 'kill 0' EXIT INT TERM; \
	  $(BIN)/jilu worker & \
	  $(BIN)/gunicorn jilu.wsgi --bind 127.0.0.1:$(PORT) --workers 1 --threads 8 \
	    --timeout 300 --access-logfile - & \
	  ( $(BIN)/jilu seed-demo-footage --server http://127.0.0.1:$(PORT) \
	    || echo "demo footage not ingested: the pages show no recordings until a recorder is docked" ) & \
	  wait

test: install node-deps
	$(BIN)/ruff check jilu jilu_station tests bench
	$(BIN)/ruff format --check jilu jilu_station tests bench
	$(BIN)/lint-imports --no-cache
	$(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider
	JILU_DATABASE_URL=$(PG_TEST_URL) $(BIN)/pytest -n $(PYTEST_WORKERS) -p no:cacheprovider -m db_sensitive

lint:
	$(BIN)/ruff check jilu jilu_station tests bench
	$(BIN)/lint-imports --no-cache

format:
	$(BIN)/ruff format jilu jilu_station tests bench
	$(BIN)/ruff check --fix jilu jilu_station tests bench

bench: install
	$(BIN)/python bench/store.py
	$(BIN)/python bench/ingest.py
	$(BIN)/python bench/media.py
	$(BIN)/python bench/media_probe.py
	$(BIN)/python bench/export.py

clean:
	rm -rf $(VENV) var .pytest_cache
