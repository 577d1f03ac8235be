# Two commands for a fresh machine: `make run` (the demo) and `make test` (the whole suite).
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python
PYTHON ?= python3

# The suite runs on real PostgreSQL and Redis; override these to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/portal
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15

.PHONY: run test bench lint format messages venv services

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt
	$(PYTHON) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --upgrade pip
	$(VENV)/bin/pip install --quiet -r requirements-dev.txt
	touch $@

# The demo: the sandbox store plays Shopify on port 8001; the portal connects to it like to any
# shop (webhooks both ways) and serves on port 8000. Ctrl-C stops both.
SANDBOX_PORT ?= 8001
run: venv
	DEBUG=1 $(PY) manage.py migrate --no-input
	DEBUG=1 $(PY) manage.py sandbox --port $(SANDBOX_PORT) --seed empty & sandbox=$$!; \
	trap 'kill $$sandbox 2>/dev/null' EXIT INT TERM; \
	export DEBUG=1 SANDBOX_URL=http://127.0.0.1:$(SANDBOX_PORT); \
	$(PY) manage.py load_demo && $(PY) manage.py runserver --noreload 127.0.0.1:8000

services:
	TEST_DATABASE_URL=$(TEST_DATABASE_URL) TEST_REDIS_URL=$(TEST_REDIS_URL) bin/check-machine

test: venv services
	DEBUG=0 SECRET_KEY=test-only-secret-key DATABASE_URL=$(TEST_DATABASE_URL) DATABASE_CONN_MAX_AGE=0 \
	REDIS_URL=$(TEST_REDIS_URL) SECURE_SSL_REDIRECT=0 ALLOWED_HOSTS=testserver,localhost,127.0.0.1 \
	SHOPIFY_CREDENTIALS_KEY=dGVzdC1vbmx5LWtleS10ZXN0LW9ubHkta2V5LTEyMzQ= SANDBOX_ENABLED=1 \
	$(VENV)/bin/pytest

# Each benchmark has a database and a Redis database of its own (never the test suite's, whose
# fixtures empty theirs), and prints one JSON object as its last line.
BENCH_REDIS_URL ?= $(TEST_REDIS_URL:/15=/11)
bench: venv services
	BENCH_DATABASE_URL=$(TEST_DATABASE_URL:/portal=/portal_bench) REDIS_URL=$(BENCH_REDIS_URL) \
	$(PY) bench/run.py
	BENCH_DATABASE_URL=$(TEST_DATABASE_URL:/portal=/portal_bench) REDIS_URL=$(BENCH_REDIS_URL) \
	$(PY) bench/webhooks.py
	BENCH_DATABASE_URL=$(TEST_DATABASE_URL:/portal=/portal_bench_sync) \
	BENCH_REDIS_URL=$(TEST_REDIS_URL:/15=/12) $(PY) bench/sync.py
	BENCH_DATABASE_URL=$(TEST_DATABASE_URL:/portal=/portal_bench_latency) \
	BENCH_REDIS_URL=$(TEST_REDIS_URL:/15=/13) $(PY) bench/change_latency.py
	BENCH_DATABASE_URL=$(TEST_DATABASE_URL:/portal=/portal_bench_offers) \
	BENCH_REDIS_URL=$(TEST_REDIS_URL:/15=/14) $(PY) bench/offers.py

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format: venv
	$(VENV)/bin/ruff check --fix .
	$(VENV)/bin/ruff format .

LANGUAGES := de fr es nl ja ar it pt_BR pl sv zh_Hans he

# After changing shopper-facing strings: update every catalogue, translate, then compile.
messages: venv
	DEBUG=1 $(PY) manage.py makemessages $(foreach l,$(LANGUAGES),-l $(l)) --no-obsolete \
	  --add-location file --ignore 'tests/*' --ignore 'bench/*' --ignore 'staticfiles/*'
	DEBUG=1 $(PY) manage.py compilemessages --ignore .venv --ignore staticfiles
