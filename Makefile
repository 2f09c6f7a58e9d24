# Trial Notes: `make run` serves it, `make test` proves it. Both start from a bare clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
export FLASK_APP := notes_service

.PHONY: run test install install-test lint serve widget widget-test demo bench fuzz clean system-tools test-tools catalogs catalogs-update

WIDGET_OUT := notes_service/static/widget.js
WIDGET_SRC := $(wildcard widget/src/*.js widget/src/*.d.ts) widget/build.mjs widget/package.json

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install -q --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install -q -e '.[test]'
	touch $@ $(VENV)/.installed

install: $(VENV)/.installed catalogs
install-test: $(VENV)/.installed-test catalogs

# The pages' words in other languages (notes_service/i18n.py): the .po catalogs are the source,
# committed; their .mo files are compiled here, never committed. `make catalogs-update` extracts
# the strings of the templates and the Python sources again and merges them into each catalog.
TRANSLATIONS := notes_service/translations
CATALOGS := $(patsubst %.po,%.mo,$(wildcard $(TRANSLATIONS)/*/LC_MESSAGES/messages.po))
$(TRANSLATIONS)/%/LC_MESSAGES/messages.mo: $(TRANSLATIONS)/%/LC_MESSAGES/messages.po | $(VENV)/.installed
	$(BIN)/pybabel compile -l $* -i $< -o $@

catalogs: $(CATALOGS)

catalogs-update: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _ -k gettext -k ngettext:1,2 -k lazy_gettext \
		--no-location --sort-output -o $(TRANSLATIONS)/messages.pot .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching

# The widget: bundled by esbuild from widget/src (approx-string-match inside) by widget/build.mjs:
# the loader served at /widget.js, its ES modules under /static/widget/ (the dialogs on demand).
widget/node_modules/.installed: widget/package-lock.json
	cd widget && npm ci --no-audit --no-fund --loglevel=error
	touch $@

$(WIDGET_OUT): widget/node_modules/.installed $(WIDGET_SRC)
	cd widget && npm run --silent build

widget: $(WIDGET_OUT)

# npm test type-checks widget/src (tsc, from the JSDoc types), then runs the node tests.
WIDGET_TEST := cd widget && npm test
widget-test: widget
	$(WIDGET_TEST)

run: install widget
	$(BIN)/flask db upgrade
	$(BIN)/flask trials load
	$(BIN)/flask run --host 127.0.0.1 --port $(PORT)

# Production serving: nginx (Debian's package, installed when missing) in front of two gunicorn
# pools, started and stopped together by deploy/front.py (Ctrl-C stops all three): the main pool
# (gunicorn.conf.py) and the passcode pool (gunicorn_unlock.conf.py). nginx listens on BIND
# (default 127.0.0.1:$PORT, PORT default 8000); docs/deploy.md lists the other settings.
serve: install widget system-tools
	$(BIN)/flask db upgrade
	$(BIN)/flask trials load
	$(BIN)/python deploy/front.py

# What the front, the browser tests and the benchmarks need from Debian, installed when missing
# (as root, like `.ci/run`): nginx, Chromium, and wrk for `make bench`.
APT_INSTALL = apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq
system-tools:
	@command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || { $(APT_INSTALL) nginx >/dev/null; }

LINT := $(BIN)/ruff check . && $(BIN)/ruff format --check . && $(BIN)/python -m mypy
lint: install-test
	$(LINT)

# The browser tests need Chromium, the front's tests nginx: installed here when missing.
test-tools: system-tools
	@[ -x /usr/bin/chromium ] || { $(APT_INSTALL) chromium >/dev/null; }

