# NLHF Explorer. `make app` starts the explorer; `make test` runs every test.
# Both create .venv (if missing) and install requirements.txt + this package into it.

PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: app test test-slow lint install browser bench loadtest screenshots clean

$(STAMP): requirements.txt pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

install: $(STAMP)

# Debian's Chromium for the real-browser tests (Playwright's own download is blocked here).
browser:
	@if [ ! -x /usr/bin/chromium ] && ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then \
	    echo "Installing Debian's chromium for the browser tests..."; \
	    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	  else \
	    echo "No Chromium and not root: browser tests will be skipped (install the 'chromium' package)."; \
	  fi; \
	fi

# Ruff, the import rules of docs/architecture.md, and the type checker.
lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/python scripts/check_architecture.py
	$(BIN)/mypy

# Two workers (the project's machines have 2 cores): the server and browser tests on one, in order; the
# rest, a file at a time, on the other (tests/conftest.py). Long runs (marked slow: torchrun, FSDP, the LM
# study, the heaviest-request budget checks, SmolLM2) are left to `make test-slow`.
test: $(STAMP) browser lint
	$(BIN)/python -m pytest -n 2 --dist loadgroup -m "not slow"

test-slow: $(STAMP) browser
	$(BIN)/python -m pytest -m slow

app: $(STAMP)
	$(BIN)/streamlit run app/serve.py $(ARGS)

bench: $(STAMP)
	$(BIN)/python -m pip install --quiet -r requirements-bench.txt
	$(BIN)/python -m pip install --quiet --no-deps -r requirements-bench-nodeps.txt
	$(BIN)/python -m benchmarks.run $(ARGS)
	$(BIN)/python benchmarks/bench_solvers.py

# Classroom load: 30 sessions against one local server (loopback only, bounded in time);
# ARGS="--adversarial 5" makes 5 of them send the heaviest requests and abandon them.
loadtest: $(STAMP) browser
	$(BIN)/python scripts/loadtest.py $(ARGS)

# Refresh the README screenshots from the browser tests.
screenshots: $(STAMP) browser
	NLHF_UPDATE_SCREENSHOTS=1 $(BIN)/python -m pytest tests/test_browser.py

clean:
	rm -rf $(VENV) test-artifacts .pytest_cache .ruff_cache .hypothesis
