"""The auditor's view of the trail and its verification."""
from flask import g, render_template, request
from sqlalchemy import select

from portal.audit.blueprint import bp
from portal.audit.chain import verify_chain
from portal.audit.models import AuditEntry
from portal.core.auth import capability_required
from portal.core.pagination import paginate
from portal.extensions import db


@bp.route("/")
@capability_required("audit.read")
def index():
    stmt = select(AuditEntry).where(AuditEntry.tenant_id == g.tenant.id).order_by(AuditEntry.seq.desc())
    action = request.args.get("action", "").strip()
    actor = request.args.get("actor", "").strip()
    object_type = request.args.get("object_type", "").strip()
    if action:
        stmt = stmt.where(AuditEntry.action == action)
    if actor:
        stmt = stmt.where(AuditEntry.actor == actor)
    if object_type:
        stmt = stmt.where(AuditEntry.object_type == object_type)
    return render_template("audit/index.html", page=paginate(stmt, per_page=50),
                           filters={"action": action, "actor": actor, "object_type": object_type})


@bp.route("/verify", methods=["POST"])
@capability_required("audit.read")
def verify():
    result = verify_chain(db.session, g.tenant.id)
    broken = db.session.get(AuditEntry, result.broken_id) if result.broken_id else None
    return render_template("audit/verify.html", result=result, broken=broken)
