# Two commands matter: `make run` (set up, create the sample database, start the dashboard)
# and `make test` (set up, run the whole suite). Everything else is for developers.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
DB := data/eslabon.duckdb
PORT ?= 8501

.PHONY: run test lint format bench setup db clean

setup: $(STAMP)

# The pins first, then Eslabón itself as an editable package (its CLIs: eslabon-etl,
# eslabon-report, eslabon-records, eslabon-users; `import dashboard` from anywhere).
$(STAMP): requirements.txt pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	touch $(STAMP)

$(DB): | $(STAMP)
	$(BIN)/python -m etl init
	$(BIN)/python -m etl load data/sample
	$(BIN)/python -m dashboard.records import-targets data/sample-targets.csv --set-by sample

db: $(DB)

run: $(STAMP) $(DB)
	$(BIN)/python -m etl init  # a database made by an earlier release gains the new columns
	$(BIN)/streamlit run dashboard/serve.py --server.port $(PORT)

test: $(STAMP)
	bash tools/ensure_browser.sh
	bash tools/ensure_fonts.sh
	bash tools/ensure_nginx.sh
	$(BIN)/python -m pytest

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy
	$(BIN)/lint-imports

format: $(STAMP)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# Benchmarks (docs/benchmarks.md): `make bench` at 100k commitments (a few minutes);
# `make bench BENCH_SIZE=1m` at a million (about half an hour: the pandas ETL peer alone
# takes ~10 min). Data sets are generated into bench/data/ (git-ignored) when missing.
BENCH_SIZE ?= 100k
BENCH_STAMP := $(VENV)/.bench-installed

$(BENCH_STAMP): $(STAMP) bench/requirements.txt
	$(BIN)/python -m pip install --quiet -r bench/requirements.txt
	touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	bash tools/ensure_browser.sh
	bash tools/ensure_fonts.sh
	nice $(BIN)/python -m bench --size $(BENCH_SIZE)

clean:
	rm -rf $(VENV) $(DB) $(DB).wal artifacts .pytest_cache
