"""The public site (docs/DOMAIN.md §9): the list of bureaus, and per bureau its latest notices, the
notice lists by kind with search, each notice, an Atom feed and the policy pages. No sign-in;
every page answers conditional requests (caching.py) and offers 关怀版 through a link."""
import re
from datetime import timedelta
from urllib.parse import urlencode

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, or_, select

from portal.core.pagination import paginate
from portal.core.query import like_pattern
from portal.core.timeutil import local_midnight_utc, utcnow
from portal.disclosures import Disclosure
from portal.extensions import db
from portal.files.models import StoredFile
from portal.files.services import serve
from portal.public.blueprint import bp
from portal.public.caching import conditional, public_etag, publication_fingerprint
from portal.public.feeds import FEED_SIZE, atom_feed
from portal.public.forms import parse_search
from portal.public.models import POLICY_SLUGS, PolicyPage
from portal.public.policy import POLICY_TITLES, policy_page
from portal.public.reading import bureau_phone, file_size, file_type, guide_html, notice_sections, section_number
from portal.tenancy.models import Tenant
from portal.tenancy.scope import set_request_tenant
from portal.tenders.remedies import correction_of

ONE_YEAR = 365 * 24 * 3600
TENANT_CODE = re.compile(r"[a-z][a-z0-9-]{1,31}")  # as accounts/forms.py TenantForm requires
PER_PAGE = 20
LATEST = 10

KIND_LABELS = {
    "purchase_intention": _l("Purchase intentions"), "tender_notice": _l("Tender notices"),
    "clarification": _l("Clarifications"), "award_result": _l("Award results"),
    "failed_tender": _l("Failed tenders"), "contract_notice": _l("Contract notices"),
    "amendment": _l("Contract amendments"), "scorecard": _l("Quarterly scores"),
    "performance_evaluation": _l("Performance evaluations"), "assessment_publicity": _l("Assessment publicity"),
    "budget_execution": _l("Budget execution"), "award_cancellation": _l("Award corrections"),
    "acceptance_result": _l("Acceptance results"),
}


@bp.before_request
def _switches_by_link():
    """``?care=1|0`` and ``?lang=en|zh_CN`` set their cookie and come back to the same page
    without the switch in the address (links work without forms, scripts or sessions)."""
    care, lang = request.args.get("care"), request.args.get("lang")
    if request.method != "GET" or (care is None and lang is None):
        return None
    rest = [(k, v) for k, v in request.args.items(multi=True) if k not in ("care", "lang")]
    response = redirect(request.path + ("?" + urlencode(rest) if rest else ""))
    options = {"max_age": ONE_YEAR, "samesite": "Lax", "httponly": True,
               "secure": current_app.config["SESSION_COOKIE_SECURE"]}
    if care is not None:
        response.set_cookie("care", "1" if care == "1" else "0", **options)
    if lang in current_app.config["LANGUAGES"]:
        response.set_cookie("lang", lang, **options)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.context_processor
def _reading_helpers():
    """The public pages' helpers: the bureau's number (tap to call) and a guide's text with it."""
    return {"bureau_phone": bureau_phone, "guide_html": guide_html, "reading_number": section_number}


def load_public_tenant(code):
    """The bureau named in a public URL; its data is read in its own scope. A name that cannot
    be a bureau code (the platform's rule) is not looked up at all."""
    if not TENANT_CODE.fullmatch(code):
        abort(404)
    tenant = db.session.execute(select(Tenant).where(Tenant.code == code, Tenant.active.is_(True))).scalar_one_or_none()
    if tenant is None:
        abort(404)
    set_request_tenant(tenant.id)
    return tenant


def _tenant_etag(tenant, *extra):
    return public_etag(tenant.id, *publication_fingerprint(), *extra)


def _published():
    return select(Disclosure).where(Disclosure.published_at.is_not(None))


def _newest_first(stmt):
    return stmt.order_by(Disclosure.published_at.desc(), Disclosure.id.desc())


def _policy_links():
    written = {p.slug: p.title for p in db.session.execute(select(PolicyPage)).scalars()}
    return [(slug, written.get(slug) or POLICY_TITLES[slug]) for slug in POLICY_SLUGS]


@bp.route("/")
def index():
    tenants = db.session.execute(select(Tenant).where(Tenant.active.is_(True)).order_by(Tenant.code)).scalars().all()
    etag = public_etag(*[(t.id, t.code, t.name) for t in tenants])
    return conditional(etag, lambda: render_template("public/index.html", tenants=tenants))


@bp.route("/<code>/")
def tenant_home(code):
    """The bureau's latest notices (of one kind with ``?kind=``), the lists by kind with their
    counts, the search form and the policy pages."""
    tenant = load_public_tenant(code)

    def render():
        search = parse_search(request.args)
        latest = _newest_first(_published())
        if search.kind:
            latest = latest.where(Disclosure.kind == search.kind)
        counts = dict(db.session.execute(select(Disclosure.kind, func.count()).where(
            Disclosure.published_at.is_not(None)).group_by(Disclosure.kind)).all())
        return render_template("public/tenant_home.html", tenant=tenant, search=search,
                               latest=db.session.execute(latest.limit(LATEST)).scalars().all(),
                               counts=counts, kind_labels=KIND_LABELS, policies=_policy_links())
    return conditional(_tenant_etag(tenant), render)


