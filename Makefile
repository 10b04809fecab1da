# Two commands for a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV ?= .venv
BIN = $(VENV)/bin
PG_URL ?= postgresql+psycopg://postgres@127.0.0.1:5432/postgres

.PHONY: run test test-sqlite test-postgresql install db clean catalogs update-catalogs

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.py
	$(BIN)/pip install -q -e '.[testing]'
	touch $@

install: $(VENV)/.installed catalogs

# issue #10 (A4): the `cabinet` message catalogs (fr, de, en) in cabinet/locale/.
# `make update-catalogs` extracts the marked strings of templates/ and cabinet/ (babel.cfg)
# into cabinet.pot and merges them into each .po; `make catalogs` compiles the .mo files.
LOCALE = cabinet/locale
catalogs: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d $(LOCALE) -D cabinet

update-catalogs: $(VENV)/.installed
	$(BIN)/pybabel -q extract -F babel.cfg -k TranslationString -k C_:1c,2 --add-location=file \
		--sort-output --no-wrap --project=cabinet -o $(LOCALE)/cabinet.pot .
	$(BIN)/pybabel -q update -i $(LOCALE)/cabinet.pot -d $(LOCALE) -D cabinet \
		--no-fuzzy-matching --no-wrap --ignore-obsolete

db: install
	mkdir -p var
	$(BIN)/initialize_cabinet_db development.ini --demo

run: db
	$(BIN)/pserve development.ini

# pytest-xdist; "worksteal" keeps every worker busy to the end (a few tests take a
# minute). SQLite runs are CPU-bound: one worker per core. PostgreSQL tests also wait
# on the database server, so a third worker fills that time; each PostgreSQL worker
# creates and drops its own database.
PYTEST = $(BIN)/python -m pytest tests -q -p no:cacheprovider --dist worksteal

test-sqlite: install
	CABINET_TEST_DB=sqlite $(PYTEST) -n 2

test-postgresql: install
	CABINET_TEST_DB=postgresql CABINET_TEST_PG=$(PG_URL) $(PYTEST) -n 3

# SQLite always; PostgreSQL when it answers (mandatory under CI=true).
test: install
	$(MAKE) test-sqlite
	@if $(BIN)/python -c "import psycopg; psycopg.connect('host=127.0.0.1 port=5432 user=postgres dbname=postgres', connect_timeout=3).close()" 2>/dev/null; then \
		$(MAKE) test-postgresql; \
	elif [ "$$CI" = "true" ]; then \
		echo "PostgreSQL is not reachable on 127.0.0.1:5432 and CI=true requires it" >&2; exit 1; \
	else \
		echo "PostgreSQL not reachable: skipped the PostgreSQL run"; \
	fi

clean:
	rm -rf $(VENV) var *.egg-info
