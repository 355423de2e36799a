# Everything runs from .venv/, created from the locked requirements by `make install`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
HOST ?= 127.0.0.1
PORT ?= 8000
SAMPLE_STORES ?= 2000
# The settings refuse to start without DJANGO_SECRET_KEY, or with one shorter
# than 50 characters (unless DJANGO_DEBUG is on). These targets run on a
# developer's machine, so they bring a local key; one set in the environment
# wins. Never use it in production.
LOCAL_SECRET_KEY := local-development-key-of-make-never-use-it-in-production

.PHONY: install run test lint mypy format bench bench-scale loadtest lock clean screenshots

run test mypy bench bench-scale loadtest screenshots: export DJANGO_SECRET_KEY ?= $(LOCAL_SECRET_KEY)

install: $(STAMP)

$(STAMP): requirements/dev.txt
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements/dev.txt
	@touch $(STAMP)

# The open embedded set-up: no API keys, no login for the pages.
run: install
	@echo "make run: API_KEYS_REQUIRED=$${API_KEYS_REQUIRED:-false} (false: no API key needed; anyone who reaches $(HOST):$(PORT) may use the API)"
	$(BIN)/python manage.py migrate --no-input
	$(BIN)/python manage.py load_sample_data --if-empty --stores $(SAMPLE_STORES)
	API_KEYS_REQUIRED=$${API_KEYS_REQUIRED:-false} $(BIN)/python manage.py runserver --noreload $(HOST):$(PORT)

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Every static check, as CI runs them (.ci/run calls this target): lint, format,
# types, migrations that match the models, and Django's deployment checks under
# a production-like environment (a fresh random key, HTTPS on).
lint: install mypy
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	env -u DATABASE_URL DJANGO_SECRET_KEY=$(LOCAL_SECRET_KEY) \
		$(BIN)/python manage.py makemigrations --check --dry-run
	env -u DATABASE_URL \
		DJANGO_DEBUG=false \
		DJANGO_SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(50))')" \
		DJANGO_ALLOWED_HOSTS=monitoring.example.com \
		DJANGO_SECURE_SSL_REDIRECT=true \
		DJANGO_SECURE_HSTS_SECONDS=31536000 \
		DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS=true \
		DJANGO_SECURE_HSTS_PRELOAD=true \
		DJANGO_BEHIND_TLS_PROXY=true \
		$(BIN)/python manage.py check --deploy --fail-level WARNING

# django-stubs imports the settings, hence the key above.
mypy: install
	$(BIN)/mypy monitor store_monitoring bench tests docs/make_screenshots.py

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

bench: install
	$(BIN)/python -m bench

# One report over a Celery worker at SCALE× the real shape (bench/scale.py): make bench-scale SCALE=30
SCALE ?= 1
bench-scale: install
	$(BIN)/python -m bench.scale --scale $(SCALE)

# PNGs of every page (light and dark, 1440 and 390 px) from generated sample data.
screenshots: install
	$(BIN)/python docs/make_screenshots.py

# 50 clients for 60 s against gunicorn + Celery + Redis + PostgreSQL (bench/loadtest.py).
loadtest: install
	$(BIN)/python -m bench.loadtest $(LOADTEST_ARGS)

# Re-pin requirements/*.txt from pyproject.toml (needs network access to PyPI).
lock: install
	$(BIN)/python -m pip install --quiet uv
	$(BIN)/uv pip compile --quiet --upgrade --python-version 3.11 pyproject.toml -o requirements/base.txt
	$(BIN)/uv pip compile --quiet --upgrade --python-version 3.11 --extra dev pyproject.toml -o requirements/dev.txt

clean:
	rm -rf $(VENV) var .pytest_cache .ruff_cache .hypothesis
