"""The signed heads of the audit chains in the open data (README, "The anchored audit chain"): the
newest checkpoint of the platform's chain and of each bureau's, as JSON anyone may copy and later
hold the portal to (``flask --app wsgi audit-verify --expect HASH``) — a transparency log's
signed head. Only the head's hash, time, key id and signature: nothing of the trail itself.

Also the daily jobs that write the checkpoints (declared in portal/jobs/schedule.py): the audit
package sits beside jobs, which imports it, so the jobs that sign its heads live here, with their
publication."""
from flask import Response
from flask_babel import gettext as _

from portal.audit.checkpoints import bureau_heads, iso_utc, write_checkpoint
from portal.core.caching import conditional, make_etag, newest, stamp
from portal.core.openapi import json_response, operation
from portal.jobs.queue import task
from portal.opendata.api import CACHE, CONDITIONAL, NOT_MODIFIED
from portal.opendata.blueprint import api_bp
from portal.opendata.jsontext import dumps
from portal.tenancy.scope import current_tenant_id

ALGORITHM = "HMAC-SHA256"


@task("audit.write_checkpoint")
def write_audit_checkpoint():
    """The signed head of the current bureau's audit chain (a bureau's job: schedule.py)."""
    tenant_id = current_tenant_id()
    if tenant_id is None:
        raise RuntimeError("audit.write_checkpoint runs for one bureau; the platform's chain has its own job")
    write_checkpoint(tenant_id)


@task("audit.write_platform_checkpoint")
def write_platform_checkpoint():
    """The signed head of the platform's audit chain (the events of no bureau)."""
    write_checkpoint(None)


HEADS = {"type": "object", "required": ["algorithm", "heads"], "properties": {
    "algorithm": {"type": "string"}, "published_at": {"type": ["string", "null"], "format": "date-time"},
    "heads": {"type": "array", "items": {"type": "object", "required": ["bureau", "name", "head_hash"], "properties": {
        "bureau": {"type": "string", "description": "the bureau's code, or 'platform'"},
        "name": {"type": "string"},
        "head_hash": {"type": ["string", "null"], "description": "SHA-256 of the chain's last row at the checkpoint"},
        "checkpoint_time": {"type": ["string", "null"], "format": "date-time"},
        "key_id": {"type": ["string", "null"]}, "signature": {"type": ["string", "null"]}}}}}}


def head_rows():
    """The published heads as plain dicts (also the public page's rows)."""
    rows = []
    for code, name, head in bureau_heads():
        rows.append({"bureau": code, "name": name if name is not None else _("The platform"),
                     "head_hash": head.hash if head else None,
                     "checkpoint_time": iso_utc(head.created_at) if head else None,
                     "key_id": head.key_id if head else None, "signature": head.signature if head else None,
                     "_id": head.id if head else None, "_at": head.created_at if head else None})
    return rows


@api_bp.get("/audit-heads")
@operation({
    "summary": "The signed head of every audit chain (platform and bureaus): hash, time, key id, signature",
    "security": [], "tags": ["open data"], "parameters": [*CONDITIONAL],
    "responses": {"200": {**json_response("The newest checkpoint of each chain", HEADS), "headers": CACHE},
                  "304": NOT_MODIFIED}})
def audit_heads():
    rows = head_rows()
    etag = make_etag("audit-heads", *[(r["bureau"], r["name"], r["_id"]) for r in rows])
    last_modified = newest(*(r["_at"] for r in rows))
    not_modified = conditional(etag, last_modified)
    if not_modified is not None:
        return not_modified
    body = {"algorithm": ALGORITHM, "published_at": iso_utc(last_modified) if last_modified else None,
            "heads": [{k: v for k, v in r.items() if not k.startswith("_")} for r in rows]}
    return stamp(Response(dumps(body), mimetype="application/json"), etag, last_modified)
