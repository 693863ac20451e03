"""The public list of the audit chains' signed heads (README, "The anchored audit chain"): per
bureau, and for the platform, the newest checkpoint — the head's hash, its time, the key id and
the signature — so that anyone can keep a copy and later hold the portal to it. The same list is
in the open data (portal/opendata/audit_heads.py). Nothing of the trail itself is shown."""
from flask import render_template

from portal.audit.checkpoints import bureau_heads
from portal.public.blueprint import bp
from portal.public.caching import conditional, public_etag


@bp.route("/audit-heads")
def audit_heads():
    rows = bureau_heads()
    etag = public_etag("audit-heads", *[(code, name, head.id if head else None) for code, name, head in rows])
    return conditional(etag, lambda: render_template("public/audit_heads.html", rows=rows, tenant=None))
