"""`flask --app wsgi backup DEST` / `restore SRC` (README "Backup and restore"): a round trip into
a new database and a new upload folder keeps every row, every audit chain and every file's bytes;
a corrupted backup, and one whose own database does not verify, is refused before anything is
touched; the verification after a restore finds a broken chain and an altered file; the backup is
private to its owner and a failed one leaves nothing behind."""
import json
import re
import stat
import uuid
from contextlib import contextmanager

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.pool import NullPool

from portal.extensions import db
from tests import conftest, support

KEY_TABLES = ("tenant", "user_account", "contractor", "staff_member", "beneficiary", "audit_entry", "stored_file")
PDF = b"%PDF-1.4\n% backup round trip\n" + bytes(range(256)) * 4


@contextmanager
def new_database(tmp_path, name="restored"):
    """An empty database to restore into (its owner URL), dropped after."""
    if conftest.BACKEND == "sqlite":
        yield f"sqlite:///{tmp_path / name / 'restored.db'}"
        return
    name = f"portal_restore_{uuid.uuid4().hex[:10]}"
    admin = create_engine(conftest.PG_ADMIN_URL, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield re.sub(r"/[^/]+$", f"/{name}", conftest.PG_ADMIN_URL)
    finally:
        with admin.connect() as conn:
            conn.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"), {"n": name})
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


def counts(url):
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.connect() as conn:
            return {table: conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar() for table in KEY_TABLES}
    finally:
        engine.dispose()


@pytest.fixture
def world(app):
    """The demo world with its history and one more uploaded file: (storage key, its bytes)."""
    from portal.files.services import store_upload
    support.seed_demo(app, history=True)
    with app.app_context():
        stored = store_upload(None, data=PDF)
        db.session.commit()
        return stored.storage_key


def _backup(app, dest):
    result = app.test_cli_runner().invoke(args=["backup", str(dest)])
    assert result.exit_code == 0, result.output
    return json.loads((dest / "manifest.json").read_text())


def test_a_round_trip_into_a_new_database_keeps_rows_chains_and_files(app, world, tmp_path):
    from portal.files.services import path_under
    from portal.ops.restore import verify_restored
    source = app.config["OWNER_DATABASE_URI"]
    manifest = _backup(app, tmp_path / "backup")
    assert manifest["backend"] == conftest.BACKEND and manifest["alembic_revision"]
    assert manifest["database"] in manifest["files"]
    assert f"uploads/{world[:2]}/{world}" in manifest["files"]
    assert len(manifest["audit_heads"]) >= 3  # the platform chain and the bureaus'
    modes = {path.relative_to(tmp_path).as_posix(): stat.S_IMODE(path.stat().st_mode)
             for path in [tmp_path / "backup", *(tmp_path / "backup").rglob("*")]}
    assert modes["backup"] == 0o700 and modes["backup/manifest.json"] == 0o600
    assert all(mode == (0o700 if (tmp_path / name).is_dir() else 0o600) for name, mode in modes.items()), modes
    refused = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "backup")])
    assert refused.exit_code != 0 and "not an empty directory" in refused.output

    uploads = tmp_path / "restored-uploads"
    with new_database(tmp_path) as target:
        result = app.test_cli_runner().invoke(
            args=["restore", str(tmp_path / "backup"), "--database-url", target, "--upload-dir", str(uploads)])
        assert result.exit_code == 0, result.output
        assert "restore verified" in result.output and "FAILED" not in result.output
        assert re.search(r"stored files: [1-9]\d* checksums match", result.output)
        assert len(re.findall(r"OK +audit chain of", result.output)) == len(manifest["audit_heads"])
        assert counts(target) == counts(source)
        assert counts(target)["beneficiary"] > 0 and counts(target)["stored_file"] >= 1
        assert path_under(uploads, world).read_bytes() == PDF

        # The verification can fail: an altered file, an edited audit entry.
        path_under(uploads, world).write_bytes(PDF + b"x")
        engine = create_engine(target, poolclass=NullPool)
        with engine.begin() as conn:
            conn.execute(text("ALTER TABLE audit_entry DISABLE TRIGGER ALL") if conftest.BACKEND == "postgresql"
                         else text("SELECT 1"))
            conn.execute(text("UPDATE audit_entry SET action = 'tampered' WHERE id = (SELECT min(id) FROM audit_entry)"))
        engine.dispose()
        report = verify_restored(target, uploads, manifest["audit_heads"])
        assert not report.passed
        assert any("checksum does not match its row" in line for line in report.failures)
        assert any("broken at entry" in line and "content does not match" in line for line in report.failures)

        # Restored again over the damaged database and folder (pg_restore --clean on a populated one).
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM audit_entry WHERE id = (SELECT max(id) FROM audit_entry)"))
        engine.dispose()
        assert any("head at backup time" in line for line in verify_restored(target, uploads, manifest["audit_heads"]).failures)
        again = app.test_cli_runner().invoke(
            args=["restore", str(tmp_path / "backup"), "--database-url", target, "--upload-dir", str(uploads)])
        assert again.exit_code == 0 and "restore verified" in again.output, again.output
        assert counts(target) == counts(source)
        assert path_under(uploads, world).read_bytes() == PDF


