"""Restoring a backup of backup.py, and checking what was restored (README "Backup and restore").

First every file of the backup is checked against the manifest (a corrupted or incomplete backup
is refused before anything is touched); then the database is restored (PostgreSQL: pg_restore
--clean --if-exists --no-owner in one transaction; SQLite: sqlite3's backup API onto the target
file), the uploads are copied back, and the restored database is verified: every audit chain end
to end (audit/chain.py), the head each chain had at backup time still in it, and every stored
file's bytes against the SHA-256 of its row."""
import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, select, text
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
    """Check the backup in ``src``, then restore it into the database at ``url`` (as its owner)
    and the folder ``upload_dir``; returns the manifest. Verify with ``verify_restored``."""
    src = Path(src)
    manifest = checked_manifest(src)
    if manifest["backend"] != backend_of(url):
        raise BackupError(f"a {manifest['backend']} backup cannot be restored into a {backend_of(url)} database")
    database = src / manifest["database"]
    if manifest["backend"] == "postgresql":
        run_tool(["pg_restore", "--clean", "--if-exists", "--no-owner", "--single-transaction", "--exit-on-error",
                  str(database)], url, "pg_restore")
    else:
        target_path = sqlite_path(url)
        target_path.parent.mkdir(parents=True, exist_ok=True)
        source, target = sqlite3.connect(database), sqlite3.connect(target_path)
        try:
            source.backup(target)  # replaces every page of the target, in one step
        finally:
            target.close()
            source.close()
    listed = {name for name in manifest["files"] if name.startswith(f"{UPLOADS}/")}
    copy_tree(src / UPLOADS, Path(upload_dir), only={Path(name).relative_to(UPLOADS) for name in listed})
    return manifest


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
