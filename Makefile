# Two commands: `make run` (a demo portal on http://127.0.0.1:5000) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
CATALOGS := $(wildcard portal/translations/*/LC_MESSAGES/messages.po)

.PHONY: run test test-sqlite test-postgresql install translations extract-messages worker clean

install: $(VENV)/.installed

$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -r requirements.lock
	touch $@

translations: install $(CATALOGS:.po=.mo)

portal/translations/%/LC_MESSAGES/messages.mo: portal/translations/%/LC_MESSAGES/messages.po
	$(BIN)/pybabel compile --use-fuzzy -d portal/translations -l $* >/dev/null

# After adding user-facing text: refresh the catalogues, then translate the new entries.
extract-messages: install
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o portal/translations/messages.pot --no-location --sort-output .
	$(BIN)/pybabel update -i portal/translations/messages.pot -d portal/translations --no-fuzzy-matching --ignore-obsolete

run: translations
	@if [ -n "$$REDIS_URL" ]; then \
	  echo "Jobs: queued on Redis ($$REDIS_URL) — start workers with 'make worker' (they also run the periodic jobs)."; \
	else \
	  echo "Jobs: inline (no REDIS_URL) + in-process scheduler for the periodic jobs (notices, tender closing, daily checks)."; \
	fi
	@echo "Database: $${DATABASE_URL:-SQLite instance/portal.db (WAL, 30 s busy timeout, BEGIN IMMEDIATE for writers)}"
	$(FLASK) db upgrade
	PUBLIC_BASE_URL=http://127.0.0.1:5000 $(FLASK) seed-demo
	$(FLASK) run --host 127.0.0.1 --port 5000

worker: translations
	$(FLASK) worker

test: test-sqlite test-postgresql

test-sqlite: translations
	PORTAL_TEST_DB=sqlite $(BIN)/pytest

# PostgreSQL (fresh database per run, app as the non-owner role portal_app) with a real Redis
# and a real RQ worker. Mandatory under CI=true; elsewhere skipped, loudly, if the servers are absent.
test-postgresql: translations
	PORTAL_TEST_DB=postgresql $(BIN)/pytest

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts
