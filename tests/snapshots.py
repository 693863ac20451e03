"""Database states taken once per run and put back per test, instead of deleting every row and
seeding the demo again for each test.

A state is captured right after it was first built (the empty migrated database, the demo people,
the demo with its history) and restored, as the owner of the tables, on a connection of its own:

* SQLite: a copy of the whole database file in memory, written back with SQLite's backup API.
* PostgreSQL: the rows of every non-empty table in TEMP tables of one owner connection held for
  the run, written back by one script in one transaction — each table that may differ emptied
  (triggers and foreign keys off, as for TRUNCATE) and its captured rows inserted, every sequence
  set back to where it stood (see PostgresSnapshots for which tables may differ). The app, its
  RQ worker and the connections tests open themselves see committed rows:
  nothing is hidden in a transaction that a test would have to share.

Restoring gives the very rows, ids and sequence positions that building the state again would
(the builders are deterministic within a run), so tests keep their meaning.

A restore is written when the database is next used, not when it is asked for: ``restore`` only
notes the state, and the rows are put back before the next statement of any engine of the process
(the app, its platform twin, the RQ worker, a test's own connection), before each test's body runs
(conftest.py) and before a subprocess starts (pg_dump, a `flask` command). So a state asked for and
replaced before anything read it costs nothing: "empty" put back after a test when the next one
starts from the demo, the demo with its history when a world built on it is restored next."""
import os
import sqlite3
import subprocess
import threading

from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import NullPool

