"""Flask extensions, created once and bound to the app in create_app."""
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


def make_limiter(app):
    """One limiter per app (its storage follows the app's RATELIMIT_STORAGE_URI: Redis in
    production, so every web process counts together). Limits are checked by the services that
    need them (login throttling); there are no default limits."""
    limiter = Limiter(key_func=get_remote_address, default_limits=[], headers_enabled=False)
    limiter.init_app(app)
    app.extensions["portal_limiter"] = limiter
    return limiter


def current_limiter():
    from flask import current_app
    return current_app.extensions["portal_limiter"]


# --- SQLite as an embedded database -------------------------------------------------------------
# `make run` uses SQLite. Several threads of the development server (or several processes) write
# at once, so every connection gets: WAL (readers never wait for the writer), a busy timeout (a
# writer waits for the lock instead of failing with "database is locked"), foreign keys on. The
# app's engine also takes over transaction control from pysqlite (the recipe of SQLAlchemy's
# pysqlite documentation, "Serializable isolation / Savepoints / Transactional DDL"): pysqlite
# would otherwise BEGIN a deferred transaction only at the first write, after the request has
# read, and SQLite cannot upgrade a reader whose snapshot another writer has since changed — that
# fails at once, whatever the timeout. A transaction that may write starts with BEGIN IMMEDIATE
# (it takes the write lock first, waiting for it up to the busy timeout); the transactions of
# GET/HEAD/OPTIONS requests are deferred, so reading pages never queue behind uploads.

SQLITE_READ_METHODS = ("GET", "HEAD", "OPTIONS")


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


SQLITE_DEFAULT_BUSY_TIMEOUT = 30.0  # seconds; the app's engine uses SQLITE_BUSY_TIMEOUT


def sqlite_begin_statement():
    """BEGIN for the transactions of reading requests, BEGIN IMMEDIATE for everything else
    (requests that change data, jobs, commands)."""
    from flask import has_request_context, request
    if has_request_context() and request.method in SQLITE_READ_METHODS:
        return "BEGIN"
    return "BEGIN IMMEDIATE"


def _begin(conn):
    conn.exec_driver_sql(sqlite_begin_statement())


def configure_sqlite_engine(engine, busy_timeout=SQLITE_DEFAULT_BUSY_TIMEOUT):
    """Take transaction control on a SQLite ``engine`` (no-op for other databases)."""
    if engine.dialect.name != "sqlite" or event.contains(engine, "begin", _begin):
        return
    timeout_ms = int(busy_timeout * 1000)

    def own_transactions(dbapi_connection, connection_record):
        dbapi_connection.isolation_level = None  # pysqlite emits no BEGIN/COMMIT of its own
        dbapi_connection.execute(f"PRAGMA busy_timeout={timeout_ms}")

    event.listen(engine, "connect", own_transactions)
    event.listen(engine, "begin", _begin)


def configure_engines(app):
    """Called by the app factory after ``db.init_app``."""
    with app.app_context():
        for engine in db.engines.values():
            configure_sqlite_engine(engine, app.config["SQLITE_BUSY_TIMEOUT"])
