"""Housekeeping jobs of the accounts package."""

from flask import current_app
from sqlalchemy import delete

from portal.accounts.models import WebSession
from portal.core.timeutil import utcnow
from portal.extensions import db
from portal.jobs.queue import task


@task("accounts.purge_expired_sessions")
def purge_expired_sessions():
    """Delete browser sessions idle past the idle timeout (they can no longer be used)."""
    cutoff = utcnow() - current_app.config["SESSION_IDLE_TIMEOUT"]
    db.session.execute(delete(WebSession).where(WebSession.last_seen_at < cutoff))
