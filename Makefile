# Two commands: `make run` (a demo portal on http://127.0.0.1:5000) and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := $(BIN)/flask --app wsgi
CATALOGS := $(wildcard portal/translations/*/LC_MESSAGES/messages.po)

.PHONY: run test test-sqlite test-postgresql security install translations extract-messages worker clean

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
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -k deferred_gettext -k deferred_ngettext:1,2 -o portal/translations/messages.pot --no-location --sort-output .
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

# Both passes at once (make -j2): they share no database, Redis db, upload folder or temporary
# folder, and the PostgreSQL pass mostly waits (on its server, Redis and the worker), so on two
# cores the pair takes little longer than the PostgreSQL pass alone. Each pass writes its output to
# test-artifacts/test-<pass>.log (follow it with tail -f); both logs are printed when both passes
# have ended, and `make test` fails if either pass failed.
test: translations security
	@mkdir -p test-artifacts
	@echo "make test: SQLite and PostgreSQL passes at once; logs: test-artifacts/test-sqlite.log, test-artifacts/test-postgresql.log"
	@$(MAKE) --no-print-directory -j2 test-sqlite-logged test-postgresql-logged; status=$$?; \
	for pass in sqlite postgresql; do echo "===== $$pass pass (make test-$$pass) ====="; cat test-artifacts/test-$$pass.log; done; \
	[ $$status -eq 0 ] || echo "make test: FAILED (see the pass marked FAILED above)"; exit $$status

.PHONY: test-sqlite-logged test-postgresql-logged
test-sqlite-logged test-postgresql-logged: test-%-logged:
	@$(MAKE) --no-print-directory test-$* >test-artifacts/test-$*.log 2>&1 \
	  || { echo "make test: the $* pass FAILED" | tee -a test-artifacts/test-$*.log; exit 1; }

# Security checks, run by `make test` before its two passes (seconds): pip-audit of the pins in
# requirements.lock against PyPI's vulnerability data (.ci/audit_lock.py; PyPI unreachable fails
# under CI=true and is skipped, loudly, elsewhere), and bandit over portal/ with .ci/bandit.yaml
# (every finding fails; the accepted ones are marked `# nosec BXXX # why` where they stand).
# bandit warns once per syntax node of a line with a `nosec` that it found nothing on: those
# warnings are dropped, the rest of its output is shown.
security: install
	@mkdir -p test-artifacts
	$(BIN)/python .ci/audit_lock.py
	@$(BIN)/bandit -c .ci/bandit.yaml -r portal -q 2>test-artifacts/bandit.err; status=$$?; \
	grep -v "but no failed test on file" test-artifacts/bandit.err >&2; \
	if [ $$status -eq 0 ]; then echo "bandit: no findings in portal/ (accepted ones are marked nosec, see .ci/bandit.yaml)"; \
	else echo "bandit: FAILED (findings above)"; fi; exit $$status

test-sqlite: translations
	PORTAL_TEST_DB=sqlite $(BIN)/pytest

# PostgreSQL (fresh database per run, app as the non-owner role portal_app) with a real Redis
# and a real RQ worker. Mandatory under CI=true; elsewhere skipped, loudly, if the servers are absent.
test-postgresql: translations
	PORTAL_TEST_DB=postgresql $(BIN)/pytest

clean:
	rm -rf $(VENV) instance .pytest_cache test-artifacts
