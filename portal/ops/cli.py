"""`flask --app wsgi backup DEST`, `restore SRC` and `rotate-data-key` (README "Operations")."""
import sys

import click
from flask import current_app
from flask.cli import with_appcontext

from portal.extensions import db


def _release_connections():
    """Return and close the app's connections: a restore replaces the tables under them."""
    db.session.remove()
    db.engine.dispose()


@click.command("backup")
@click.argument("dest", type=click.Path(file_okay=False))
@with_appcontext
def backup(dest):
    """Back up the database (as DATABASE_OWNER_URL) and the upload folder into the new directory DEST,
    with a manifest of checksums."""
    from portal.ops.backup import BackupError, make_backup
    try:
        manifest = make_backup(dest)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
    heads = ", ".join(f"{chain}:{head['seq']}" for chain, head in manifest["audit_heads"].items()) or "none"
    click.echo(f"backup written to {dest}: {manifest['backend']} database at revision {manifest['alembic_revision']}, "
               f"{len(manifest['files']) - 1} uploaded files, audit heads (chain:seq) {heads}")


@click.command("restore")
@click.argument("src", type=click.Path(exists=True, file_okay=False))
@click.option("--database-url", default=None,
              help="The database to restore into, as its owner (default: DATABASE_OWNER_URL, else DATABASE_URL).")
@click.option("--upload-dir", default=None, type=click.Path(file_okay=False),
              help="The upload folder to copy the files into (default: UPLOAD_DIR).")
@click.option("--yes", is_flag=True, help="Confirm a restore over the configured database (no --database-url).")
@with_appcontext
def restore(src, database_url, upload_dir, yes):
    """Check the backup in SRC against its manifest and verify its database, restore it, then
    verify every audit chain and every stored file again; exit 1 if anything fails."""
    from sqlalchemy import make_url

    from portal.config import normalise_db_url
    from portal.ops.backup import BackupError, owner_url
    from portal.ops.restore import restore_backup, verify_restored
    url = normalise_db_url(database_url) if database_url else owner_url()
    if not database_url and not yes:
        click.echo(f"restore refused: without --database-url the target is the configured database "
                   f"({make_url(url).render_as_string(hide_password=True)}), whose every table would be "
                   "replaced; name the target with --database-url, or confirm with --yes", err=True)
        sys.exit(1)
    upload_dir = upload_dir or current_app.config["UPLOAD_DIR"]
    _release_connections()
    try:
        manifest = restore_backup(src, url, upload_dir)
    except BackupError as exc:
        click.echo(f"restore refused: {exc}", err=True)
        sys.exit(1)
    click.echo(f"restored the {manifest['backend']} backup of {manifest['created_at']} "
               f"(revision {manifest['alembic_revision']}, {len(manifest['files']) - 1} uploaded files)")
    report = verify_restored(url, upload_dir, manifest["audit_heads"])
    for line in report.lines:
        click.echo(line)
    if not report.passed:
        click.echo(f"restore verification FAILED: {len(report.failures)} problem(s)", err=True)
        sys.exit(1)
    click.echo("restore verified: every audit chain and every stored file checks out")


@click.command("rotate-data-key")
@click.option("--batch-size", default=500, show_default=True, type=click.IntRange(min=1),
              help="Rows rewritten per committed batch.")
@click.option("--max-batches", default=None, type=click.IntRange(min=1),
              help="Stop after this many batches (run again to resume).")
@with_appcontext
def rotate_data_key(batch_size, max_batches):
    """Re-encrypt every personal identifier, and rebuild its keyed hash, under the first key of
    PORTAL_DATA_KEY; rows already under it are skipped, so an interrupted run resumes. A row that
    cannot be rewritten is skipped and named (table and id); the command then exits 1."""
    from portal.core.crypto import data_keys
    from portal.ops.rotation import rotate_all
    keys = data_keys(current_app.config["PORTAL_DATA_KEY"])
    progress = rotate_all(batch_size=batch_size, max_batches=max_batches, echo=click.echo)
    click.echo(f"{progress.rewritten} rows rewritten, {progress.already} already under the first key, "
               f"{len(progress.skipped)} skipped, in {progress.batches} batches")
    if progress.stopped:
        click.echo("stopped after --max-batches: run the command again to go on")
    if progress.skipped:
        for table, row_id, reason in progress.skipped:
            click.echo(f"skipped {table} id={row_id}: {reason}", err=True)
        click.echo(f"{len(progress.skipped)} row(s) could not be rewritten and are still under an old key or "
                   "hash: keep every key in PORTAL_DATA_KEY, put those rows right, and run the command again",
                   err=True)
        sys.exit(1)
    if progress.stopped:
        return
    if len(keys) > 1:
        click.echo(f"every row is under the first key: the other {len(keys) - 1} key(s) can now be removed "
                   "from PORTAL_DATA_KEY")
    else:
        click.echo("every row is under the only key of PORTAL_DATA_KEY")