def test_a_corrupted_backup_is_refused_before_anything_is_touched(app, world, tmp_path):
    _backup(app, tmp_path / "backup")
    stored = next((tmp_path / "backup" / "uploads").rglob("*"))
    while stored.is_dir():
        stored = next(stored.iterdir())
    stored.write_bytes(stored.read_bytes()[:-1] + b"!")
    target = f"sqlite:///{tmp_path / 'never.db'}" if conftest.BACKEND == "sqlite" else \
        re.sub(r"/[^/]+$", "/portal_never_created", conftest.PG_ADMIN_URL)
    result = app.test_cli_runner().invoke(
        args=["restore", str(tmp_path / "backup"), "--database-url", target, "--upload-dir", str(tmp_path / "up")])
    assert result.exit_code == 1
    assert "corrupted or incomplete, nothing was restored" in result.output
    assert "checksum does not match the manifest" in result.output
    assert not (tmp_path / "never.db").exists() and not (tmp_path / "up").exists()

    (tmp_path / "backup" / "database.dump" if conftest.BACKEND == "postgresql"
     else tmp_path / "backup" / "database.sqlite").unlink()
    result = app.test_cli_runner().invoke(args=["restore", str(tmp_path / "backup"), "--database-url", target])
    assert result.exit_code == 1 and "missing" in result.output

    # A manifest that lost a key is refused too, before anything is written (not a traceback after).
    manifest_path = tmp_path / "backup" / "manifest.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["revision"] = manifest.pop("alembic_revision")
    manifest_path.write_text(json.dumps(manifest))
    result = app.test_cli_runner().invoke(
        args=["restore", str(tmp_path / "backup"), "--database-url", target, "--upload-dir", str(tmp_path / "up")])
    assert result.exit_code == 1 and "lacks alembic_revision" in result.output
    assert not (tmp_path / "never.db").exists() and not (tmp_path / "up").exists()


def _tamper_first_audit_entry(url):
    engine = create_engine(url, poolclass=NullPool)
    try:
        with engine.begin() as conn:
            if conftest.BACKEND == "postgresql":  # the owner's session, past the append-only trigger
                conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(text("UPDATE audit_entry SET action = 'tampered' WHERE id = (SELECT min(id) FROM audit_entry)"))
    finally:
        engine.dispose()


def _scratch_databases(target):
    """The scratch databases restore_backup left beside ``target`` (PostgreSQL)."""
    if conftest.BACKEND != "postgresql":
        return []
    admin = create_engine(conftest.PG_ADMIN_URL, poolclass=NullPool)
    try:
        with admin.connect() as conn:
            return conn.execute(text("SELECT datname FROM pg_database WHERE starts_with(datname, :prefix)"),
                                {"prefix": f"{target.rsplit('/', 1)[1]}_restore_"}).scalars().all()
    finally:
        admin.dispose()


