# Haven: the verbs of README.md. `make run` and `make test` are all a new user needs.
SHELL := /bin/bash
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed
# pip prints a warning per package about a missing local index on some machines: hide it.
PIPQUIET := grep -v "is ignored: it is neither a file nor a directory" || true
TEST_DATABASE_URL ?= postgres://root@127.0.0.1:5432/haven
TEST_REDIS_URL ?= redis://127.0.0.1:6379/0
# pytest-xdist workers: `auto` is one per core, at most 8 (each has its own test database and
# Redis database number). `make test PYTEST_WORKERS=0` runs the suite in one process.
PYTEST_WORKERS ?= auto
# The locked dependencies: requirements.txt (runtime) and requirements-dev.txt (runtime and
# the dev extra), with hashes, for every Python from 3.12 on. `make lock` writes them with uv
# from pyproject.toml, keeping the versions already locked unless told otherwise, for example
# `make lock LOCK_ARGS="--upgrade-package holidays"` or `make lock LOCK_ARGS=--upgrade`.
LOCK_TOOLS := var/lock-tools
UV_VERSION := 0.13.9
LOCK := $(LOCK_TOOLS)/bin/uv pip compile pyproject.toml --quiet --universal --python-version 3.12 \
	--generate-hashes --custom-compile-command "make lock" $(LOCK_ARGS)

.PHONY: install run test worker lint check demo clean bench lock backup multinode

$(STAMP): pyproject.toml requirements-dev.txt
	@set -o pipefail; python=$$(scripts/find-python) || exit 1; \
	if [ ! -x $(PY) ]; then echo "Creating $(VENV) with $$python"; "$$python" -m venv $(VENV) || exit 1; fi
	@set -o pipefail; ($(PY) -m pip install -q --upgrade pip 2>&1 | $(PIPQUIET))
	@set -o pipefail; ($(PY) -m pip install -q --require-hashes -r requirements-dev.txt 2>&1 | $(PIPQUIET))
	@# setuptools warns on every editable install that folders named like a package shadow it.
	@set -o pipefail; (PYTHONWARNINGS='ignore:Editable installation' \
		$(PY) -m pip install -q --no-deps -e . 2>&1 | $(PIPQUIET))
	@$(PY) -m pip check
	@touch $(STAMP)

# The compiled catalogues (.mo) are built from the committed .po files, never committed.
PO := $(wildcard locale/*/LC_MESSAGES/*.po */locale/*/LC_MESSAGES/*.po)
MO := $(PO:.po=.mo)
# Without gettext's msgfmt the interface stays English: say so rather than stop `make run`.
$(MO): %.mo: %.po $(STAMP)
	@if ! command -v msgfmt >/dev/null; then \
		echo "gettext (msgfmt) is not installed: Lithuanian is not compiled (apt-get install gettext)."; \
	else HAVEN_IGNORE_DOTENV=1 DEBUG=true SECRET_KEY=compilemessages-only \
		$(PY) manage.py compilemessages -v0 --ignore=.venv --ignore=var --ignore=test-artifacts; fi

install: $(STAMP) $(MO) ## the virtual environment: exactly the locked dependencies, then Haven itself

lock: ## rewrite requirements.txt and requirements-dev.txt from pyproject.toml (hashed, with uv)
	@set -o pipefail; if [ ! -x $(LOCK_TOOLS)/bin/uv ]; then \
		python=$$(scripts/find-python) || exit 1; "$$python" -m venv $(LOCK_TOOLS) && \
		($(LOCK_TOOLS)/bin/pip install -q uv==$(UV_VERSION) 2>&1 | $(PIPQUIET)); fi
	@$(LOCK) --extra dev -o requirements-dev.txt
	@$(LOCK) --constraint requirements-dev.txt -o requirements.txt
	@echo "Wrote requirements-dev.txt and requirements.txt; make install applies them."

.env:
	@printf 'DEBUG=true\nSECRET_KEY=%s\n' "$$($(PY) -c 'import secrets; print(secrets.token_urlsafe(50))')" > .env
	@echo "Wrote .env (DEBUG=true, a random SECRET_KEY)."

demo: $(STAMP) $(MO) .env ## migrate the embedded database, import the sample case, create demo users
	@$(PY) manage.py migrate --no-input -v0
	@$(PY) manage.py import_seed
	@$(PY) manage.py create_demo_users

run: demo ## install, prepare and serve Haven at http://127.0.0.1:8000 (SQLite, tasks in-process)
	@echo "Serving Haven at http://127.0.0.1:8000 (Ctrl-C stops it)."
	@$(PY) manage.py runserver 127.0.0.1:8000

test: $(STAMP) $(MO) ## the whole suite in parallel against PostgreSQL and Redis (throwaway ones when none answer)
	@export DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} REDIS_URL=$${REDIS_URL:-$(TEST_REDIS_URL)}; \
		$(PY) scripts/with-test-services $(BIN)/pytest -n $(PYTEST_WORKERS) --maxprocesses 8 $(PYTEST_ARGS)

worker: $(STAMP) ## a Celery worker with beat against REDIS_URL
	@test -n "$$REDIS_URL" || { echo "Set REDIS_URL (for example redis://127.0.0.1:6379/0)."; exit 1; }
	@mkdir -p var
	@$(BIN)/celery -A haven worker --beat --loglevel INFO

BACKUP_DIR ?= var/backup
backup: $(STAMP) ## pg_dump (custom format) of DATABASE_URL and a listing of the document store into $(BACKUP_DIR)/<time>/
	@test -n "$$DATABASE_URL" || { echo "Set DATABASE_URL (postgres://...) to the database to back up."; exit 1; }
	@$(PY) manage.py backup --into $(BACKUP_DIR)

# The topology of "Deployment and topology" on this machine: a database of its own
# (MULTINODE_DATABASE, default haven_multinode, made afresh on DATABASE_URL's server), its own
# redis-server and moto S3 server, two gunicorn instances, two workers; prints what it checked.
multinode: $(STAMP) $(MO) ## prove the multi-node topology: two web instances, two workers, a worker killed mid-send
	@DATABASE_URL=$${DATABASE_URL:-$(TEST_DATABASE_URL)} $(PY) -m tests.ops.multinode

BENCH_CASES ?= 100000
bench: $(STAMP) ## build or reuse haven_bench_$(BENCH_CASES) (synthetic cases), measure the pages, write bench/results.json
	@BENCH_CASES=$(BENCH_CASES) $(PY) -m bench.run

lint: $(STAMP)
	@$(BIN)/ruff check .
	@$(BIN)/ruff format --check .

check: $(STAMP)
	@$(PY) manage.py check
	@$(PY) manage.py makemigrations --check --dry-run

clean:
	rm -rf $(VENV) db.sqlite3 var staticfiles test-artifacts
