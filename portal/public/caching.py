"""Conditional requests for the public pages (the validators themselves live in
portal/core/caching.py, shared with the open data): an ETag that changes as soon as the bureau
publishes something, so a reader's browser (or a proxy) asks again cheaply and gets 304."""
from flask import make_response, request
from sqlalchemy import func, select

from portal.core.caching import conditional as conditional_on, make_etag, stamp
from portal.disclosures import Disclosure
from portal.extensions import db
from portal.i18n import select_locale
from portal.public.models import PolicyPage
from portal.tenancy.models import Tenant
from portal.tenancy.scope import current_tenant_id


def public_etag(*parts):
    """A strong ETag over ``parts`` (the tenant's publication fingerprint, say) plus what else
    changes the page: the path and query, 关怀版 and the language."""
    return make_etag(*parts, request.full_path, request.cookies.get("care") == "1", select_locale())


def conditional(etag, render):
    """304 when the client already holds ``etag``; otherwise ``render()`` with the ETag set.
    The pages depend on the care/lang cookies, so shared caches must keep them apart."""
    response = conditional_on(etag) or stamp(make_response(render()), etag)
    response.vary.add("Cookie")
    return response


def publication_fingerprint():
    """What changes whenever the current tenant publishes something or edits a policy page:
    (newest published disclosure id, its time, how many are published, newest policy edit).
    Public pages build their ETag from it; the bureau's public telephone number (a setting every
    page shows) is part of it too."""
    newest_id, newest_at, count = db.session.execute(
        select(func.max(Disclosure.id), func.max(Disclosure.published_at), func.count(Disclosure.id))
        .where(Disclosure.published_at.is_not(None))).one()
    policy_at = db.session.execute(select(func.max(PolicyPage.updated_at))).scalar_one()
    tenant = db.session.get(Tenant, current_tenant_id()) if current_tenant_id() is not None else None
    return newest_id, newest_at, count, policy_at, tenant.setting("public_phone") if tenant else ""
