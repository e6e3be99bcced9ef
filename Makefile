# One-command set-up: every target installs uv if missing and builds .venv from uv.lock.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(shell command -v uv 2>/dev/null || echo "$(PYTHON) -m uv")
RUN := $(UV) run --frozen

.PHONY: setup demo test check lint types contracts bench report-screenshot clean

setup:
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet uv \
		|| $(PYTHON) -m pip install --quiet --user uv \
		|| $(PYTHON) -m pip install --quiet --break-system-packages uv
	@$(UV) sync --frozen --quiet --compile-bytecode
	@# The editable install's own modules too: without .pyc every start recompiles src/.
	@$(RUN) python -m compileall -q src

demo: setup
	$(RUN) xmargin backtest examples/buy_and_hold_btc.toml --data-fallback
	$(RUN) xmargin backtest examples/sma_cross.toml --data-fallback
	$(RUN) xmargin backtest examples/xrp_5x_long.toml --data-fallback
	$(RUN) xmargin margin examples/accounts/binance_usdm_two_positions.toml \
		--what-if "sell 50 BTC/USDT:USDT"

test: setup
	bash scripts/ensure-system-packages.sh
	$(RUN) pytest

lint: setup
	$(RUN) ruff format --check src tests bench
	$(RUN) ruff check src tests bench

types: setup
	$(RUN) mypy

contracts: setup
	$(RUN) lint-imports

check: lint types contracts test

bench: setup
	@for script in bench/*.py; do echo "== $$script"; $(RUN) python "$$script" || exit 1; done

report-screenshot: setup
	bash scripts/ensure-system-packages.sh
	bash scripts/report-screenshot.sh docs/report.png

clean:
	rm -rf .venv .pytest_cache .mypy_cache .ruff_cache .hypothesis
