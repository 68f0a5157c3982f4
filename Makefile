# envadmin: `make run` serves the demo, `make test` runs the suite. Both set up .venv first.
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: run test browser prism install install-test lint format migrate demo bench load fuzz fuzz-proxy clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "$(PYTHON) not found: set PYTHON=/path/to/python3.11"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e .
	@touch $@

$(VENV)/.installed-test: $(BIN)/python pyproject.toml
	$(BIN)/pip install --quiet -e ".[test]"
	@touch $@ $(VENV)/.installed

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

migrate: install
	$(BIN)/python manage.py migrate --noinput

demo: migrate
	@# In proxy mode the environments live in Run:ai: no demo data to load.
	@if [ "$$ENVADMIN_BACKEND" != "runai" ]; then \
		$(BIN)/python manage.py load_snapshot --if-empty envadmin/demo/demo.yaml; fi
	$(BIN)/python manage.py collectstatic --noinput -v0

run: demo
	@echo ""
	@echo "  envadmin is at http://$(HOST):$(PORT)/  (API docs: http://$(HOST):$(PORT)/api/docs/)"
	@if [ "$$ENVADMIN_BACKEND" = "runai" ]; then \
		echo "  sign in with your Run:ai account ($$RUNAI_URL)"; \
	else echo "  demo login: admin / envadmin-demo   (other roles: see README)"; fi
	@echo ""
	@# A bulk request of 1,000 items can take a minute or more: a longer worker timeout than 30 s.
	@# Threads (gthread): a long request does not hold up the page's others, and each thread
	@# keeps its database connection (DATABASE_CONN_MAX_AGE) between requests.
	$(BIN)/gunicorn envadmin.wsgi:application --bind $(HOST):$(PORT) --workers 2 --threads 4 --timeout 180 --access-logfile -

# Debian's Chromium for the browser tests: installed with apt-get where possible, else one line
# saying what to install, before anything runs.
browser:
	@scripts/ensure-chromium

# Stoplight Prism (pinned) for the proxy-mode tests against Run:ai's contract, into .prism/ with
# Debian's npm; where npm cannot be had it says so and those tests skip.
prism:
	@scripts/ensure-prism

test: browser prism install-test
	$(BIN)/python -m pytest $(PYTEST_ARGS)

bench: install
	@# Issue 7: 1,000 and 10,000 environments, every page and endpoint, into bench/results.md.
	$(BIN)/python bench/scale.py
	$(BIN)/python bench/proxy_overhead.py
	$(BIN)/python bench/impact.py
	$(BIN)/python bench/bulk.py
	@# Issue 19: the heavy endpoints against their floor, into bench/floor-results.md.
	$(BIN)/python bench/floor.py
	@echo "100,000 environments (issue 19): $(BIN)/python bench/floor.py --sizes 1000 10000 100000"

load: install
	@# Issue 6: 16 clients for 60 s on gunicorn + PostgreSQL, every acknowledged write read back,
	@# into bench/load-results.md. Needs DATABASE_URL=postgres://... (a database it may flush).
	$(BIN)/python bench/load.py $(LOAD_ARGS)

fuzz: install-test
	@# Issue 6: schemathesis against our /api/schema/ and Run:ai's contract (.ci/fuzz says how).
	.ci/fuzz

SEEDS ?= 50
fuzz-proxy: prism install-test
	@# Proxy mode against Prism: the contract's examples plus SEEDS random seeds, with a summary.
	PRISM_SEEDS=$(SEEDS) $(BIN)/python -m pytest tests/prism -q -p no:randomly

lint: install-test
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports --no-cache

format: install-test
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache staticfiles