def test_a_backup_whose_own_database_does_not_verify_is_refused_and_the_target_left_untouched(app, world, tmp_path):
    source = app.config["OWNER_DATABASE_URI"]
    _backup(app, tmp_path / "good")
    runner = app.test_cli_runner()
    before = counts(source)
    unconfirmed = runner.invoke(args=["restore", str(tmp_path / "good")])  # onto the configured database
    assert unconfirmed.exit_code == 1 and "--yes" in unconfirmed.output and "restore refused" in unconfirmed.output
    assert counts(source) == before
    if conftest.BACKEND == "postgresql":  # the app's role has no CREATEDB: no scratch database, no restore
        no_createdb = runner.invoke(args=["restore", str(tmp_path / "good"), "--database-url",
                                          app.config["SQLALCHEMY_DATABASE_URI"], "--upload-dir", str(tmp_path / "never")])
        assert no_createdb.exit_code == 1 and "needs CREATEDB" in no_createdb.output, no_createdb.output
        assert counts(source) == before

    # A backup of an edited trail: every checksum of its manifest matches, its chain does not.
    _tamper_first_audit_entry(source)
    bad = _backup(app, tmp_path / "bad")
    with new_database(tmp_path) as target:
        restored = runner.invoke(args=["restore", str(tmp_path / "good"), "--database-url", target,
                                       "--upload-dir", str(tmp_path / "up")])
        assert restored.exit_code == 0, restored.output
        engine = create_engine(target, poolclass=NullPool)
        with engine.begin() as conn:  # the target now differs from both backups
            conn.execute(text("INSERT INTO alembic_version (version_num) VALUES ('marker')"))
        engine.dispose()
        state = counts(target)
        file_bytes = (tmp_path / "restored" / "restored.db").read_bytes() if conftest.BACKEND == "sqlite" else None

        refused = runner.invoke(args=["restore", str(tmp_path / "bad"), "--database-url", target,
                                      "--upload-dir", str(tmp_path / "never")])
        assert refused.exit_code == 1, refused.output
        assert "does not verify" in refused.output and "nothing was restored" in refused.output
        assert "broken at entry" in refused.output and "content does not match" in refused.output
        assert counts(target) == state and not (tmp_path / "never").exists()
        engine = create_engine(target, poolclass=NullPool)
        with engine.connect() as conn:
            assert "marker" in conn.execute(text("SELECT version_num FROM alembic_version")).scalars().all()
        engine.dispose()
        if conftest.BACKEND == "sqlite":
            assert (tmp_path / "restored" / "restored.db").read_bytes() == file_bytes
            assert sorted(p.name for p in (tmp_path / "restored").iterdir()) == ["restored.db"]  # no temporary copy left
        assert _scratch_databases(target) == []  # the scratch database is dropped
    assert bad["audit_heads"]


def test_a_failed_backup_leaves_nothing_behind_and_a_missing_sqlite_file_is_named(app, tmp_path, monkeypatch):
    from portal.ops import backup
    missing = tmp_path / "missing.db"
    with app.app_context():
        with pytest.raises(backup.BackupError, match="no SQLite database at"):
            backup.make_backup(tmp_path / "b1", url=f"sqlite:///{missing}", upload_dir=tmp_path / "up")
        assert not missing.exists() and not (tmp_path / "b1").exists()

        def disk_full(*_args, **_kwargs):
            raise OSError("no space left on device")
        monkeypatch.setattr(backup, "copy_tree", disk_full)  # fails after the dump is written
        with pytest.raises(OSError, match="no space"):
            backup.make_backup(tmp_path / "deep" / "b2")
        assert not (tmp_path / "deep").exists()
        (tmp_path / "empty").mkdir()
        with pytest.raises(OSError, match="no space"):
            backup.make_backup(tmp_path / "empty")
        assert (tmp_path / "empty").is_dir() and not any((tmp_path / "empty").iterdir())


def test_the_password_goes_to_pg_tools_through_the_environment_not_the_command_line():
    from portal.ops.backup import libpq_target
    target, env = libpq_target("postgresql+psycopg://portal_owner:s3cr%40t@db:5432/portal")
    assert target == "postgresql://portal_owner@db:5432/portal" and env["PGPASSWORD"] == "s3cr@t"
