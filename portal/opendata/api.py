"""Open-data endpoints (docs/API.md "Open data", no login): release packages page by page, record
packages per ocid, and the bulk package of every release, streamed. Every response carries an
ETag and Last-Modified and answers a conditional request with 304."""
from flask import Response, request, url_for
from flask_babel import gettext as _
from sqlalchemy import select

from portal.core import query
from portal.core.caching import conditional, make_etag, stamp
from portal.core.http import problem
from portal.core.openapi import json_response, operation
from portal.core.openapi import problem as problem_response
from portal.extensions import db
from portal.opendata import packages
from portal.opendata.blueprint import api_bp
from portal.opendata.jsontext import dumps
from portal.tenancy.models import Tenant
from portal.tenancy.scope import set_request_tenant

JSON = "application/json"


class _NotFound(Exception):
    pass


def _tenant(code):
    """The active bureau named in the URL; its data is read in its own scope."""
    tenant = db.session.execute(select(Tenant).where(Tenant.code == code, Tenant.active.is_(True))).scalar_one_or_none()
    if tenant is None:
        raise _NotFound()
    set_request_tenant(tenant.id)
    return tenant


@api_bp.errorhandler(_NotFound)
def _no_tenant(_exc):
    return problem(404, _("No such bureau."))


def _policy_url(tenant):
    return url_for("public.tenant_home", code=tenant.code, _external=True)


def _page_url(tenant, page):
    return url_for("opendata_api.releases", code=tenant.code, page=page, _external=True)


def _json(text):
    return Response(text, mimetype=JSON)


# The OpenAPI description of these endpoints (core/openapi.py), declared beside each route.
CODE = {"name": "code", "in": "path", "required": True, "description": "The bureau's code, e.g. ganxian",
        "schema": {"type": "string"}}
CACHE = {"ETag": {"schema": {"type": "string"}}, "Last-Modified": {"schema": {"type": "string"}}}
CONDITIONAL = [
    {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"}},
    {"name": "If-Modified-Since", "in": "header", "required": False, "schema": {"type": "string"}}]
PACKAGE = {"type": "object", "description": "An OCDS 1.1 release package "
           "(https://standard.open-contracting.org/schema/1__1__5/release-package-schema.json)",
           "required": ["uri", "version", "publishedDate", "publisher", "releases"],
           "properties": {"uri": {"type": "string"}, "version": {"type": "string"},
                          "publishedDate": {"type": "string", "format": "date-time"},
                          "publisher": {"type": "object"}, "license": {"type": "string"},
                          "publicationPolicy": {"type": "string"},
                          "links": {"type": "object", "properties": {"next": {"type": "string"},
                                                                     "prev": {"type": "string"}}},
                          "releases": {"type": "array", "items": {"type": "object"}}}}
RECORD_PACKAGE = {"type": "object", "description": "An OCDS 1.1 record package "
                  "(https://standard.open-contracting.org/schema/1__1__5/record-package-schema.json)",
                  "required": ["uri", "version", "publishedDate", "publisher", "records"],
                  "properties": {"records": {"type": "array", "items": {"type": "object"}}}}
NOT_MODIFIED = {"description": "Not modified since the client's copy (ETag / Last-Modified)", "headers": CACHE}


def _ok(description, schema):
    return {**json_response(description, schema), "headers": CACHE}


@api_bp.get("/<code>/ocds/releases")
@operation({
    "summary": "OCDS release package of a bureau, newest first, 100 a page", "security": [],
    "tags": ["open data"],
    "parameters": [CODE, {"name": "page", "in": "query", "required": False,
                          "schema": {"type": "integer", "minimum": 1}}, *CONDITIONAL],
    "responses": {"200": _ok("A page of releases", PACKAGE), "304": NOT_MODIFIED,
                  "422": problem_response("Bad page number"), "404": problem_response("No such bureau or page")}})
def releases(code):
    """A release package: 100 releases a page, newest first, with links to the next/previous page."""
    tenant = _tenant(code)
    page = query.page_arg()  # core/query.py: 1 … MAX_PAGE, else a 422 problem
    info = packages.summary()
    if page > info.pages:
        return problem(404, _("There is no page %(page)s; the last page is %(last)s.", page=page, last=info.pages))
    etag = make_etag("releases", tenant.id, info.newest_id, info.count, page, request.host_url)
    not_modified = conditional(etag, info.newest_at)
    if not_modified is not None:
        return not_modified
    body = packages.package_meta(tenant, _page_url(tenant, page), info, _policy_url(tenant))
    links = {}
    if page < info.pages:
        links["next"] = _page_url(tenant, page + 1)
    if page > 1:
        links["prev"] = _page_url(tenant, page - 1)
    if links:
        body["links"] = links
    body["releases"] = packages.release_page(page)
    return stamp(_json(dumps(body)), etag, info.newest_at)


@api_bp.get("/<code>/ocds/records/<ocid>")
@operation({
    "summary": "OCDS record package of one procurement process (releases and compiled release)",
    "security": [], "tags": ["open data"],
    "parameters": [CODE, {"name": "ocid", "in": "path", "required": True, "schema": {"type": "string"}},
                   *CONDITIONAL],
    "responses": {"200": _ok("The record", RECORD_PACKAGE), "304": NOT_MODIFIED,
                  "404": problem_response("No such bureau or ocid")}})
def record(code, ocid):
    """A record package for one procurement process: its releases and the compiled release."""
    tenant = _tenant(code)
    info = packages.summary(ocid)
    if info.count == 0:
        return problem(404, _("No procurement process with this ocid."))
    etag = make_etag("record", tenant.id, ocid, info.newest_id, info.count, request.host_url)
    not_modified = conditional(etag, info.newest_at)
    if not_modified is not None:
        return not_modified
    body = packages.package_meta(tenant, request.base_url, info, _policy_url(tenant))
    body["packages"] = [url_for("opendata_api.bulk", code=tenant.code, _external=True)]
    body["records"] = [packages.record(ocid)]
    return stamp(_json(dumps(body)), etag, info.newest_at)


@api_bp.get("/<code>/ocds/bulk")
@operation({
    "summary": "Every release of a bureau in one OCDS release package, oldest first (streamed)",
    "security": [], "tags": ["open data"], "parameters": [CODE, *CONDITIONAL],
    "responses": {"200": _ok("All releases", PACKAGE), "304": NOT_MODIFIED,
                  "404": problem_response("No such bureau")}})
def bulk(code):
    """Every release of the bureau in one package, oldest first, streamed."""
    tenant = _tenant(code)
    info = packages.summary()
    etag = make_etag("bulk", tenant.id, info.newest_id, info.count, request.host_url)
    not_modified = conditional(etag, info.newest_at)
    if not_modified is not None:
        return not_modified
    meta = packages.package_meta(tenant, request.base_url, info, _policy_url(tenant))
    # Not stream_with_context: the body is written after the request has ended, from a connection
    # of its own, and must not touch the request's (closed) session or its signed-in user.
    stream = packages.stream_package(db.engine, meta, tenant.id, info.newest_id)
    response = Response(stream, mimetype=JSON)
    return stamp(response, etag, info.newest_at)
