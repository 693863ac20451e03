"""Open Contracting IDs: one ocid per procurement process (docs/DOMAIN.md §9).

An ocid is the tenant's prefix plus a key of the process: ``t<tender id>`` for a tender, or
``p<intention id>`` for a purchase intention published before any tender was linked to it (a
planning process). A tender made from such an intention continues the intention's ocid, and once
a process has an ocid it keeps it when the bureau sets a prefix of its own (for instance after
registering one with the Open Contracting Partnership): before a release is made, the process's
ocid under the configured and under the derived prefix is looked up (by the ocid index) among
the releases already published."""
import base64
import hashlib
import re

from sqlalchemy import func, select

from portal.extensions import db
from portal.opendata.models import OcdsRelease
from portal.tenders.models import Tender

_PREFIX_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]{0,78}[A-Za-z0-9]$")


def derived_prefix(tenant_code):
    """``ocds-`` + six characters that stay the same for the tenant + ``-`` + its code, e.g.
    ``ocds-k2v7qa-ganxian``: registered-looking and stable across databases."""
    code = re.sub(r"[^a-z0-9]+", "-", (tenant_code or "").lower()).strip("-") or "bureau"
    digest = hashlib.sha256(f"portal-ocid:{tenant_code}".encode()).digest()
    stable = base64.b32encode(digest).decode().lower()[:6]
    return f"ocds-{stable}-{code}"


def ocid_prefix(tenant):
    """The tenant's setting ``ocid_prefix`` when it is a usable prefix, else the derived one."""
    configured = (tenant.setting("ocid_prefix") or "").strip()
    if configured and _PREFIX_RE.match(configured):
        return configured
    return derived_prefix(tenant.code)


def _published_ocid(key, tenant):
    """The ocid already used for the process ``key`` under the tenant's prefix or the derived
    one (the older when both were used), or None."""
    candidates = list(dict.fromkeys(f"{prefix}-{key}" for prefix in (ocid_prefix(tenant), derived_prefix(tenant.code))))
    found = db.session.execute(select(OcdsRelease.ocid, func.min(OcdsRelease.id)).where(
        OcdsRelease.ocid.in_(candidates)).group_by(OcdsRelease.ocid)).all()
    return min(found, key=lambda row: row[1])[0] if found else None


def _first_of_intention(tender):
    """Whether ``tender`` is the first tender of its intention (the lowest id, not a re-tender):
    only that one continues the intention's process; a re-tender is a process of its own."""
    if tender.intention_id is None or tender.retender_of_id is not None:
        return False
    first = db.session.execute(select(func.min(Tender.id)).where(Tender.intention_id == tender.intention_id)
                               ).scalar_one()
    return first == tender.id


def tender_ocid(tender, tenant):
    """The ocid of a tender's process: its own, or the planning process of its intention when
    that intention was published on its own first and this is the intention's first tender
    (a re-tender reusing the intention has an ocid of its own)."""
    db.session.flush()
    found = _published_ocid(f"t{tender.id}", tenant)
    if found is None and _first_of_intention(tender):
        found = _published_ocid(f"p{tender.intention_id}", tenant)
    return found or f"{ocid_prefix(tenant)}-t{tender.id}"


def intention_ocid(intention, tenant):
    """A purchase intention belongs to the process of the tender linked to it; without one it
    opens a planning process of its own."""
    db.session.flush()
    tender = db.session.execute(select(Tender).where(Tender.intention_id == intention.id,
                                                     Tender.retender_of_id.is_(None))
                                .order_by(Tender.id).limit(1)).scalar_one_or_none()
    if tender is not None:
        return tender_ocid(tender, tenant)
    return _published_ocid(f"p{intention.id}", tenant) or f"{ocid_prefix(tenant)}-p{intention.id}"
