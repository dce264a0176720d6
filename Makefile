# CareCircle: `make demo` to try it, `make test` to check everything.
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export FLASK_APP := wsgi.py
PG_TEST_URL ?= postgresql://postgres@127.0.0.1:5432/test
# Test workers (pytest-xdist): each gets its own SQLite file or PostgreSQL schema. SQLite runs
# are CPU-bound (2 cores here); PostgreSQL runs wait on the server, so one more worker helps.
TEST_JOBS ?= 2
PG_TEST_JOBS ?= 3

.PHONY: help demo serve pseudo outbox test lint translations migrate seed clean screenshots bench bench-inprocess bench-profile bench-sms bench-plan bench-reset bench-weight bench-fhir bench-measures chaos

help:
	@echo "make demo   - install, migrate, load demo data and serve on http://127.0.0.1:5000 (PORT=5001: another port)"
	@echo "make test   - ruff, catalog check and the whole test suite (SQLite, then PostgreSQL)"
	@echo "make pseudo - the demo in the pseudo-locale (choose English): words without ⟦markers⟧ are not translatable"
	@echo "make outbox - the demo's newest emails and texts, with their links and codes"
	@echo "make chaos  - texts under kills, provider faults and races (PostgreSQL and SQLite)"
	@echo "make bench  - every page under gunicorn + wrk, as a ratio to /healthz (docs/performance.md)"
	@echo "make bench-fhir - Synthea bundles imported per second (SQLite; BENCH_PG_URL=... PostgreSQL too)"
	@echo "make bench-measures - each measure computed live, seconds per scope (DATABASE_URL=...)"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "CareCircle needs Python 3.11 or newer")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

translations: $(STAMP)
	$(BIN)/flask translate compile

# The demo in the pseudo-locale: choose English, and every translated string shows in
# ⟦markers⟧; any word without them was never wrapped in _() (README, "Developing").
PSEUDO_DIR := $(CURDIR)/instance/pseudo
pseudo: seed
	$(BIN)/flask translate pseudo $(PSEUDO_DIR)
	$(BIN)/flask --app "app:create_app(None, {'BABEL_TRANSLATION_DIRECTORIES': '$(PSEUDO_DIR)'})" run --host 127.0.0.1

migrate: $(STAMP)
	$(BIN)/flask db upgrade

seed: migrate
	$(BIN)/flask demo seed

# make demo PORT=5001 serves on another port. flask run reads FLASK_RUN_PORT, and so does
# config.py: links in the demo's emails and texts point at that port (unless PUBLIC_BASE_URL
# is set).
PORT ?= $(or $(FLASK_RUN_PORT),5000)
demo serve: export FLASK_RUN_PORT := $(PORT)

demo: translations seed
	@echo "CareCircle is at http://127.0.0.1:$(PORT) (demo logins: see README.md)"
	$(BIN)/flask run --host 127.0.0.1

serve: translations migrate
	$(BIN)/flask run --host 127.0.0.1

outbox: $(STAMP)
	$(BIN)/flask outbox show

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/flask translate check

test: lint translations
	@bash .ci/ensure-chromium
	@echo "== tests on SQLite"
	env -u DATABASE_URL $(BIN)/pytest -n $(TEST_JOBS)
	@if [ -n "$$DATABASE_URL" ]; then URL="$$DATABASE_URL"; \
	elif $(BIN)/python -c 'import psycopg,sys; psycopg.connect(sys.argv[1], connect_timeout=3).close()' "$(PG_TEST_URL)" 2>/dev/null; then URL="$(PG_TEST_URL)"; \
	else URL=""; fi; \
	if [ -n "$$URL" ]; then \
	  echo "== tests on PostgreSQL"; \
	  DATABASE_URL="$$URL" $(BIN)/pytest -n $(PG_TEST_JOBS) -m "not browser"; \
	else \
	  echo "== PostgreSQL not reachable (set DATABASE_URL to test on it); skipped"; \
	fi

screenshots: translations seed
	$(BIN)/python docs/screenshots/take.py

# Pages under gunicorn + wrk at 10k and 100k patients on SQLite and PostgreSQL (PG_BENCH_URL),
# each as a ratio to /healthz in the same run; writes docs/performance.md and bench/results/.
# One table: make bench BENCH_ARGS="--db postgresql --patients 10000". wrk comes from the OS.
BENCH_ARGS ?=
PG_BENCH_URL ?= postgresql://postgres@127.0.0.1:5432
bench: $(STAMP)
	@command -v wrk >/dev/null || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null && \
	  { apt-get install -y -qq wrk || { apt-get update -qq && apt-get install -y -qq wrk; }; }; } || \
	  { echo "make bench needs wrk: install it from your OS packages (apt-get install wrk)"; exit 1; }
	BENCH_PG_URL="$(PG_BENCH_URL)" $(BIN)/python bench/web.py $(BENCH_ARGS)

# A pyinstrument profile of pages, in-process, on the data make bench built:
# make bench-profile PROFILE_ARGS="--db sqlite --patients 10000 --page inbox summary"
PROFILE_ARGS ?= --db sqlite --patients 10000 --page inbox summary
bench-profile: $(STAMP)
	BENCH_PG_URL="$(PG_BENCH_URL)" $(BIN)/python bench/profile.py $(PROFILE_ARGS)

# The earlier in-process page timings (2,000 patients, no server).
bench-inprocess: $(STAMP)
	$(BIN)/python bench/run.py

bench-sms: $(STAMP)
	$(BIN)/python bench/dispatcher.py

bench-plan: $(STAMP)
	$(BIN)/python bench/planner.py

bench-weight: $(STAMP)
	$(BIN)/python bench/page_weight.py

bench-reset: $(STAMP)
	$(BIN)/python bench/reset_timing.py

# The measures computed live (no rollup) on DATABASE_URL, e.g. the 100k PostgreSQL data set
# (docs/performance.md, "Measures computed live").
bench-measures: $(STAMP)
	$(BIN)/python bench/measures.py

# FHIR import: Synthea bundles per second, new and unchanged (docs/performance.md); PostgreSQL too
# with BENCH_PG_URL=postgresql://... (a throwaway schema).
bench-fhir: $(STAMP)
	BENCH_PG_URL="$(BENCH_PG_URL)" $(BIN)/python bench/fhir_import.py

# Texting under crashes, faults and races, on PostgreSQL (PG_TEST_URL) and SQLite: a table of
# queued / received / lost / duplicated / worker crashes per scenario (docs/texting.md).
chaos: $(STAMP)
	CHAOS_PG_URL="$(PG_TEST_URL)" $(BIN)/python bench/chaos.py

clean:
	rm -rf $(VENV) instance/carecircle.db .pytest_cache .ruff_cache
	find . -name '*.mo' -delete
