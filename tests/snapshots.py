"""Database states taken once per run and put back per test, instead of deleting every row and
seeding the demo again for each test.

A state is captured right after it was first built (the empty migrated database, the demo people,
the demo with its history) and restored, as the owner of the tables, on a connection of its own:

* SQLite: a copy of the whole database file in memory, written back with SQLite's backup API.
* PostgreSQL: the rows of every non-empty table in TEMP tables of one owner connection held for
  the run, written back by one script in one transaction — every table emptied (triggers and
  foreign keys off, as for TRUNCATE), the captured rows inserted, every sequence set back to where
  it stood. The app, its RQ worker and the connections tests open themselves see committed rows:
  nothing is hidden in a transaction that a test would have to share.

Restoring gives the very rows, ids and sequence positions that building the state again would
(the builders are deterministic within a run), so tests keep their meaning."""
import sqlite3

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
        event.listen(Engine, "before_cursor_execute", self._written)

    def _written(self, conn, cursor, statement, parameters, context, executemany):
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
        self.counts[name] = self._counts()
        self.values[name] = value
        self.redis[name] = redis
        self.redis_views[name] = redis_view
        self._copy(name)
        self.current = name

    def restore(self, name):
        self._restore(name)
        self.current = name

    def close(self):
        event.remove(Engine, "before_cursor_execute", self._written)
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
        copy = sqlite3.connect(":memory:")
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
    def __init__(self, owner_url):
        super().__init__(_tables())
        self.engine = create_engine(owner_url, poolclass=NullPool)
        self.connection = self.engine.raw_connection()  # the TEMP tables live as long as it does
        self.scripts = {}
        self.prefixes = {}  # state name -> short prefix of its TEMP tables

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

    def _copy(self, name):
        filled = [table for table, count in zip(self.tables, self.counts[name]) if count]
        prefix = self.prefixes.setdefault(name, f"snap{len(self.prefixes)}")
        sequences = self._run("SELECT format('%I.%I', schemaname, sequencename), start_value, last_value "
                              "FROM pg_sequences ORDER BY 1")
        copies = [f'CREATE TEMP TABLE "{prefix}_{t}" AS SELECT * FROM "{t}"' for t in filled]
        if copies:
            self._run(";\n".join(copies))
        positions = [f"setval('{seq}', {last}, true)" if last is not None else f"setval('{seq}', {start}, false)"
                     for seq, start, last in sequences]
        self.scripts[name] = ";\n".join(
            ["SET LOCAL session_replication_role = replica"]
            + [f'DELETE FROM "{t}"' for t in self.tables]
            + [f'INSERT INTO "{t}" OVERRIDING SYSTEM VALUE SELECT * FROM "{prefix}_{t}"' for t in reversed(filled)]
            + ([f"SELECT {', '.join(positions)}"] if positions else []))

    def _restore(self, name):
        self._run(self.scripts[name])

    def _close(self):
        try:
            self.connection.close()
        finally:
            self.engine.dispose()


def open_snapshots(database):
    if database["backend"] == "postgresql":
        return PostgresSnapshots(database["owner_url"])
    return SqliteSnapshots(database["url"].removeprefix("sqlite:///"))
