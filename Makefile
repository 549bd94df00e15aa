# The single source of truth for building, testing and benchmarking chromeguard.
# CI runs `make test`; the README's two set-up commands are `make demo` and `make test`.

.DEFAULT_GOAL := help
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# Debian's Chromium: the headless shell is the fast one for scraping; chromedriver lets the
# Selenium comparison tests and benchmarks run.
CHROME_PACKAGES := chromium chromium-headless-shell chromium-driver

.PHONY: help
help: ## Show this help
	@grep -E '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-10s %s\n", $$1, $$2}'

.PHONY: chrome
chrome: ## Install Chromium from Debian packages unless a Chrome is already there
	@if [ -x /usr/lib/chromium/chromium-headless-shell ] && [ -x /usr/lib/chromium/chromium ] \
		&& command -v chromedriver >/dev/null; then \
		echo "Chromium found in /usr/lib/chromium"; \
	else \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $(CHROME_PACKAGES) >/dev/null; \
	fi

$(VENV)/.deps: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q "maturin>=1.5,<2" "pytest>=8" "pytest-timeout>=2.3" "ruff>=0.6" "mypy>=1.11" selenium starlette httpx celery hypothesis
	touch $@

.PHONY: deps
deps: $(VENV)/.deps ## Create .venv with the build, test and lint tools

.PHONY: install
install: deps ## Build the native module (release) and install the package into .venv
	$(VENV)/bin/maturin develop --release --quiet

.PHONY: demo
demo: chrome install ## Find the download URLs on the bundled local site
	$(PY) -m chromeguard demo

.PHONY: lint
lint: deps ## ruff, mypy --strict (python/, examples/), stubtest, cargo fmt --check, clippy
	$(VENV)/bin/ruff check python tests benches examples
	$(VENV)/bin/ruff format --check python tests benches examples
	$(VENV)/bin/mypy --strict python examples --exclude selenium_original
	$(VENV)/bin/mypy --strict examples/legacy_backend/selenium_original/browser.py examples/legacy_backend/config.py
	$(PY) -m mypy.stubtest chromeguard._native
	cargo fmt --check
	cargo clippy --all-targets --quiet -- -D warnings

.PHONY: test
test: chrome install lint ## Everything the tests need, then all tests (Rust and Python)
	cargo test --quiet
	$(PY) -m pytest

.PHONY: bench
bench: chrome install ## Benchmarks, printed as tables (Selenium and Playwright compared when installable)
	-$(PY) -m pip install -q selenium playwright
	$(PY) benches/bench_launch.py
	$(PY) benches/bench_scrape.py

.PHONY: soak
soak: chrome install ## 2,000 scrapes over 4 threads, then everything back at its baseline
	$(PY) benches/soak.py --scrapes 2000 --threads 4

.PHONY: format
format: deps ## Format Rust and Python sources
	cargo fmt
	$(VENV)/bin/ruff format python tests benches examples
	$(VENV)/bin/ruff check --fix python tests benches examples

.PHONY: clean
clean: ## Remove build output and .venv
	cargo clean
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache
