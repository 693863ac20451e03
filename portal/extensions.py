"""Flask extensions, created once and bound to the app in create_app."""
import logging
from contextlib import contextmanager
from contextvars import ContextVar

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

_log = logging.getLogger("portal.limits")
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()


class FallbackStrategy:
    """A rate-limiting strategy that keeps counting while its storage (Redis) is unreachable: a
    storage error switches it to a strategy of the same kind in this process's memory (logged),
    and it tries the storage again every RECHECK_SECONDS. Failed sign-ins thus stay throttled
    during an outage (per web process, counted afresh) instead of failing the request or passing
    uncounted; the counts of the outage are not carried back to Redis."""
    RECHECK_SECONDS = 5.0

    def __init__(self, primary):
        from limits.errors import StorageError
        from limits.storage import MemoryStorage
        self.primary = primary
        self.fallback = type(primary)(MemoryStorage())
        self.errors = (StorageError, primary.storage.base_exceptions)
        self.down_since = None

    def _call(self, method, *args, **kwargs):
        import time
        if self.down_since is not None and time.monotonic() - self.down_since >= self.RECHECK_SECONDS:
            if self.primary.storage.check():
                _log.warning("rate-limit storage reachable again: counting there")
                self.down_since = None
            else:
                self.down_since = time.monotonic()
        if self.down_since is None:
            try:
                return getattr(self.primary, method)(*args, **kwargs)
            except self.errors as exc:
                _log.warning("rate-limit storage unreachable (%s): counting in memory meanwhile", exc)
                self.down_since = time.monotonic()
        return getattr(self.fallback, method)(*args, **kwargs)

    def hit(self, *args, **kwargs):
        return self._call("hit", *args, **kwargs)

    def test(self, *args, **kwargs):
        return self._call("test", *args, **kwargs)

    def get_window_stats(self, *args, **kwargs):
        return self._call("get_window_stats", *args, **kwargs)

    def clear(self, *args, **kwargs):
        return self._call("clear", *args, **kwargs)


class DegradingLimiter(Limiter):
    """Flask-Limiter whose strategy (``limiter.limiter``, used by the login throttling and the
    public posts) falls back to memory while Redis is down (FallbackStrategy)."""

    @property
    def limiter(self):
        strategy = super().limiter
        wrapped = getattr(self, "_portal_fallback", None)
        if wrapped is None or wrapped.primary is not strategy:
            wrapped = self._portal_fallback = FallbackStrategy(strategy)
        return wrapped


def make_limiter(app):
    """One limiter per app (its storage follows the app's RATELIMIT_STORAGE_URI: Redis in
    production, so every web process counts together). Limits are checked by the services that
    need them (login throttling); there are no default limits."""
    if app.config.get("RATELIMIT_STORAGE_URI", "").startswith(("redis://", "rediss://", "unix://")):
        # limits passes these to redis.from_url: a hung Redis fails a count in seconds, and the
        # FallbackStrategy counts in memory meanwhile, instead of every sign-in waiting for minutes
        options = {"socket_connect_timeout": REDIS_CONNECT_TIMEOUT, "socket_timeout": REDIS_SOCKET_TIMEOUT}
        app.config["RATELIMIT_STORAGE_OPTIONS"] = {**options, **app.config.get("RATELIMIT_STORAGE_OPTIONS", {})}
    limiter = DegradingLimiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)
    limiter.init_app(app)
    app.extensions["portal_limiter"] = limiter
    return limiter


def current_limiter():
    from flask import current_app
    return current_app.extensions["portal_limiter"]


REDIS_CONNECT_TIMEOUT = 3  # seconds to connect
REDIS_SOCKET_TIMEOUT = 3  # seconds a command may wait for its answer (a Redis that hangs, SIGSTOP)
REDIS_HEALTH_CHECK_INTERVAL = 30  # seconds: a connection idle this long is pinged before reuse


