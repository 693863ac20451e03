"""The auditor's view of the trail and its verification."""
from flask import g, render_template, request
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select

from portal.audit.blueprint import bp
from portal.audit.chain import verify_chain
from portal.audit.checkpoints import anchor_problems
from portal.audit.models import AuditEntry
from portal.audit.withholding import shown, withheld
from portal.core.auth import capability_required
from portal.core.pagination import paginate
from portal.extensions import db

# the actions most entries record, by name; the others (events named by the code that records them)
# are shown as the code the filter takes
ACTION_LABELS = {"insert": _l("Created"), "update": _l("Changed"), "delete": _l("Deleted"), "login": _l("Signed in"),
                 "logout": _l("Signed out"), "login_failed": _l("Sign-in failed"),
                 "access_denied": _l("Access refused")}

@bp.route("/")
@capability_required("audit.read")
def index():
    # Rows withheld for now (a sealed bid's) are left out, and so are their number and place.
    stmt = shown(select(AuditEntry).where(AuditEntry.tenant_id == g.tenant.id).order_by(AuditEntry.seq.desc()))
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
                           filters={"action": action, "actor": actor, "object_type": object_type},
                           action_labels=ACTION_LABELS)


@bp.route("/verify", methods=["POST"])
@capability_required("audit.read")
def verify():
    result = verify_chain(db.session, g.tenant.id)
    broken = db.session.get(AuditEntry, result.broken_id) if result.broken_id else None
    if broken is not None and db.session.execute(
            select(AuditEntry.id).where(AuditEntry.id == broken.id, withheld())).first() is not None:
        broken = None  # the row itself is withheld for now: the chain's verdict stands, its content waits
    # Every row is verified; the count shown leaves out the rows withheld now, whose number
    # would tell how many there are.
    hidden = db.session.execute(
        select(func.count()).select_from(AuditEntry)
        .where(AuditEntry.tenant_id == g.tenant.id, AuditEntry.chain == g.tenant.id,
               AuditEntry.seq <= result.checked, withheld())).scalar_one()
    # …and against its signed checkpoints: a rewritten or cut-off end (audit/checkpoints.py).
    anchoring = anchor_problems(db.session, g.tenant.id)
    return render_template("audit/verify.html", result=result, broken=broken, shown_count=result.checked - hidden,
                           anchoring=anchoring)