# The suite runs on SQLite and, when NOTES_TEST_DATABASE_URL names a server, on PostgreSQL at
# the same time (two processes, so that one pass's waits on servers, Argon2 or the database are
# the other's CPU time), each pass spreading its test files over TEST_WORKERS pytest-xdist
# workers (a file's tests stay on one worker, so a file's server fixtures start once). The
# PostgreSQL pass's output follows the SQLite pass's; `make test` fails if either does.
TEST_WORKERS ?= 2
# Plugins no test here uses are left unloaded: schemathesis's pytest plugin alone takes 3 s to
# import in every worker (tests/test_fuzz_api.py imports schemathesis itself); pytest-benchmark
# is bench/micro's.
PYTEST := $(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile -p no:schemathesis -p no:anyio -p no:benchmark
# Lint and the widget's own tests (its type check and node tests, about 25 s on a fresh clone,
# most of it on one core) run alongside the passes, in a process group of their own (so that
# Ctrl-C stops them all), their output after the passes'; `make test` fails if any of them does.
test: install-test test-tools widget
	@checks=$$(mktemp); log=$$(mktemp); pg=; \
	setsid sh -c '$(LINT) && ($(WIDGET_TEST))' >"$$checks" 2>&1 & others=$$!; \
	trap 'kill -- -$$others $$pg 2>/dev/null; rm -f "$$checks" "$$log"; exit 130' INT TERM; \
	if [ -n "$$NOTES_TEST_DATABASE_URL" ]; then \
		NOTES_TEST_BACKEND=postgresql $(PYTEST) -p no:cacheprovider >"$$log" 2>&1 & pg=$$!; \
	else \
		echo "NOTES_TEST_DATABASE_URL is not set: PostgreSQL run skipped"; \
	fi; \
	$(PYTEST); sqlite=$$?; postgresql=0; \
	if [ -n "$$pg" ]; then \
		wait $$pg; postgresql=$$?; echo "== the PostgreSQL pass, run alongside =="; cat "$$log"; \
	fi; \
	wait $$others; checked=$$?; echo "== lint and the widget's tests, run alongside =="; cat "$$checks"; \
	rm -f "$$checks" "$$log"; \
	echo "SQLite pass exit $$sqlite, PostgreSQL pass exit $$postgresql, lint and widget tests exit $$checked"; \
	[ $$sqlite -eq 0 ] && [ $$postgresql -eq 0 ] && [ $$checked -eq 0 ]

# The API fuzzing at depth: tests/test_fuzz_api.py alone at 200 examples per operation and mode
# (`make test` runs it at 40), on PostgreSQL when NOTES_TEST_DATABASE_URL names a server (as in
# `make test`, where text-type bugs such as NUL bytes show), else on SQLite.
FUZZ_EXAMPLES ?= 200
fuzz: install-test
	NOTES_FUZZ_EXAMPLES=$(FUZZ_EXAMPLES) NOTES_TEST_BACKEND=$${NOTES_TEST_DATABASE_URL:+postgresql} \
		$(BIN)/python -m pytest tests/test_fuzz_api.py -p no:cacheprovider -s

# A third-party page embedding the widget, on another origin; run `make run` alongside it with
# NOTES_ALLOWED_ORIGINS=http://localhost:8001.
# A demo host site with accounts (examples/host_site.py) on :8001; it prints the
# NOTES_PUBLISHERS_FILE and NOTES_ALLOWED_ORIGINS to run the service with (on :5000).
demo: install
	$(BIN)/python examples/host_site.py --port 8001 --service http://127.0.0.1:$(PORT)

# Benchmarks, not part of `make test`: gunicorn on SQLite (and PostgreSQL when 127.0.0.1:5432
# answers), loaded by wrk and bench/driver.py; writes bench/results/latest.json (docs/performance.md).
# BENCH_ARGS=--quick for a smoke run; BENCH_SECONDS etc. tune durations (see bench/run.py).
bench: install-test test-tools
	@command -v wrk >/dev/null 2>&1 || { $(APT_INSTALL) wrk >/dev/null; }
	@if [ -f widget/package.json ]; then \
		cd widget && npm ci --no-audit --no-fund --loglevel=error && npm run --silent build; fi
	$(BIN)/python bench/run.py $(BENCH_ARGS)

clean:
	rm -rf $(VENV) widget/node_modules notes_service/static/widget.js notes_service/static/widget
