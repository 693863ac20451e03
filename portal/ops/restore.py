"""Restoring a backup of backup.py, and checking what was restored (README "Backup and restore").

Nothing is touched before the backup has passed every check. First every file of the backup is
checked against the manifest; then the backup's own database is verified (``verify_restored``:
every audit chain end to end (audit/chain.py), the head each chain had at backup time still in it,
and every stored file of the backup's uploads against the SHA-256 of its row) where it cannot harm
the target: SQLite in a temporary copy next to the target file, which then replaces the target
(``os.replace``, one step); PostgreSQL in a scratch database created beside the target (the role
needs CREATEDB), dropped after, and only then ``pg_restore --clean --if-exists --no-owner`` into the
target in one transaction. The uploads are copied back last; the caller verifies the target again."""
import json
import os
import shutil
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, make_url, select, text
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session
from sqlalchemy.pool import NullPool

from portal.audit.chain import verify_chain
from portal.audit.models import PLATFORM_CHAIN
from portal.files.models import StoredFile
from portal.files.services import path_under
from portal.ops.backup import (FORMAT, MANIFEST, UPLOADS, BackupError, backend_of, copy_tree, run_tool,
                               sha256_of, sqlite_path)


@dataclass
class Report:
    """What the verification found: ``lines`` to print, ``failures`` among them."""
    lines: list = field(default_factory=list)
    failures: list = field(default_factory=list)

    def ok(self, line):
        self.lines.append(f"OK      {line}")

    def fail(self, line):
        self.lines.append(f"FAILED  {line}")
        self.failures.append(line)

    @property
    def passed(self):
        return not self.failures


# What a manifest must hold besides its format and files (ops/backup.py writes them all).
REQUIRED_KEYS = ("backend", "created_at", "alembic_revision", "database", "audit_heads")