def search_notices(search):
    """The published notices matching ``search`` (every word in the title or the body, the
    kind, the published day in Beijing time), newest first."""
    stmt = _newest_first(_published())
    for word in search.words:
        pattern = like_pattern(word)
        stmt = stmt.where(or_(Disclosure.title.ilike(pattern, escape="\\"),
                              Disclosure.body.ilike(pattern, escape="\\")))
    if search.kind:
        stmt = stmt.where(Disclosure.kind == search.kind)
    if search.start:
        stmt = stmt.where(Disclosure.published_at >= local_midnight_utc(search.start))
    if search.end:
        stmt = stmt.where(Disclosure.published_at < local_midnight_utc(search.end + timedelta(days=1)))
    return stmt


@bp.route("/<code>/notices")
def notices(code):
    tenant = load_public_tenant(code)

    def render():
        search = parse_search(request.args)
        page = paginate(search_notices(search), per_page=PER_PAGE)
        return render_template("public/notices.html", tenant=tenant, search=search, page=page,
                               kind_labels=KIND_LABELS, policies=_policy_links())
    return conditional(_tenant_etag(tenant), render)


@bp.route("/<code>/notices/<int:disclosure_id>")
def notice(code, disclosure_id):
    tenant = load_public_tenant(code)
    disclosure = db.session.execute(_published().where(Disclosure.id == disclosure_id)).scalar_one_or_none()
    if disclosure is None:
        abort(404)
    corrected_by = correction_of(disclosure)  # an award result cancelled after an upheld challenge
    return conditional(_tenant_etag(tenant), lambda: render_template(
        "public/notice.html", tenant=tenant, notice=disclosure, kind_labels=KIND_LABELS,
        policies=_policy_links(), corrected_by=corrected_by, sections=notice_sections(disclosure.body),
        attachments=_attachments(tenant, disclosure)))


def _attachments(tenant, disclosure):
    """The files a notice publishes, each with its name, type and size (the tender documents of
    an award result)."""
    named = (disclosure.data or {}).get("tender_documents")
    stored = db.session.get(StoredFile, named["file_id"]) if named and named.get("file_id") else None
    if stored is None:
        return []
    name = named.get("name") or stored.original_name
    return [{"name": name, "type": file_type(stored.content_type, name), "size": file_size(stored.size),
             "url": url_for("public.notice_documents", code=tenant.code, disclosure_id=disclosure.id)}]


@bp.route("/<code>/notices/<int:disclosure_id>/documents")
def notice_documents(code, disclosure_id):
    """The tender documents published with an award result (87号令 §69): the file the published
    notice names, and no other."""
    load_public_tenant(code)
    disclosure = db.session.execute(_published().where(Disclosure.id == disclosure_id)).scalar_one_or_none()
    named = (disclosure.data or {}).get("tender_documents") if disclosure is not None else None
    stored = db.session.get(StoredFile, named["file_id"]) if named else None
    if stored is None:
        abort(404)
    return serve(stored)


@bp.route("/<code>/feed.atom")
def feed(code):
    tenant = load_public_tenant(code)

    def render():
        latest = db.session.execute(_newest_first(_published()).limit(FEED_SIZE)).scalars().all()
        updated = latest[0].published_at if latest else utcnow()
        body = atom_feed(tenant, latest, KIND_LABELS, f"{tenant.name} · {_l('Open information')}", updated,
                         stylesheet=url_for("public.feed_stylesheet"))
        return current_app.response_class(body, mimetype="application/atom+xml")
    return conditional(_tenant_etag(tenant), render)


@bp.route("/feed.xsl")
def feed_stylesheet():
    """The stylesheet a browser applies to the Atom feed (named in it), so that opening the feed
    shows a readable page explaining what a subscription is instead of raw XML."""
    body = render_template("public/feed_xsl.xml")
    response = current_app.response_class(body, mimetype="text/xsl")
    response.vary.add("Cookie")
    return response


@bp.route("/<code>/subscribe")
def subscribe(code):
    """What a subscription is and how to use the feed's address: the page the site's visible
    "subscribe" links open (the feed itself is XML for feed readers, named in every page's head)."""
    tenant = load_public_tenant(code)
    return conditional(_tenant_etag(tenant), lambda: render_template(
        "public/subscribe.html", tenant=tenant, policies=_policy_links()))


@bp.route("/<code>/guides")
def guides(code):
    """办事指南: the bureau's guides (how to apply for assistance) and its number to call."""
    tenant = load_public_tenant(code)
    return conditional(_tenant_etag(tenant), lambda: render_template(
        "public/guides.html", tenant=tenant, policies=_policy_links()))


@bp.route("/<code>/policies/<slug>")
def policy(code, slug):
    tenant = load_public_tenant(code)
    if slug not in POLICY_SLUGS:
        abort(404)
    page = policy_page(slug)
    return conditional(_tenant_etag(tenant), lambda: render_template(
        "public/policy.html", tenant=tenant, slug=slug, page=page, default_title=POLICY_TITLES[slug],
        policies=_policy_links()))
