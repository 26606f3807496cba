# twin: two commands on a fresh Debian machine (Python 3.11+, Node 20):
#   make run    set everything up, import the demo city and serve it at http://127.0.0.1:8000
#   make test   set everything up and run every test
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DATA_DIR ?= twin-data
HOST ?= 127.0.0.1
PORT ?= 8000
PYTEST_ARGS ?=

.PHONY: setup run test lint typecheck bench screenshots system-deps clean

setup: $(VENV)/.installed node_modules/.installed

$(VENV)/.installed: pyproject.toml requirements.lock
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	# The lock is complete (a pip freeze): --no-deps installs exactly it. py3dtiles 12.1.1
	# declares numpy<2.4 and numba<0.64, but runs on the locked numpy 2.4 / numba 0.64
	# (the point-cloud tests prove it); the resolver would refuse the combination.
	$(BIN)/python -m pip install --quiet --no-deps -r requirements.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	touch $@

system-deps:
	.ci/install-system-deps

run: setup
	$(BIN)/twin --data-dir $(DATA_DIR) import data/demo/delft.city.json --layer demo \
		--title "Delft (demo city)" --if-changed
	$(BIN)/twin --data-dir $(DATA_DIR) demo
	TWIN_REPLAY=true $(BIN)/twin --data-dir $(DATA_DIR) serve --host $(HOST) --port $(PORT)

# pytest exits 5 when it collects no tests: treat that as a failure, never a pass.
test: system-deps setup
	$(BIN)/python -m pytest $(PYTEST_ARGS); rc=$$?; \
	if [ $$rc -eq 5 ]; then echo "make test: no tests were collected" >&2; exit 1; fi; \
	exit $$rc

# The pictures in docs/VIEWER.md, from a real twin over the demo city (Chromium, no download).
screenshots: system-deps setup
	$(BIN)/python docs/screenshots/capture.py

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

bench: setup
	$(BIN)/python -m bench.bench_convert --buildings 50000 --repeat 3

clean:
	rm -rf $(VENV) node_modules $(DATA_DIR) test-artifacts bench/out