def checked_manifest(src):
    """The manifest of the backup in ``src`` once every file it names has its checksum;
    BackupError naming every missing or altered file otherwise."""
    src = Path(src)
    try:
        manifest = json.loads((src / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BackupError(f"{src} is not a backup: {MANIFEST} cannot be read ({exc})") from None
    if manifest.get("format") != FORMAT or not isinstance(manifest.get("files"), dict):
        raise BackupError(f"{src / MANIFEST} is not a manifest of this portal (format {FORMAT})")
    missing = [key for key in REQUIRED_KEYS if key not in manifest]
    if missing or not isinstance(manifest.get("audit_heads"), dict):
        raise BackupError(f"{src / MANIFEST} lacks {', '.join(missing) or 'the audit heads'}: "
                          "not a complete manifest, nothing was restored")
    problems = []
    for name, expected in sorted(manifest["files"].items()):
        path = src / name
        if Path(name).is_absolute() or ".." in Path(name).parts:
            problems.append(f"{name}: not a path inside the backup")
        elif not path.is_file():
            problems.append(f"{name}: missing")
        elif sha256_of(path) != expected:
            problems.append(f"{name}: checksum does not match the manifest")
    if manifest.get("database") not in manifest["files"]:
        problems.append("the manifest names no database file")
    if problems:
        raise BackupError("the backup is corrupted or incomplete, nothing was restored:\n  " + "\n  ".join(problems))
    return manifest


def restore_backup(src, url, upload_dir):
    """Check the backup in ``src`` and verify its database, then restore it into the database at
    ``url`` (as its owner) and the folder ``upload_dir``; returns the manifest. BackupError, with
    nothing touched, if any check fails. Verify the target afterwards with ``verify_restored``."""
    src = Path(src)
    manifest = checked_manifest(src)
    if manifest["backend"] != backend_of(url):
        raise BackupError(f"a {manifest['backend']} backup cannot be restored into a {backend_of(url)} database")
    database, heads = src / manifest["database"], manifest.get("audit_heads") or {}
    if manifest["backend"] == "postgresql":
        _restore_postgresql(database, url, src / UPLOADS, heads)
    else:
        _restore_sqlite(database, url, src / UPLOADS, heads)
    listed = {name for name in manifest["files"] if name.startswith(f"{UPLOADS}/")}
    copy_tree(src / UPLOADS, Path(upload_dir), only={Path(name).relative_to(UPLOADS) for name in listed})
    return manifest


def _verified(url, uploads, heads, where):
    """BackupError listing the failures unless the database at ``url`` verifies against the
    backup's ``uploads`` and ``heads``."""
    report = verify_restored(url, uploads, heads)
    if not report.passed:
        raise BackupError(f"the backup's own database does not verify ({where}), nothing was restored:\n  "
                          + "\n  ".join(report.failures))


def _restore_sqlite(database, url, uploads, heads):
    target = sqlite_path(url)
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=f".{target.name}.restore-", dir=target.parent)  # mode 0600
    os.close(handle)
    copy = Path(name)
    try:
        shutil.copyfile(database, copy)
        _verified(make_url(url).set(database=str(copy)).render_as_string(hide_password=False), uploads, heads,
                  "checked in a temporary copy")
        os.replace(copy, target)
    finally:
        for leftover in (copy, *_sidecars(copy)):
            leftover.unlink(missing_ok=True)
    for sidecar in _sidecars(target):  # the replaced database's journal, never to be replayed onto this one
        sidecar.unlink(missing_ok=True)


def _sidecars(path):
    return [path.with_name(path.name + suffix) for suffix in ("-wal", "-shm", "-journal")]


def _quoted(name):
    return '"' + name.replace('"', '""') + '"'


def _restore_postgresql(database, url, uploads, heads):
    restore = ["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
               str(database)]
    scratch = f"{(make_url(url).database or 'portal')[:40]}_restore_{uuid.uuid4().hex[:10]}"
    scratch_url = make_url(url).set(database=scratch).render_as_string(hide_password=False)
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    try:
        try:
            connection = engine.connect()
        except SQLAlchemyError as exc:
            raise BackupError(f"the target database cannot be reached: {getattr(exc, 'orig', exc)}; "
                              "nothing was restored") from None
        try:
            connection.execute(text(f"CREATE DATABASE {_quoted(scratch)}"))
        except SQLAlchemyError as exc:
            raise BackupError("the backup is verified in a scratch database before the target is touched, and it "
                              f"cannot be created (the target's role needs CREATEDB): {getattr(exc, 'orig', exc)}; "
                              "nothing was restored") from None
        finally:
            connection.close()
        try:
            run_tool(restore, scratch_url, "pg_restore into the scratch database")
            _verified(scratch_url, uploads, heads, f"checked in the scratch database {scratch}")
        finally:
            with engine.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {_quoted(scratch)}"))
    finally:
        engine.dispose()
    run_tool(restore, url, "pg_restore")


def verify_restored(url, upload_dir, heads=None):
    """Verify the database at ``url`` (as its owner) and the files under ``upload_dir``: every audit
    chain, the chains' ``heads`` at backup time, every stored file's checksum. Returns a Report."""
    report = Report()
    engine = create_engine(url, poolclass=NullPool)
    try:
        with Session(engine) as session:
            _verify_chains(session, heads or {}, report)
            _verify_files(session, Path(upload_dir), report)
            session.rollback()
    finally:
        engine.dispose()
    return report


def _verify_chains(session, heads, report):
    chains = set(session.execute(text("SELECT DISTINCT chain FROM audit_entry")).scalars())
    for chain in sorted(chains | {int(c) for c in heads}):
        name = "platform" if chain == PLATFORM_CHAIN else f"tenant {chain}"
        result = verify_chain(session, None if chain == PLATFORM_CHAIN else chain)
        if result.ok:
            report.ok(f"audit chain of {name}: {result.checked} entries verified")
        else:
            report.fail(f"audit chain of {name}: broken at entry id={result.broken_id} seq={result.broken_seq}: "
                        f"{result.reason}")
        head = heads.get(str(chain))
        if head is None:
            continue
        found = session.execute(text("SELECT hash FROM audit_entry WHERE chain = :c AND seq = :s"),
                                {"c": chain, "s": head["seq"]}).scalar()
        if found != head["hash"]:
            report.fail(f"audit chain of {name}: the head at backup time (seq {head['seq']}) is "
                        f"{'missing' if found is None else 'different'}")


def _verify_files(session, root, report):
    checked, bad = 0, []
    for stored in session.execute(select(StoredFile).order_by(StoredFile.id)).scalars():
        path = path_under(root, stored.storage_key)
        if not path.is_file():
            bad.append(f"stored file {stored.id} ({stored.storage_key}): missing")
        elif sha256_of(path) != stored.sha256:
            bad.append(f"stored file {stored.id} ({stored.storage_key}): checksum does not match its row")
        else:
            checked += 1
    for line in bad:
        report.fail(line)
    if not bad:
        report.ok(f"stored files: {checked} checksums match")