# Statements that leave the rows as they are (any other one may write: INSERT, UPDATE, DELETE, WITH …)
READING = {"SELECT", "PRAGMA", "SHOW", "SET", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE", "RESET"}


def _tables():
    import portal.models  # noqa: F401  (every table in the metadata)
    from portal.extensions import db
    return [t.name for t in reversed(db.metadata.sorted_tables)]  # children first


def _counts_sql(tables):
    return "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables)


class _States:
    """What both backends share: which captured state the database holds now (``current``: set
    by capture and restore, cleared by any statement of the process that may write, whatever
    the engine), and the value each state's builder returned."""

    def __init__(self, tables):
        self.tables = tables
        self.counts_sql = _counts_sql(tables)
        self.counts, self.values, self.redis, self.redis_views = {}, {}, {}, {}
        self.current = None
        self.pending = None  # the state restore() was asked for and has not written yet
        self.lock = threading.Lock()  # tests with threads: one of them writes the pending state
        event.listen(Engine, "before_cursor_execute", self._written)
        self._popen_init = subprocess.Popen.__init__
        states = self

        def popen_init(popen, *args, **kwargs):
            states.settle()  # a child process (pg_dump, `flask …`) reads the database as restored
            states._popen_init(popen, *args, **kwargs)
        subprocess.Popen.__init__ = popen_init

    def _written(self, conn, cursor, statement, parameters, context, executemany):
        if self.pending is not None:
            self.settle()
        words = statement.lstrip()[:12].split(None, 1)
        if self.current is not None and (not words or words[0].upper() not in READING):
            self.current = None

    def __contains__(self, name):
        return name in self.counts

    def holds(self, name):
        """Has the database held state ``name`` since it was captured or restored?"""
        return self.current == name

    def redis_of(self, name):
        """What Redis held with state ``name`` ({key: (DUMP, ms to live)}; empty unless captured)."""
        return self.redis.get(name) or {}

    def redis_view_of(self, name):
        """What Redis held with state ``name`` as compared (support._redis_view; [] unless captured)."""
        return self.redis_views.get(name) or []

    def capture(self, name, value=None, redis=None, redis_view=None):
        self.settle()
        self.counts[name] = self._counts()
        self.values[name] = value
        self.redis[name] = redis
        self.redis_views[name] = redis_view
        self._copy(name)
        self.current = name

    def restore(self, name):
        """Put state ``name`` back before the database is next used (see the module's text)."""
        with self.lock:
            self.pending = name
            self.current = name

    def settle(self):
        """Write the pending restore now, if there is one."""
        if self.pending is None:
            return
        with self.lock:
            if self.pending is not None:
                self._restore(self.pending)
                self.pending = None

    def close(self):
        event.remove(Engine, "before_cursor_execute", self._written)
        subprocess.Popen.__init__ = self._popen_init
        self._close()


class SqliteSnapshots(_States):
    def __init__(self, path):
        super().__init__(_tables())
        self.path = path
        self.states = {}

    def _connect(self):
        return sqlite3.connect(self.path, timeout=30)

    def _counts(self):
        live = self._connect()
        try:
            return tuple(live.execute(self.counts_sql).fetchone())
        finally:
            live.close()

    def _copy(self, name):
        # check_same_thread: a restore may be written from a live server's thread (browser tests)
        copy = sqlite3.connect(":memory:", check_same_thread=False)
        live = self._connect()
        try:
            live.backup(copy)
        finally:
            live.close()
        self.states[name] = copy

    def _restore(self, name):
        live = self._connect()
        try:
            self.states[name].backup(live)
        finally:
            live.close()

    def _close(self):
        for copy in self.states.values():
            copy.close()
        self.states.clear()


class PostgresSnapshots(_States):
    """Captured rows in TEMP tables; a restore rewrites only the tables that may differ from the
    state: those written since the last restore or capture (a statement-level trigger on every
    table, installed in the throwaway database, notes each table a committed statement wrote, in
    test_snapshots.written) and those whose captured rows differ between that state and this one
    (an md5 of each table's rows, taken at capture). Triggers are off while restoring
    (session_replication_role = replica). Every sequence is set back each time (a failed insert
    moves one without writing its table). PORTAL_TEST_CHECK_RESTORE=1 checks after each restore
    that every table holds the state's rows."""

    def __init__(self, owner_url):
        super().__init__(_tables())
        self.engine = create_engine(owner_url, poolclass=NullPool)
        self.connection = self.engine.raw_connection()  # the TEMP tables live as long as it does
        self.filled, self.positions, self.fingerprints = {}, {}, {}  # per state
        self.prefixes = {}  # state name -> short prefix of its TEMP tables
        self.base = None  # the state the tables held at the last restore or capture
        self.check = os.environ.get("PORTAL_TEST_CHECK_RESTORE") == "1"
        self._run(";\n".join([
            "CREATE SCHEMA test_snapshots",
            "CREATE UNLOGGED TABLE test_snapshots.written (name text NOT NULL)",
            # No unique key: two transactions writing one table never wait for each other here.
            "CREATE FUNCTION test_snapshots.note_written() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER "
            "SET search_path = pg_catalog, pg_temp AS $$ BEGIN "
            "IF NOT EXISTS (SELECT 1 FROM test_snapshots.written WHERE name = TG_TABLE_NAME) THEN "
            "INSERT INTO test_snapshots.written (name) VALUES (TG_TABLE_NAME); END IF; RETURN NULL; END $$",
            *(f'CREATE TRIGGER zz_test_snapshots_written AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON "{t}" '
              "FOR EACH STATEMENT EXECUTE FUNCTION test_snapshots.note_written()" for t in self.tables)]))

    def _counts(self):
        return tuple(self._run(self.counts_sql)[0])

    def _run(self, sql):
        cursor = self.connection.cursor()
        try:
            cursor.execute(sql)  # no parameters: one round trip for all the statements
            rows = cursor.fetchall() if cursor.description else []
        finally:
            cursor.close()
        self.connection.commit()
        return rows

    def _fingerprints(self, tables):
        if not tables:
            return {}
        digests = self._run("SELECT " + ", ".join(
            f"(SELECT md5(string_agg(r::text, '|' ORDER BY r::text)) FROM \"{t}\" r)" for t in tables))[0]
        return dict(zip(tables, digests))

    def _copy(self, name):
        filled = [table for table, count in zip(self.tables, self.counts[name]) if count]
        prefix = self.prefixes.setdefault(name, f"snap{len(self.prefixes)}")
        sequences = self._run("SELECT format('%I.%I', schemaname, sequencename), start_value, last_value "
                              "FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1")
        copies = [f'CREATE TEMP TABLE "{prefix}_{t}" AS SELECT * FROM "{t}"' for t in filled]
        self._run(";\n".join([*copies, "DELETE FROM test_snapshots.written"]))
        self.filled[name] = filled
        self.fingerprints[name] = self._fingerprints(filled)
        self.positions[name] = [f"setval('{seq}', {last}, true)" if last is not None
                                else f"setval('{seq}', {start}, false)" for seq, start, last in sequences]
        self.base = name

    def _restore(self, name):
        if self.base is None:
            tables = self.tables
        else:
            mine, base = self.fingerprints[name], self.fingerprints[self.base]
            written = {row[0] for row in self._run("SELECT DISTINCT name FROM test_snapshots.written")}
            tables = [t for t in self.tables if t in written or mine.get(t) != base.get(t)]
        prefix, filled = self.prefixes[name], set(self.filled[name])
        self._run(";\n".join(
            ["SET LOCAL session_replication_role = replica"]
            + [f'DELETE FROM "{t}"' for t in tables]
            + [f'INSERT INTO "{t}" OVERRIDING SYSTEM VALUE SELECT * FROM "{prefix}_{t}"'
               for t in reversed(tables) if t in filled]
            + ([f"SELECT {', '.join(self.positions[name])}"] if self.positions[name] else [])
            + ["DELETE FROM test_snapshots.written"]))
        self.base = name
        if self.check:
            now = self._fingerprints(self.tables)
            wrong = [t for t in self.tables if now[t] != self.fingerprints[name].get(t)]
            assert not wrong, f"restoring {name} left other rows in {wrong}"

    def _close(self):
        try:
            self.connection.close()
        finally:
            self.engine.dispose()


def open_snapshots(database):
    if database["backend"] == "postgresql":
        return PostgresSnapshots(database["owner_url"])
    return SqliteSnapshots(database["url"].removeprefix("sqlite:///"))
