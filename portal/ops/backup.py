"""A backup: the database (PostgreSQL: `pg_dump --format=custom` as the owner of the tables;
SQLite: a consistent copy through sqlite3's backup API), then a copy of the upload folder, then
``manifest.json`` naming the SHA-256 of every file in the backup, the alembic revision, the time and
the head (seq, hash) of every audit chain read before the dump (README "Backup and restore").

The heads are read first and the uploads copied last: the trail is append-only, so the dump holds
at least those entries, and a stored file's bytes are written before its row commits, so every
file the dump names is in the folder when it is copied.

The dump holds personal data: the backup directory is made 0700 and every file in it 0600, and a
backup that fails removes what it wrote (the directory too if it made it)."""
import hashlib
import json
import os
import shutil
import sqlite3
import subprocess  # nosec B404 # pg_dump/pg_restore, run with an argument list, never a shell
from pathlib import Path

from flask import current_app
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from portal.config import normalise_db_url
from portal.core.timeutil import utcnow

MANIFEST = "manifest.json"
PG_DUMP = "database.dump"
SQLITE_COPY = "database.sqlite"
UPLOADS = "uploads"
FORMAT = 1


class BackupError(RuntimeError):
    """A backup cannot be made or restored; the message says why."""


def owner_url(app=None):
    """The database URL of the tables' owner: DATABASE_OWNER_URL (configuration, then
    environment, as for migrations; OWNER_DATABASE_URI is the test suite's name for it), else the
    application's own URL (one role for everything)."""
    config = (app or current_app).config
    url = (config.get("DATABASE_OWNER_URL") or os.environ.get("DATABASE_OWNER_URL")
           or config.get("OWNER_DATABASE_URI") or config["SQLALCHEMY_DATABASE_URI"])
    return normalise_db_url(url)


def backend_of(url):
    return make_url(url).get_backend_name()


def libpq_target(url):
    """(``url`` as pg_dump and pg_restore read it, without the SQLAlchemy driver name and without
    the password, the environment that passes the password): nothing secret on a command line."""
    parsed = make_url(url).set(drivername="postgresql")
    env = dict(os.environ)
    if parsed.password is not None:
        env["PGPASSWORD"] = str(parsed.password)
    return parsed._replace(password=None).render_as_string(hide_password=False), env


def sqlite_path(url):
    path = make_url(url).database
    if not path or path == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up or restored")
    return Path(path)


def sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def run_tool(args, url, what):
    """Run pg_dump or pg_restore on the database at ``url`` (``args`` without the database);
    BackupError with its own words if it fails."""
    if shutil.which(args[0]) is None:
        raise BackupError(f"{args[0]} is not installed (PostgreSQL client tools, same major version as the server)")
    target, env = libpq_target(url)
    done = subprocess.run([*args, "--dbname", target], capture_output=True, text=True, env=env)  # nosec B603 # argument list, no shell
    if done.returncode != 0:
        raise BackupError(f"{what} failed ({args[0]} exit {done.returncode}): {done.stderr.strip()[-2000:]}")
    return done


def audit_heads(connection):
    """{chain: {"seq": …, "hash": …}} of the last entry of every audit chain."""
    rows = connection.execute(text(
        "SELECT e.chain, e.seq, e.hash FROM audit_entry e JOIN (SELECT chain, max(seq) AS seq FROM audit_entry "
        "GROUP BY chain) h ON h.chain = e.chain AND h.seq = e.seq ORDER BY e.chain")).all()
    return {str(chain): {"seq": seq, "hash": digest} for chain, seq, digest in rows}


def alembic_revision(connection):
    return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def copy_tree(source, target, only=None):
    """Copy every file under ``source`` (or those of relative paths ``only``) into ``target``,
    same relative paths; returns the relative paths copied."""
    copied = []
    source = Path(source)
    if not source.is_dir():
        return copied
    for path in sorted(p for p in source.rglob("*") if p.is_file()):
        relative = path.relative_to(source)
        if only is not None and relative not in only:
            continue
        (target / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target / relative)
        copied.append(relative)
    return copied


def existing_sqlite(url):
    """The path of the SQLite database at ``url``; BackupError if there is no such file (sqlite3
    would create an empty one and fail later on a missing table)."""
    path = sqlite_path(url)
    if not path.is_file():
        raise BackupError(f"no SQLite database at {path}: check the database URL")
    return path


def _dump(url, dest):
    if backend_of(url) == "postgresql":
        run_tool(["pg_dump", "--format=custom", "--file", str(dest / PG_DUMP)], url, "pg_dump")
        return PG_DUMP
    source = sqlite3.connect(existing_sqlite(url))
    target = sqlite3.connect(dest / SQLITE_COPY)
    try:
        source.backup(target)  # a consistent copy, even while the portal writes (WAL included)
    finally:
        target.close()
        source.close()
    return SQLITE_COPY


def _private(dest):
    """Directory ``dest`` and everything under it readable by its owner only."""
    dest.chmod(0o700)
    for path in dest.rglob("*"):
        path.chmod(0o700 if path.is_dir() else 0o600)


def _made_directory(dest):
    """Create ``dest`` (mode 0700) if need be; returns the topmost directory this created (to
    remove on failure), None if ``dest`` was there (then emptied on failure)."""
    if dest.exists():
        if not dest.is_dir() or any(dest.iterdir()):
            raise BackupError(f"{dest} exists and is not an empty directory: choose a new one")
        dest.chmod(0o700)
        return None
    top = dest
    while not top.parent.exists():
        top = top.parent
    dest.mkdir(mode=0o700, parents=True)
    dest.chmod(0o700)  # mkdir's mode is masked by the umask
    return top


def _undo(dest, made):
    """Remove what a failed backup wrote: the directories it made, else the contents of ``dest``."""
    if made is not None:
        shutil.rmtree(made, ignore_errors=True)
        return
    for path in dest.iterdir():
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def make_backup(dest, url=None, upload_dir=None):
    """Write a backup of the database at ``url`` (the owner's by default) and of ``upload_dir``
    (UPLOAD_DIR by default) into the new or empty directory ``dest``; returns the manifest."""
    url = url or owner_url()
    upload_dir = Path(upload_dir or current_app.config["UPLOAD_DIR"])
    dest = Path(dest)
    if backend_of(url) != "postgresql":
        existing_sqlite(url)  # before anything is made, and before sqlite3 makes an empty file
    made = _made_directory(dest)
    try:
        manifest = _write_backup(dest, url, upload_dir)
        _private(dest)
    except BaseException:
        _undo(dest, made)
        raise
    return manifest


def _write_backup(dest, url, upload_dir):
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            heads, revision = audit_heads(connection), alembic_revision(connection)
    except SQLAlchemyError as exc:
        raise BackupError(f"the database cannot be read: {getattr(exc, 'orig', None) or exc}") from None
    finally:
        engine.dispose()
    database = _dump(url, dest)
    uploads = copy_tree(upload_dir, dest / UPLOADS)
    names = [database] + [f"{UPLOADS}/{relative.as_posix()}" for relative in uploads]
    manifest = {
        "format": FORMAT, "created_at": utcnow().isoformat(), "backend": backend_of(url),
        "alembic_revision": revision, "database": database, "audit_heads": heads,
        "files": {name: sha256_of(dest / name) for name in names},
    }
    (dest / MANIFEST).write_text(json.dumps(manifest, indent=2, sort_keys=True), encoding="utf-8")
    return manifest
