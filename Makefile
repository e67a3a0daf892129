# Quick start: `make demo` (creates .venv, installs, runs the main job) and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
DEMO_DIR ?= demo-output
PYTEST_WORKERS ?= 2

.PHONY: demo test install bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

install: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[plot]'

demo: install
	@echo "== simulation: M=2000, alpha=1, ridgeless, 4 seeds (figures in $(DEMO_DIR)/) =="
	$(BIN)/scalinglaws simulate --latent-dim 2000 --alpha 1 \
		--n-features 25,50,100,200,400,800,1600 --n-samples 128,512,2048 \
		--ridge 0 --seeds 4 --plot $(DEMO_DIR)
	@echo "== feature spectra past M: linear vs ReLU (M=100, N=2000) =="
	$(BIN)/scalinglaws spectrum --latent-dim 100 --alpha 1 --activation relu --n-features 2000 \
		--plot $(DEMO_DIR)
	@echo "== theory with simulation: double descent, equiparameterization, linear vs ReLU past M =="
	$(BIN)/scalinglaws figures --out $(DEMO_DIR)
	@echo "== a Chinchilla-form fit of examples/chinchilla_runs.csv with bootstrap intervals (fit_chinchilla_*.png) =="
	$(BIN)/scalinglaws fit examples/chinchilla_runs.csv --form chinchilla --x N,D --y loss \
		--bootstrap 200 --plot $(DEMO_DIR)
	@echo "== figures written to $(DEMO_DIR)/ =="
	@ls -1 $(DEMO_DIR)

test: $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[test]'
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --durations=15 --doctest-modules tests src/scalinglaws

bench: install
	$(BIN)/python benchmarks/bench_engine.py

lint: $(BIN)/python
	$(BIN)/lint-imports
	$(BIN)/ruff check src tests benchmarks

clean:
	rm -rf $(VENV) $(DEMO_DIR) .pytest_cache build *.egg-info
