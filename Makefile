# The two commands: `make run` (console chat on the embedded config) and `make test`.
# Both create .venv and install everything on first use; nothing else is needed.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
# The CPU build of torch; elsewhere add e.g. TORCH_INDEX=--index-url=https://download.pytorch.org/whl/cpu
TORCH  ?= torch==2.13.0
TORCH_INDEX ?=
PYTEST_ARGS ?=
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ANONYMIZED_TELEMETRY := False

.PHONY: run test test-fast lint bench bench-routing bench-memory bench-hub bench-startup embed-model install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(TORCH_INDEX) "$(TORCH)"
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

# The one-off ONNX export of the bundled MiniLM (into $$ORCHESTRATOR_CACHE_DIR or
# ~/.cache/chatops-orchestrator); otherwise the first start does it.
embed-model: install
	$(BIN)/python -c "from orchestrator.embedding.onnx_minilm import ensure_model; print(ensure_model())"

run: install
	$(BIN)/orchestrator chat

test: install
	$(BIN)/python scripts/with_redis.py -- $(BIN)/python -m pytest -q $(PYTEST_ARGS)

# Skips the suites marked slow (CI runs everything through `make test`).
test-fast: install
	$(BIN)/python scripts/with_redis.py -- $(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .

bench: bench-routing bench-memory bench-hub

bench-routing: install
	$(BIN)/python -m bench.routing

bench-memory: install
	$(BIN)/python scripts/with_redis.py -- $(BIN)/python -m bench.memory

bench-hub: install
	$(BIN)/python -m bench.hub

bench-startup: embed-model
	$(BIN)/python -m bench.startup

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache .cache