def redis_connection():
    """The app's client of its Redis (REDIS_URL): the job queue, the periodic jobs' claims, the
    worker and the readiness probe. One client (and connection pool) per app and URL, shared by
    its threads, so a request reuses a connection instead of opening one; redis-py's pool starts
    afresh in a forked process (it checks the process id)."""
    from flask import current_app
    from redis import Redis
    url = current_app.config["REDIS_URL"]
    clients = current_app.extensions.setdefault("portal_redis_clients", {})
    client = clients.get(url)
    if client is None:
        # A Redis host that stops answering (gone, or alive and hung) fails a request's hand-over in
        # seconds, not minutes. An RQ worker raises the read timeout of the client it is given above
        # its blocking dequeue's (RQ's Worker._set_connection): worker processes wait longer.
        client = clients.setdefault(url, Redis.from_url(
            url, socket_connect_timeout=REDIS_CONNECT_TIMEOUT, socket_timeout=REDIS_SOCKET_TIMEOUT,
            health_check_interval=REDIS_HEALTH_CHECK_INTERVAL))
    return client


# --- SQLite as an embedded database -------------------------------------------------------------
# `make run` uses SQLite. Several threads of the development server (or several processes) write
# at once, so every connection gets: WAL (readers never wait for the writer), a busy timeout (a
# writer waits for the lock instead of failing with "database is locked"), foreign keys on.
# Writing transactions are started by the app, not by pysqlite (the recipe of SQLAlchemy's pysqlite
# documentation, "Serializable isolation / Savepoints / Transactional DDL"): pysqlite BEGINs a
# deferred transaction at the first INSERT/UPDATE/DELETE and knows nothing of SAVEPOINTs, so a
# request that opened a savepoint, read, and then wrote had to upgrade a read snapshot that another
# writer may have changed since — which SQLite refuses at once, whatever the timeout. A transaction
# that writes — of a request other than GET/HEAD/OPTIONS, or inside ``sqlite_writing()`` (the
# in-process scheduler) — starts with BEGIN IMMEDIATE: it takes the write lock first, waiting for
# it up to the busy timeout, so concurrent writers queue. Other transactions (reading pages,
# commands, tests) keep pysqlite's deferred behaviour and never hold the write lock while reading.

SQLITE_READ_METHODS = ("GET", "HEAD", "OPTIONS")
SQLITE_DEFAULT_BUSY_TIMEOUT = 30.0  # seconds; the app's engine uses SQLITE_BUSY_TIMEOUT
_sqlite_writing = ContextVar("portal_sqlite_writing", default=False)


def _is_sqlite(dbapi_connection):
    return type(dbapi_connection).__module__.startswith("sqlite3")


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    if _is_sqlite(dbapi_connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_DEFAULT_BUSY_TIMEOUT * 1000)}")
        cursor.execute("PRAGMA synchronous=NORMAL")  # durable at each checkpoint; safe with WAL
        cursor.close()


@contextmanager
def sqlite_writing():
    """Transactions begun inside start with BEGIN IMMEDIATE (outside requests: jobs of the
    in-process scheduler)."""
    token = _sqlite_writing.set(True)
    try:
        yield
    finally:
        _sqlite_writing.reset(token)


def sqlite_writes_now():
    """Does a transaction begun now intend to write (BEGIN IMMEDIATE)?"""
    from flask import has_request_context, request
    if _sqlite_writing.get():
        return True
    return has_request_context() and request.method not in SQLITE_READ_METHODS


def _sqlite_begin(conn):
    dbapi_connection = conn.connection.dbapi_connection
    if sqlite_writes_now():
        dbapi_connection.isolation_level = None  # the app, not pysqlite, begins and ends it
        conn.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        dbapi_connection.isolation_level = ""  # pysqlite's deferred BEGIN at the first write


def configure_sqlite_engine(engine, busy_timeout=SQLITE_DEFAULT_BUSY_TIMEOUT):
    """Set the busy timeout and take transaction control on a SQLite ``engine`` (no-op for others)."""
    if engine.dialect.name != "sqlite" or event.contains(engine, "begin", _sqlite_begin):
        return
    timeout_ms = int(busy_timeout * 1000)

    def busy_timeout_pragma(dbapi_connection, connection_record):
        dbapi_connection.execute(f"PRAGMA busy_timeout={timeout_ms}")

    event.listen(engine, "connect", busy_timeout_pragma)
    event.listen(engine, "begin", _sqlite_begin)


def configure_engines(app):
    """Called by the app factory after ``db.init_app``."""
    with app.app_context():
        for engine in db.engines.values():
            configure_sqlite_engine(engine, app.config["SQLITE_BUSY_TIMEOUT"])
